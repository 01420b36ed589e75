import type { Deps } from '../deps.ts';
import { presentPeople } from '../people/present-people.ts';
import { exportHeaders } from './org-table.ts';

/**
 * The organisation as import reads it: a header row, then one row per post (a person without a post
 * gets one row without a department), enabled people only, in tree order then by name. Department
 * paths are the names from the top joined by '/'.
 */
export async function exportOrg(deps: Deps): Promise<string[][]> {
  const rows: string[][] = [Object.values(exportHeaders)];
  const ids = (
    await deps.store.bulk.selectFrom('users').select('id').where('disabled', '=', 0).orderBy('id').execute()
  ).map((r) => Number(r.id));
  const pathOf = (uid: string) =>
    deps.org
      .pathOf(deps.org.departmentIdOf(uid)!)
      .map((d) => d.name)
      .join('/');
  for (let i = 0; i < ids.length; i += 500) {
    const people = await presentPeople(deps, ids.slice(i, i + 500));
    for (const p of people.values()) {
      const base = [p.username, p.displayName, p.employeeNo ?? ''];
      const tail = [p.phone ?? '', p.email ?? ''];
      if (!p.posts.length) rows.push([...base, '', p.title, ...tail, '']);
      for (const post of p.posts)
        rows.push([...base, pathOf(post.departmentId), post.title, ...tail, post.primary ? '是' : '']);
    }
  }
  return rows;
}
