import type { HandlerTable } from '../handlers.ts';
import { createDepartment } from '../../domain/org/create-department.ts';
import { deleteDepartment } from '../../domain/org/delete-department.ts';
import { getDepartment, listDepartments } from '../../domain/org/get-department.ts';
import { setPosts } from '../../domain/org/set-posts.ts';
import { updateDepartment } from '../../domain/org/update-department.ts';
import { updateProfile } from '../../domain/org/update-profile.ts';
import { getPerson } from '../../domain/people/get-person.ts';

/** Organisation tree, posts and profiles: each op calls one function in domain/org/. */
export const orgHandlers: Pick<
  HandlerTable,
  | 'org.departments'
  | 'org.department'
  | 'admin.department.create'
  | 'admin.department.update'
  | 'admin.department.delete'
  | 'admin.person.setPosts'
  | 'admin.person.update'
  | 'people.get'
  | 'people.updateMe'
> = {
  'org.departments': async ({ deps, viewer }, i) => ({ items: listDepartments(deps, viewer, i.parentId) }),
  'org.department': async ({ deps, viewer }, i) => getDepartment(deps, viewer, i.departmentId),
  'admin.department.create': async ({ deps }, i) => createDepartment(deps, i),
  'admin.department.update': async ({ deps }, i) => updateDepartment(deps, i),
  'admin.department.delete': async ({ deps }, i) => (
    await deleteDepartment(deps, i.departmentId, i.moveMembersTo),
    { ok: true as const }
  ),
  'admin.person.setPosts': async ({ deps }, i) => setPosts(deps, i.userId, i.posts),
  'admin.person.update': async ({ deps }, { userId, ...patch }) => updateProfile(deps, userId, patch, 'admin'),
  'people.get': async ({ deps, viewer }, i) => getPerson(deps, viewer, i.userId),
  'people.updateMe': async ({ deps, viewer }, i) => updateProfile(deps, viewer.uid, i, 'self'),
};
