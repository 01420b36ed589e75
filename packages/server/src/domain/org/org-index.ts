import type { Store } from '../../store/store.ts';
import { uidFromDb } from '../../store/dialect.ts';

/**
 * Who a viewer may see (virtual organisation, M2.3). Headcounts are computed per view, so a person
 * hidden from a viewer never leaks through a department's total. Only `everyone` exists today.
 */
export type VisibilityView = { id: string; canSee(userId: number): boolean };
export const everyone: VisibilityView = { id: 'everyone', canSee: () => true };

/** Online people in a department's subtree (distinct persons); provided by the presence engine. */
export type OnlineCounter = (departmentId: number) => number;

/** Users whose `countedIn` changed and departments whose totals changed (or that appeared/disappeared). */
export interface OrgChange {
  users: number[];
  departments: number[];
}

export interface DepartmentNode {
  readonly id: number;
  readonly uid: string;
  parentId: number | null;
  name: string;
  order: number;
  depth: number;
  readonly children: Set<number>;
  /** Users holding a post directly in this department. */
  readonly members: Set<number>;
}

const nameCollator = new Intl.Collator('zh-Hans-CN-u-co-pinyin', { sensitivity: 'base', numeric: true });
export const compareNames = (a: string, b: string): number => nameCollator.compare(a, b);

/**
 * The organisation in memory: the department tree, who holds posts where, and distinct headcounts per
 * visibility view. Built in full at start (`load`); afterwards the domain functions that change
 * departments and posts call the mutators below after their transaction commits, and each mutator
 * touches only the people and departments involved (a move recounts the people of the moved
 * subtree, a post change recounts one person) — never a full rescan.
 *
 * Distinct counting: a user is in a department's total when the department is an ancestor
 * (inclusive) of any department they hold a post in. `countedIn(user)` is that set; totals are the
 * number of users whose set holds the department, so a person with two posts under one parent counts
 * once there.
 */
