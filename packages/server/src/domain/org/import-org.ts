import crypto from 'node:crypto';
import { z } from 'zod';
import { EnclaveError, limits } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { createUser } from '../accounts/create-user.ts';
import { presentPerson } from '../people/present-people.ts';
import { createDepartment } from './create-department.ts';
import { mapHeader, type Column } from './org-table.ts';
import { setPosts, type PostSpec } from './set-posts.ts';
import { updateProfile, type ProfilePatch } from './update-profile.ts';

export interface ImportRowError {
  /** Row number as a spreadsheet shows it (the header is row 1). */
  row: number;
  code: string;
  message: string;
}

export interface ImportSummary {
  dryRun: boolean;
  rows: number;
  people: number;
  created: number;
  updated: number;
  unchanged: number;
  departmentsCreated: number;
  errors: ImportRowError[];
  /** Initial passwords of the people created without a password column: shown once. */
  passwords: { username: string; password: string }[];
}

type Cells = Partial<Record<Column, string>>;
interface Row {
  n: number;
  cells: Cells;
  path: string[];
  primary: boolean;
}

const email = z.email();
const phone = /^[0-9+\-() ]{0,32}$/;
const yes = new Set(['1', 'y', 'yes', 'true', '是', '主', '主岗', '√', '✓', 'x']);

/**
 * Import people and departments from table rows (header first). One row per post; people are matched
 * by employee number, then username, so a re-import updates instead of duplicating. A bad row is
 * reported with its number and never stops the rest. A dry run writes nothing and reports what would
 * happen.
 */
