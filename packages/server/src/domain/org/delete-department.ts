import { EnclaveError } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { departmentIdOf } from './present-department.ts';

/**
 * Delete a department. Refused while it has child departments, or people unless `moveMembersTo`
 * names where their posts go (a person already holding a post there keeps that one, primary if the
 * moved post was).
 */
export async function deleteDepartment(deps: Deps, uid: string, moveMembersTo?: string): Promise<void> {
  await deps.org.exclusive(async () => {
    const id = departmentIdOf(deps, uid);
    const target = moveMembersTo === undefined ? null : departmentIdOf(deps, moveMembersTo);
    if (target === id)
      throw new EnclaveError('validation_failed', 'Members cannot move to the department being deleted.');
    const moved = await deps.store.db.transaction().execute(async (trx) => {
      const child = await trx.selectFrom('departments').select('id').where('parent_id', '=', id).executeTakeFirst();
      if (child) throw new EnclaveError('department_not_empty', 'The department still has sub-departments.');
      const posts = await trx
        .selectFrom('posts')
        .select(['user_id', 'is_primary'])
        .where('department_id', '=', id)
        .execute();
      if (posts.length && target === null)
        throw new EnclaveError('department_not_empty', 'The department still has people; name where they move.');
      const users = posts.map((p) => Number(p.user_id));
      for (let i = 0; i < users.length && target !== null; i += 500) {
        const chunk = users.slice(i, i + 500);
        const already = new Set(
          (
            await trx
              .selectFrom('posts')
              .select('user_id')
              .where('department_id', '=', target)
              .where('user_id', 'in', chunk)
              .execute()
          ).map((r) => Number(r.user_id)),
        );
        const fresh = chunk.filter((u) => !already.has(u));
        if (fresh.length)
          await trx
            .updateTable('posts')
            .set({ department_id: target })
            .where('department_id', '=', id)
            .where('user_id', 'in', fresh)
            .execute();
        const primaryDup = posts
          .filter((p) => already.has(Number(p.user_id)) && Number(p.is_primary))
          .map((p) => Number(p.user_id));
        if (primaryDup.length)
          await trx
            .updateTable('posts')
            .set({ is_primary: 1 })
            .where('department_id', '=', target)
            .where('user_id', 'in', primaryDup)
            .execute();
      }
      await trx.deleteFrom('posts').where('department_id', '=', id).execute();
      await trx.deleteFrom('dept_closure').where('descendant_id', '=', id).execute();
      await trx.deleteFrom('departments').where('id', '=', id).execute();
      if (users.length)
        await trx.updateTable('users').set({ updated_at: deps.now() }).where('id', 'in', users).execute();
      return users;
    });
    for (const u of moved) {
      const next = new Set(deps.org.postsOfUser(u));
      next.delete(id);
      if (target !== null) next.add(target);
      deps.org.setPosts(u, next);
    }
    deps.org.removeDepartment(id);
    await deps.people.refreshUsers(moved);
    deps.log.info({ department: uid, movedPeople: moved.length }, 'department deleted');
  });
}
