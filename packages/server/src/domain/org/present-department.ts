import { EnclaveError, type Department } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import type { DepartmentNode, VisibilityView } from './org-index.ts';

/** A department as a viewer sees it: headcounts are distinct people in the subtree, per view. */
export function presentDepartment(deps: Deps, node: Readonly<DepartmentNode>, view: VisibilityView): Department {
  const parentUid = node.parentId === null ? null : (deps.org.departmentUidOf(node.parentId) ?? null);
  return {
    id: node.uid as Department['id'],
    parentId: parentUid as Department['parentId'],
    name: node.name,
    order: node.order,
    depth: node.depth,
    childCount: node.children.size,
    total: deps.org.total(node.id, view),
    online: deps.onlineCount?.(node.id) ?? 0,
  };
}

/** Internal id of a department by public id; department_not_found when unknown. */
export function departmentIdOf(deps: Deps, uid: string): number {
  const id = deps.org.departmentIdOf(uid);
  if (id === undefined) throw new EnclaveError('department_not_found');
  return id;
}
