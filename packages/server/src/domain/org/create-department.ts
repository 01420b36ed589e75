import type { Department } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { insertReturningId, uidToDb } from '../../store/dialect.ts';
import { newUid } from '../../lib/ids.ts';
import { everyone } from './org-index.ts';
import { departmentIdOf, presentDepartment } from './present-department.ts';

export interface NewDepartment {
  name: string;
  parentId: string | null;
  order?: number | undefined;
}

/** Create a department under a parent (or at the top); without an order it goes last among its siblings. */
export async function createDepartment(deps: Deps, input: NewDepartment): Promise<Department> {
  return deps.org.exclusive(async () => {
    const parentId = input.parentId === null ? null : departmentIdOf(deps, input.parentId);
    const siblings = deps.org.childrenOf(parentId);
    const order = input.order ?? (siblings.length ? Math.max(...siblings.map((s) => s.order)) + 1 : 0);
    const parentDepth = parentId === null ? -1 : deps.org.get(parentId)!.depth;
    const uid = newUid();
    const now = deps.now();
    const { kind } = deps.store;
    const id = await deps.store.db.transaction().execute(async (trx) => {
      const id = await insertReturningId(kind, trx, 'departments', {
        uid: uidToDb(kind, uid),
        parent_id: parentId,
        name: input.name,
        sort_order: order,
        depth: parentDepth + 1,
        created_at: now,
        updated_at: now,
      });
      const above =
        parentId === null
          ? []
          : await trx
              .selectFrom('dept_closure')
              .select(['ancestor_id', 'depth'])
              .where('descendant_id', '=', parentId)
              .execute();
      await trx
        .insertInto('dept_closure')
        .values([
          { ancestor_id: id, descendant_id: id, depth: 0 },
          ...above.map((a) => ({ ancestor_id: Number(a.ancestor_id), descendant_id: id, depth: Number(a.depth) + 1 })),
        ])
        .execute();
      return id;
    });
    deps.org.addDepartment({ id, uid, parentId, name: input.name, order });
    deps.log.info({ department: uid, name: input.name }, 'department created');
    return presentDepartment(deps, deps.org.get(id)!, everyone);
  });
}
