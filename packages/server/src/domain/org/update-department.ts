import { EnclaveError, type Department } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import type { Trx } from '../../store/dialect.ts';
import { everyone } from './org-index.ts';
import { departmentIdOf, presentDepartment } from './present-department.ts';

export interface DepartmentPatch {
  departmentId: string;
  name?: string | undefined;
  order?: number | undefined;
  /** Move under this parent (null: to the top) with the whole subtree. */
  parentId?: string | null | undefined;
}

/** Rename, reorder or move a department with its subtree; a move under its own subtree is refused. */
export async function updateDepartment(deps: Deps, patch: DepartmentPatch): Promise<Department> {
  return deps.org.exclusive(async () => {
    const id = departmentIdOf(deps, patch.departmentId);
    const node = deps.org.get(id)!;
    const renamed = patch.name !== undefined && patch.name !== node.name;
    const target =
      patch.parentId === undefined ? undefined : patch.parentId === null ? null : departmentIdOf(deps, patch.parentId);
    const moving = target !== undefined && target !== node.parentId;
    if (moving && target !== null && deps.org.subtree(id).includes(target)) throw new EnclaveError('department_cycle');
    let order = patch.order;
    if (moving && order === undefined) {
      const siblings = deps.org.childrenOf(target);
      order = siblings.length ? Math.max(...siblings.map((s) => s.order)) + 1 : 0;
    }
    await deps.store.db.transaction().execute(async (trx) => {
      const set: { updated_at: number; name?: string; sort_order?: number } = { updated_at: deps.now() };
      if (patch.name !== undefined) set.name = patch.name;
      if (order !== undefined) set.sort_order = order;
      await trx.updateTable('departments').set(set).where('id', '=', id).execute();
      if (moving) await moveSubtree(trx, id, target);
    });
    deps.org.renameDepartment(id, { ...(patch.name !== undefined ? { name: patch.name } : {}), order });
    if (moving) deps.org.moveDepartment(id, target);
    // People are found by their departments' names: re-key the ones holding posts here.
    if (renamed) await deps.people.refreshUsers(node.members);
    deps.log.info({ department: patch.departmentId, ...patch }, 'department updated');
    return presentDepartment(deps, deps.org.get(id)!, everyone);
  });
}

/**
 * Re-hang a subtree in the closure table: drop the pairs (old ancestor, subtree node), add
 * (new ancestor, subtree node) for every new ancestor, and fix the stored depths. Lists are read
 * first and written with explicit ids: MySQL cannot delete from a table it reads in a sub-query.
 */
async function moveSubtree(trx: Trx, id: number, parentId: number | null): Promise<void> {
  if (parentId !== null) {
    const cycle = await trx
      .selectFrom('dept_closure')
      .select('depth')
      .where('ancestor_id', '=', id)
      .where('descendant_id', '=', parentId)
      .executeTakeFirst();
    if (cycle) throw new EnclaveError('department_cycle');
  }
  const subtree = (
    await trx.selectFrom('dept_closure').select(['descendant_id', 'depth']).where('ancestor_id', '=', id).execute()
  ).map((r) => ({ id: Number(r.descendant_id), depth: Number(r.depth) }));
  const oldAbove = (
    await trx
      .selectFrom('dept_closure')
      .select('ancestor_id')
      .where('descendant_id', '=', id)
      .where('ancestor_id', '<>', id)
      .execute()
  ).map((r) => Number(r.ancestor_id));
  const newAbove =
    parentId === null
      ? []
      : (
          await trx
            .selectFrom('dept_closure')
            .select(['ancestor_id', 'depth'])
            .where('descendant_id', '=', parentId)
            .execute()
        ).map((r) => ({ id: Number(r.ancestor_id), depth: Number(r.depth) }));
  const parentDepth =
    parentId === null
      ? -1
      : Number(
          (await trx.selectFrom('departments').select('depth').where('id', '=', parentId).executeTakeFirstOrThrow())
            .depth,
        );
  for (let i = 0; i < subtree.length; i += 500) {
    const ids = subtree.slice(i, i + 500).map((s) => s.id);
    if (oldAbove.length)
      await trx
        .deleteFrom('dept_closure')
        .where('descendant_id', 'in', ids)
        .where('ancestor_id', 'in', oldAbove)
        .execute();
  }
  const rows = newAbove.flatMap((a) =>
    subtree.map((s) => ({ ancestor_id: a.id, descendant_id: s.id, depth: a.depth + s.depth + 1 })),
  );
  for (let i = 0; i < rows.length; i += 500)
    await trx
      .insertInto('dept_closure')
      .values(rows.slice(i, i + 500))
      .execute();
  const byDepth = new Map<number, number[]>();
  for (const s of subtree) byDepth.set(s.depth, [...(byDepth.get(s.depth) ?? []), s.id]);
  for (const [rel, ids] of byDepth)
    for (let i = 0; i < ids.length; i += 500)
      await trx
        .updateTable('departments')
        .set({ depth: parentDepth + 1 + rel })
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
  await trx.updateTable('departments').set({ parent_id: parentId }).where('id', '=', id).execute();
}
