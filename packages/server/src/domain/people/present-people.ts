import { EnclaveError, type Person, type Post } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { toUser } from '../directory.ts';
import type { Executor } from '../../store/dialect.ts';

/**
 * The one place a user row with posts becomes a `Person`: profile, posts (primary first) with
 * department names from the org index, the primary post's title, and presence from the presence
 * engine. Two statements for any number of people.
 */
export async function presentPeople(
  deps: Deps,
  userIds: Iterable<number>,
  exec: Executor = deps.store.reader,
): Promise<Map<number, Person>> {
  const ids = [...new Set(userIds)];
  const out = new Map<number, Person>();
  if (!ids.length) return out;
  const rows: Awaited<ReturnType<typeof selectRows>> = [];
  const posts: Awaited<ReturnType<typeof selectPosts>> = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    rows.push(...(await selectRows(exec, chunk)));
    posts.push(...(await selectPosts(exec, chunk)));
  }
  const postsBy = new Map<number, Post[]>();
  for (const p of posts) {
    const dept = deps.org.get(Number(p.department_id));
    if (!dept) continue;
    const list = postsBy.get(Number(p.user_id)) ?? [];
    list.push({
      departmentId: dept.uid as Post['departmentId'],
      departmentName: dept.name,
      title: p.title,
      primary: !!Number(p.is_primary),
      order: Number(p.sort_order),
    });
    postsBy.set(Number(p.user_id), list);
  }
  for (const r of rows) {
    const id = Number(r.id);
    const list = (postsBy.get(id) ?? []).sort((a, b) => Number(b.primary) - Number(a.primary));
    const disabled = !!Number(r.disabled);
    out.set(id, {
      ...toUser(r),
      title: list.find((p) => p.primary)?.title ?? list[0]?.title ?? '',
      phone: r.phone,
      email: r.email,
      avatarId: r.avatar_id,
      employeeNo: r.employee_no,
      posts: list,
      presence: disabled ? 'offline' : (deps.presenceOf?.(id) ?? 'offline'),
    });
  }
  return out;
}

/** One person by internal id; user_not_found when absent. */
export async function presentPerson(deps: Deps, userId: number, exec?: Executor): Promise<Person> {
  const p = (await presentPeople(deps, [userId], exec)).get(userId);
  if (!p) throw new EnclaveError('user_not_found');
  return p;
}

/** People in the given order, skipping any that no longer exist. */
export async function presentList(deps: Deps, userIds: number[]): Promise<Person[]> {
  const map = await presentPeople(deps, userIds);
  return userIds.map((id) => map.get(id)).filter((p): p is Person => !!p);
}

function selectRows(exec: Executor, ids: number[]) {
  return exec
    .selectFrom('users')
    .select(['id', 'uid', 'username', 'display_name', 'role', 'disabled', 'phone', 'email', 'avatar_id', 'employee_no'])
    .where('id', 'in', ids)
    .execute();
}

function selectPosts(exec: Executor, ids: number[]) {
  return exec
    .selectFrom('posts')
    .select(['user_id', 'department_id', 'title', 'is_primary', 'sort_order', 'created_at'])
    .where('user_id', 'in', ids)
    .orderBy('created_at')
    .execute();
}
