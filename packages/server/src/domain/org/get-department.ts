import type { Department, Person } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { presentPeople } from '../people/present-people.ts';
import { compareNames } from './org-index.ts';
import { departmentIdOf, presentDepartment } from './present-department.ts';
import { viewOf } from './view-of.ts';

/** Child departments of a department (the top level without one), by order then name. */
export function listDepartments(deps: Deps, viewer: Viewer, parentUid: string | undefined): Department[] {
  const view = viewOf(viewer);
  const parentId = parentUid === undefined ? null : departmentIdOf(deps, parentUid);
  return deps.org.childrenOf(parentId).map((d) => presentDepartment(deps, d, view));
}

export interface DepartmentDetail {
  department: Department;
  path: Department[];
  children: Department[];
  people: Person[];
}

/** One department: its path from the top, its children, and the people holding a post in it. */
export async function getDepartment(deps: Deps, viewer: Viewer, uid: string): Promise<DepartmentDetail> {
  const view = viewOf(viewer);
  const id = departmentIdOf(deps, uid);
  const node = deps.org.get(id)!;
  const members = [...node.members].filter((u) => deps.org.isActive(u) && view.canSee(u));
  const people = [...(await presentPeople(deps, members)).values()];
  const orderIn = (p: Person) => p.posts.find((x) => x.departmentId === node.uid)?.order ?? 0;
  people.sort((a, b) => orderIn(a) - orderIn(b) || compareNames(a.displayName, b.displayName));
  return {
    department: presentDepartment(deps, node, view),
    path: deps.org
      .pathOf(id)
      .slice(0, -1)
      .map((d) => presentDepartment(deps, d, view)),
    children: deps.org.childrenOf(id).map((d) => presentDepartment(deps, d, view)),
    people,
  };
}