export class OrgIndex {
  private readonly depts = new Map<number, DepartmentNode>();
  private readonly byUid = new Map<string, number>();
  private readonly roots = new Set<number>();
  private readonly postsOf = new Map<number, Set<number>>();
  private readonly counted = new Map<number, Set<number>>();
  private readonly inactive = new Set<number>();
  private readonly views = new Map<string, { view: VisibilityView; totals: Map<number, number> }>();
  private readonly listeners = new Set<(c: OrgChange) => void>();
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: Store) {
    this.views.set(everyone.id, { view: everyone, totals: new Map() });
  }

  /**
   * Build everything from the store: by default on the bulk readers (worker threads on SQLite),
   * so a reload does not hold up the event loop; the server's first load, when nothing else is
   * waiting, reads inline instead of waiting for a worker thread to start.
   */
  async load(db = this.store.bulk): Promise<void> {
    const [depts, posts, disabled] = await Promise.all([
      db.selectFrom('departments').select(['id', 'uid', 'parent_id', 'name', 'sort_order', 'depth']).execute(),
      db.selectFrom('posts').select(['user_id', 'department_id']).execute(),
      db.selectFrom('users').select('id').where('disabled', '=', 1).execute(),
    ]);
    for (const m of [this.depts, this.byUid, this.postsOf, this.counted]) m.clear();
    this.roots.clear();
    this.inactive.clear();
    for (const d of disabled) this.inactive.add(Number(d.id));
    for (const r of depts) {
      const node: DepartmentNode = {
        id: Number(r.id),
        uid: uidFromDb(r.uid),
        parentId: r.parent_id === null ? null : Number(r.parent_id),
        name: r.name,
        order: Number(r.sort_order),
        depth: Number(r.depth),
        children: new Set(),
        members: new Set(),
      };
      this.depts.set(node.id, node);
      this.byUid.set(node.uid, node.id);
    }
    for (const d of this.depts.values()) {
      if (d.parentId === null || !this.depts.has(d.parentId)) this.roots.add(d.id);
      else this.depts.get(d.parentId)!.children.add(d.id);
    }
    for (const p of posts) {
      const userId = Number(p.user_id);
      const deptId = Number(p.department_id);
      const dept = this.depts.get(deptId);
      if (!dept) continue;
      dept.members.add(userId);
      let set = this.postsOf.get(userId);
      if (!set) this.postsOf.set(userId, (set = new Set()));
      set.add(deptId);
    }
    for (const userId of this.postsOf.keys()) this.counted.set(userId, this.computeCounted(userId));
    for (const v of this.views.values()) this.rebuildView(v);
  }

  /** Rebuild after changes made outside the domain functions (CLI, import on another process). */
  async reload(): Promise<void> {
    await this.load();
    this.emit({ users: [...this.counted.keys()], departments: [...this.depts.keys()] });
  }

  /** Run org writes one at a time on this node, so validation and the in-memory update stay in step. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  /* ---------- the contract the presence engine reads ---------- */

  departmentIdOf(uid: string): number | undefined {
    return this.byUid.get(uid);
  }

  departmentUidOf(id: number): string | undefined {
    return this.depts.get(id)?.uid;
  }

  /** Every department whose headcount includes the user (ancestors, inclusive, of each of their posts). */
  countedIn(userId: number): ReadonlySet<number> {
    return this.counted.get(userId) ?? emptySet;
  }

  /** Distinct people in the department's subtree as seen in `view`. */
  total(departmentId: number, view: VisibilityView = everyone): number {
    const registered = this.views.get(view.id);
    if (registered) return registered.totals.get(departmentId) ?? 0;
    // An unregistered view: count its visible people in the subtree now (distinct).
    const seen = new Set<number>();
    for (const d of this.subtree(departmentId))
      for (const u of this.depts.get(d)!.members) if (!this.inactive.has(u) && view.canSee(u)) seen.add(u);
    return seen.size;
  }

  onChange(listener: (c: OrgChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /* ---------- views ---------- */

  /** Keep incremental totals for a view (call again after its rules change to rebuild them). */
  registerView(view: VisibilityView): void {
    const v = { view, totals: new Map<number, number>() };
    this.views.set(view.id, v);
    this.rebuildView(v);
  }

  unregisterView(id: string): void {
    if (id !== everyone.id) this.views.delete(id);
  }

  /* ---------- reads for the domain ---------- */

  get(id: number): Readonly<DepartmentNode> | undefined {
    return this.depts.get(id);
  }

  /** Child departments (top level for null), by order then name. */
  childrenOf(parentId: number | null): DepartmentNode[] {
    const ids = parentId === null ? this.roots : (this.depts.get(parentId)?.children ?? emptySet);
    return [...ids].map((id) => this.depts.get(id)!).sort((a, b) => a.order - b.order || compareNames(a.name, b.name));
  }

  /** Ancestors from the top down to the department itself. */
  pathOf(id: number): DepartmentNode[] {
    const out: DepartmentNode[] = [];
    for (let d = this.depts.get(id); d; d = d.parentId === null ? undefined : this.depts.get(d.parentId)) out.push(d);
    return out.reverse();
  }

  /** The department and everything below it. */
  subtree(id: number): number[] {
    const out: number[] = [];
    const stack = this.depts.has(id) ? [id] : [];
    while (stack.length) {
      const d = stack.pop()!;
      out.push(d);
      for (const c of this.depts.get(d)!.children) stack.push(c);
    }
    return out;
  }

  /** Departments the user holds a post in. */
  postsOfUser(userId: number): ReadonlySet<number> {
    return this.postsOf.get(userId) ?? emptySet;
  }

  isActive(userId: number): boolean {
    return !this.inactive.has(userId);
  }

  /** A child name under this parent, or undefined. */
  childNamed(parentId: number | null, name: string): DepartmentNode | undefined {
    return this.childrenOf(parentId).find((d) => d.name === name);
  }

  get size(): number {
    return this.depts.size;
  }

  /* ---------- mutators: call after the write committed ---------- */

  addDepartment(d: { id: number; uid: string; parentId: number | null; name: string; order: number }): void {
    const parent = d.parentId === null ? undefined : this.depts.get(d.parentId);
    const node: DepartmentNode = {
      ...d,
      depth: parent ? parent.depth + 1 : 0,
      children: new Set(),
      members: new Set(),
    };
    this.depts.set(node.id, node);
    this.byUid.set(node.uid, node.id);
    if (parent) parent.children.add(node.id);
    else this.roots.add(node.id);
    this.emit({ users: [], departments: [node.id] });
  }

  renameDepartment(id: number, patch: { name?: string; order?: number }): void {
    const d = this.depts.get(id);
    if (!d) return;
    if (patch.name !== undefined) d.name = patch.name;
    if (patch.order !== undefined) d.order = patch.order;
  }

  /** Move a department with its subtree; recounts only the people holding posts inside it. */
  moveDepartment(id: number, parentId: number | null): void {
    const d = this.depts.get(id);
    if (!d || d.parentId === parentId) return;
    if (d.parentId === null) this.roots.delete(id);
    else this.depts.get(d.parentId)?.children.delete(id);
    d.parentId = parentId;
    const parent = parentId === null ? undefined : this.depts.get(parentId);
    if (parent) parent.children.add(id);
    else this.roots.add(id);
    const base = parent ? parent.depth + 1 : 0;
    const affected = new Set<number>();
    const stack: [number, number][] = [[id, base]];
    while (stack.length) {
      const [n, depth] = stack.pop()!;
      const node = this.depts.get(n)!;
      node.depth = depth;
      for (const u of node.members) affected.add(u);
      for (const c of node.children) stack.push([c, depth + 1]);
    }
    this.recount(affected);
  }

  /** Remove an empty department (no children, no posts: the caller moved them first). */
  removeDepartment(id: number): void {
    const d = this.depts.get(id);
    if (!d) return;
    const affected = [...d.members];
    for (const u of affected) this.postsOf.get(u)?.delete(id);
    for (const c of d.children) this.moveDepartment(c, d.parentId);
    if (d.parentId === null) this.roots.delete(id);
    else this.depts.get(d.parentId)?.children.delete(id);
    this.depts.delete(id);
    this.byUid.delete(d.uid);
    for (const v of this.views.values()) v.totals.delete(id);
    this.recount(affected, [id]);
  }

  /** Replace the departments a user holds posts in. */
  setPosts(userId: number, departmentIds: Iterable<number>): void {
    const next = new Set([...departmentIds].filter((d) => this.depts.has(d)));
    for (const d of this.postsOf.get(userId) ?? []) this.depts.get(d)?.members.delete(userId);
    for (const d of next) this.depts.get(d)!.members.add(userId);
    if (next.size) this.postsOf.set(userId, next);
    else this.postsOf.delete(userId);
    this.recount([userId]);
  }

  /** A disabled user leaves every headcount; enabling them returns them. */
  setActive(userId: number, active: boolean): void {
    if (active === !this.inactive.has(userId)) return;
    if (active) this.inactive.delete(userId);
    else this.inactive.add(userId);
    this.recount([userId]);
  }

  /* ---------- internals ---------- */

  private computeCounted(userId: number): Set<number> {
    const out = new Set<number>();
    if (this.inactive.has(userId)) return out;
    for (const start of this.postsOf.get(userId) ?? []) {
      for (
        let d = this.depts.get(start);
        d && !out.has(d.id);
        d = d.parentId === null ? undefined : this.depts.get(d.parentId)
      )
        out.add(d.id);
    }
    return out;
  }

  private recount(users: Iterable<number>, extraDepartments: number[] = []): void {
    const changedUsers: number[] = [];
    const changedDepts = new Set<number>(extraDepartments);
    for (const userId of users) {
      const before = this.counted.get(userId) ?? emptySet;
      const after = this.computeCounted(userId);
      const added = [...after].filter((d) => !before.has(d));
      const removed = [...before].filter((d) => !after.has(d));
      if (after.size) this.counted.set(userId, after);
      else this.counted.delete(userId);
      if (!added.length && !removed.length) continue;
      changedUsers.push(userId);
      for (const v of this.views.values()) {
        if (!v.view.canSee(userId)) continue;
        for (const d of added) v.totals.set(d, (v.totals.get(d) ?? 0) + 1);
        for (const d of removed) {
          const n = (v.totals.get(d) ?? 0) - 1;
          if (n > 0) v.totals.set(d, n);
          else v.totals.delete(d);
        }
      }
      for (const d of added) changedDepts.add(d);
      for (const d of removed) changedDepts.add(d);
    }
    this.emit({ users: changedUsers, departments: [...changedDepts] });
  }

  private rebuildView(v: { view: VisibilityView; totals: Map<number, number> }): void {
    v.totals.clear();
    for (const [userId, set] of this.counted) {
      if (!v.view.canSee(userId)) continue;
      for (const d of set) v.totals.set(d, (v.totals.get(d) ?? 0) + 1);
    }
  }

  private emit(c: OrgChange): void {
    for (const l of this.listeners) {
      try {
        l(c);
      } catch {
        /* a listener's failure must not break the write that already committed */
      }
    }
  }
}

const emptySet: ReadonlySet<number> = new Set();
