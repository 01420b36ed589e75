import type { Person } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { departmentIdOf } from '../org/present-department.ts';
import { viewOf } from '../org/view-of.ts';
import { presentPeople } from './present-people.ts';

export interface PeopleQuery {
  q: string;
  departmentId?: string | undefined;
  limit: number;
}

/**
 * Find people by name, pinyin, username, employee number, phone or department name, ranked
 * exact > prefix > substring then by name, within the viewer's visibility and (optionally) one
 * department's subtree. Disabled people never appear: the index skips them, and a person disabled
 * since the index last looked is caught when presented (fresh row) and the search runs again without
 * them.
 */
export async function searchPeople(deps: Deps, viewer: Viewer, input: PeopleQuery): Promise<Person[]> {
  await deps.people.catchUp();
  const view = viewOf(viewer);
  const departmentId = input.departmentId === undefined ? undefined : departmentIdOf(deps, input.departmentId);
  const exclude = new Set<number>();
  for (let attempt = 0; ; attempt++) {
    const ids = deps.people.search(input.q, { limit: input.limit, departmentId, view, exclude });
    const people = await presentPeople(deps, ids);
    const out: Person[] = [];
    let stale = false;
    for (const id of ids) {
      const p = people.get(id);
      if (p && !p.disabled) {
        out.push(p);
        continue;
      }
      stale = true;
      exclude.add(id);
      if (p) deps.people.markDisabled(id);
    }
    if (!stale || attempt >= 2) return out;
  }
}
