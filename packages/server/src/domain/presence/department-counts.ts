import type { OrgSource } from './org-source.ts';

const NONE: ReadonlySet<number> = new Set();

/**
 * Online headcount per department: distinct online people in the subtree (a multi-post person
 * once, because `countedIn` is a set), kept incrementally as users go online and offline, and
 * re-derived for the people an organisation change touches. Changed departments are marked dirty;
 * `takeDirty` hands them to the coalescer.
 */
export class DepartmentCounts {
  private readonly online = new Map<number, number>();
  /** The departments each online user is counted in, as counted (to undo exactly on change). */
  private readonly countedFor = new Map<number, ReadonlySet<number>>();
  private dirty = new Set<number>();
  private org: OrgSource | null = null;

  setOrg(org: OrgSource, onlineUsers: Iterable<number>): void {
    this.org = org;
    this.recount(onlineUsers);
  }

  get attached(): boolean {
    return this.org !== null;
  }

  onlineIn(departmentId: number): number {
    return this.online.get(departmentId) ?? 0;
  }

  total(departmentId: number): number {
    return this.org?.total(departmentId) ?? 0;
  }

  userOnline(userId: number): void {
    if (!this.org || this.countedFor.has(userId)) return;
    const set = this.org.countedIn(userId);
    this.countedFor.set(userId, set);
    for (const d of set) this.bump(d, 1);
  }

  userOffline(userId: number): void {
    const set = this.countedFor.get(userId);
    if (!set) return;
    this.countedFor.delete(userId);
    for (const d of set) this.bump(d, -1);
  }

  /** People moved between departments (posts changed): re-derive their sets if they are online. */
  usersChanged(userIds: Iterable<number>): void {
    if (!this.org) return;
    for (const u of userIds) {
      const old = this.countedFor.get(u);
      if (!old) continue;
      const now = this.org.countedIn(u);
      this.countedFor.set(u, now);
      for (const d of old) if (!now.has(d)) this.bump(d, -1);
      for (const d of now) if (!old.has(d)) this.bump(d, 1);
    }
  }

  /** Departments changed (moved, created, deleted): totals may have moved too; recount everyone online. */
  departmentsChanged(departmentIds: Iterable<number>, onlineUsers: Iterable<number>): void {
    for (const d of departmentIds) this.dirty.add(d);
    this.recount(onlineUsers);
  }

  /** Departments whose numbers changed since the last call. */
  takeDirty(): Set<number> {
    const out = this.dirty;
    this.dirty = new Set();
    return out;
  }

  private recount(onlineUsers: Iterable<number>): void {
    const before = new Map(this.online);
    this.online.clear();
    this.countedFor.clear();
    for (const u of onlineUsers) {
      const set = this.org?.countedIn(u) ?? NONE;
      this.countedFor.set(u, set);
      for (const d of set) this.online.set(d, (this.online.get(d) ?? 0) + 1);
    }
    for (const [d, n] of before) if (this.online.get(d) !== n) this.dirty.add(d);
    for (const d of this.online.keys()) if (!before.has(d)) this.dirty.add(d);
  }

  private bump(departmentId: number, by: number): void {
    const n = (this.online.get(departmentId) ?? 0) + by;
    if (n > 0) this.online.set(departmentId, n);
    else this.online.delete(departmentId);
    this.dirty.add(departmentId);
  }
}