export async function importOrg(
  deps: Deps,
  table: string[][],
  opts: { dryRun: boolean; onProgress?: (done: number, total: number) => void },
): Promise<ImportSummary> {
  const [header, ...data] = table;
  if (!header) throw new EnclaveError('validation_failed', 'The file is empty: a header row is required.');
  const { index } = mapHeader(header);
  if (index.displayName === undefined || (index.username === undefined && index.employeeNo === undefined))
    throw new EnclaveError(
      'validation_failed',
      'The header needs 姓名/displayName and 用户名/username or 工号/employeeNo.',
    );
  const summary: ImportSummary = {
    dryRun: opts.dryRun,
    rows: 0,
    people: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    departmentsCreated: 0,
    errors: [],
    passwords: [],
  };
  const groups = new Map<string, Row[]>();
  data.forEach((raw, i) => {
    if (raw.every((c) => !c?.trim())) return;
    summary.rows++;
    const cells: Cells = {};
    for (const [col, at] of Object.entries(index) as [Column, number][]) cells[col] = (raw[at] ?? '').trim();
    const row = {
      n: i + 2,
      cells,
      path: splitPath(cells.department ?? ''),
      primary: yes.has((cells.primary ?? '').toLowerCase()),
    };
    const problem = validate(row);
    if (problem) return summary.errors.push({ row: row.n, code: 'validation_failed', message: problem });
    const key = cells.employeeNo ? `e:${cells.employeeNo}` : `u:${cells.username!.toLowerCase()}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  });
  const planned = new Set<string>();
  let done = 0;
  for (const rows of groups.values()) {
    try {
      await importPerson(deps, index, rows, opts.dryRun, planned, summary);
    } catch (e) {
      const code = e instanceof EnclaveError ? e.code : 'internal_error';
      const message = e instanceof Error ? e.message : String(e);
      for (const r of rows) summary.errors.push({ row: r.n, code, message });
      if (!(e instanceof EnclaveError)) deps.log.error({ err: e }, 'import row failed');
    }
    opts.onProgress?.(++done, groups.size);
  }
  summary.people = groups.size;
  summary.errors.sort((a, b) => a.row - b.row);
  return summary;
}

function splitPath(p: string): string[] {
  return p
    .split(/[/／\\>]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function validate(r: Row): string | null {
  const c = r.cells;
  if (!c.displayName) return 'missing name (姓名)';
  if (c.displayName.length > limits.maxNameChars) return 'name too long';
  if (!c.username && !c.employeeNo) return 'missing username (用户名) or employee number (工号)';
  if (c.username && !new RegExp(limits.usernamePattern).test(c.username.toLowerCase()))
    return `bad username "${c.username}": 2–32 letters, digits, dot, dash or underscore`;
  if (c.email && !email.safeParse(c.email).success) return `bad email "${c.email}"`;
  if (c.phone && !phone.test(c.phone)) return `bad phone "${c.phone}"`;
  if ((c.employeeNo ?? '').length > 64) return 'employee number too long';
  if (r.path.some((s) => s.length > limits.maxNameChars)) return 'department name too long';
  return null;
}

async function importPerson(
  deps: Deps,
  index: Partial<Record<Column, number>>,
  rows: Row[],
  dryRun: boolean,
  planned: Set<string>,
  summary: ImportSummary,
): Promise<void> {
  const first = rows[0]!.cells;
  const existingId = await findExisting(deps, first);
  // Profile fields present in the file; an empty cell clears the field.
  const patch: ProfilePatch = { displayName: first.displayName! };
  if (index.phone !== undefined) patch.phone = first.phone || null;
  if (index.email !== undefined) patch.email = first.email || null;
  if (index.employeeNo !== undefined) patch.employeeNo = first.employeeNo || null;
  const withDept = rows.filter((r) => r.path.length);
  const primaryAt = Math.max(
    0,
    withDept.findIndex((r) => r.primary),
  );
  const wanted: { deptId: number | null; pathKey: string; title: string; primary: boolean }[] = [];
  for (const [i, r] of withDept.entries()) {
    const deptId = await resolvePath(deps, r.path, dryRun, planned, summary);
    wanted.push({ deptId, pathKey: r.path.join('/'), title: r.cells.title ?? '', primary: i === primaryAt });
  }
  const specs = (orderOf: (deptId: number) => number): PostSpec[] =>
    wanted.map((w) => ({
      departmentId: deps.org.departmentUidOf(w.deptId!)!,
      title: w.title,
      primary: w.primary,
      order: orderOf(w.deptId!),
    }));

  if (existingId === null) {
    summary.created++;
    if (dryRun) return;
    const username = (first.username || first.employeeNo!).toLowerCase();
    const password = first.password || randomPassword();
    const user = await createUser(deps, {
      username,
      displayName: first.displayName!,
      password,
      mustChangePassword: true,
    });
    if (!first.password) summary.passwords.push({ username, password });
    await updateProfile(deps, user.id, patch, 'admin');
    if (wanted.length)
      await setPosts(
        deps,
        user.id,
        specs(() => 0),
      );
    return;
  }
  const uid = await deps.directory.uidOf(existingId);
  const now = await presentPerson(deps, existingId);
  const profileChanged =
    now.displayName !== patch.displayName ||
    (patch.phone !== undefined && now.phone !== patch.phone) ||
    (patch.email !== undefined && now.email !== patch.email) ||
    (patch.employeeNo !== undefined && now.employeeNo !== patch.employeeNo);
  const current = new Map(now.posts.map((p) => [p.departmentId as string, p]));
  const postsChanged =
    wanted.length > 0 &&
    (wanted.length !== current.size ||
      wanted.some((w) => {
        const p = w.deptId === null ? undefined : current.get(deps.org.departmentUidOf(w.deptId)!);
        return !p || p.title !== w.title || p.primary !== w.primary;
      }));
  if (!profileChanged && !postsChanged) {
    summary.unchanged++;
    return;
  }
  summary.updated++;
  if (dryRun) return;
  if (profileChanged) await updateProfile(deps, uid, patch, 'admin');
  if (postsChanged) {
    const orders = new Map(now.posts.map((p) => [deps.org.departmentIdOf(p.departmentId), p.order]));
    await setPosts(
      deps,
      uid,
      specs((d) => orders.get(d) ?? 0),
    );
  }
}

/** Match by employee number, then by username. */
async function findExisting(deps: Deps, c: Cells): Promise<number | null> {
  const db = deps.store.reader;
  if (c.employeeNo) {
    const r = await db.selectFrom('users').select('id').where('employee_no', '=', c.employeeNo).executeTakeFirst();
    if (r) return Number(r.id);
  }
  if (c.username) {
    const r = await db
      .selectFrom('users')
      .select('id')
      .where('username', '=', c.username.toLowerCase())
      .executeTakeFirst();
    if (r) return Number(r.id);
  }
  return null;
}

/** The department at this path, created when missing (in a dry run: counted, not created → null). */
async function resolvePath(
  deps: Deps,
  path: string[],
  dryRun: boolean,
  planned: Set<string>,
  summary: ImportSummary,
): Promise<number | null> {
  let parent: number | null = null;
  for (let i = 0; i < path.length; i++) {
    const found = deps.org.childNamed(parent, path[i]!);
    if (found) {
      parent = found.id;
      continue;
    }
    if (dryRun) {
      for (let j = i; j < path.length; j++) {
        const key = path.slice(0, j + 1).join('/');
        if (!planned.has(key)) summary.departmentsCreated++;
        planned.add(key);
      }
      return null;
    }
    const parentUid: string | null = parent === null ? null : deps.org.departmentUidOf(parent)!;
    const d = await createDepartment(deps, { name: path[i]!, parentId: parentUid });
    summary.departmentsCreated++;
    parent = deps.org.departmentIdOf(d.id)!;
  }
  return parent;
}

/** 16 characters from an unambiguous alphabet (no 0/O, 1/l/I). */
function randomPassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(crypto.randomBytes(16), (b) => alphabet[b % alphabet.length]).join('');
}
