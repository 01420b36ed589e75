import { EnclaveError, type Person } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { presentPerson } from '../people/present-people.ts';
import { departmentIdOf } from './present-department.ts';

export interface PostSpec {
  departmentId: string;
  title: string;
  primary: boolean;
  order: number;
}

/**
 * Replace a person's posts (一人多岗). Exactly one is primary: the one marked, else the first; two
 * marked is refused. Headcounts of the departments involved change incrementally.
 */
export async function setPosts(deps: Deps, userUid: string, posts: PostSpec[]): Promise<Person> {
  const userId = await deps.directory.idOf(userUid);
  return deps.org.exclusive(async () => {
    const deptIds = posts.map((p) => departmentIdOf(deps, p.departmentId));
    if (new Set(deptIds).size !== deptIds.length)
      throw new EnclaveError('validation_failed', 'A person holds at most one post per department.');
    const marked = posts.filter((p) => p.primary).length;
    if (marked > 1) throw new EnclaveError('validation_failed', 'Only one post can be primary.');
    const primaryAt = marked ? posts.findIndex((p) => p.primary) : 0;
    const now = deps.now();
    await deps.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('posts').where('user_id', '=', userId).execute();
      if (posts.length)
        await trx
          .insertInto('posts')
          .values(
            posts.map((p, i) => ({
              user_id: userId,
              department_id: deptIds[i]!,
              title: p.title,
              is_primary: i === primaryAt ? 1 : 0,
              sort_order: p.order,
              // The listing order of a person's posts is the order they were given in.
              created_at: now + i,
            })),
          )
          .execute();
      await trx.updateTable('users').set({ updated_at: now }).where('id', '=', userId).execute();
    });
    deps.org.setPosts(userId, deptIds);
    await deps.people.refreshUsers([userId]);
    return presentPerson(deps, userId);
  });
}
