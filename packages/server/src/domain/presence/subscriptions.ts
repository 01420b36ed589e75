/**
 * Who watches what, on this node: each socket's watched users and departments, and the reverse
 * indexes that make a change cost its watchers only (never a walk over every socket).
 */
export class Subscriptions<S> {
  private readonly bySocket = new Map<S, { users: ReadonlySet<number>; departments: ReadonlySet<number> }>();
  private readonly userWatchers = new Map<number, Set<S>>();
  private readonly deptWatchers = new Map<number, Set<S>>();

  /** Replace the socket's subscription. */
  set(socket: S, users: ReadonlySet<number>, departments: ReadonlySet<number>): void {
    this.drop(socket);
    if (!users.size && !departments.size) return;
    this.bySocket.set(socket, { users, departments });
    for (const u of users) add(this.userWatchers, u, socket);
    for (const d of departments) add(this.deptWatchers, d, socket);
  }

  drop(socket: S): void {
    const cur = this.bySocket.get(socket);
    if (!cur) return;
    this.bySocket.delete(socket);
    for (const u of cur.users) remove(this.userWatchers, u, socket);
    for (const d of cur.departments) remove(this.deptWatchers, d, socket);
  }

  watchersOfUser(userId: number): ReadonlySet<S> | undefined {
    return this.userWatchers.get(userId);
  }

  watchersOfDepartment(departmentId: number): ReadonlySet<S> | undefined {
    return this.deptWatchers.get(departmentId);
  }
}

function add<S>(index: Map<number, Set<S>>, key: number, socket: S) {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(socket);
}

function remove<S>(index: Map<number, Set<S>>, key: number, socket: S) {
  const set = index.get(key);
  set?.delete(socket);
  if (set && !set.size) index.delete(key);
}
