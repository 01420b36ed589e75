import type { PresenceState } from '@enclave/protocol';
import type { BusMessage } from '../../bus/bus.ts';
import type { Deps, Viewer } from '../deps.ts';
import { DepartmentCounts } from './department-counts.ts';
import type { OrgSource } from './org-source.ts';
import type { DeviceState, PresenceChange, PresenceRegistry } from './registry.ts';
import { Subscriptions } from './subscriptions.ts';
import { typingAudience } from './typing.ts';
import { precompiled, readTogether } from '../../store/precompiled.ts';

/** What presence needs of a connected socket (gateway/connection.ts implements it). */
export interface PresenceSocket {
  readonly viewer: Viewer;
  /** False when no one followed the user at sign-in: their coming online then has no one to tell. */
  readonly followed?: boolean;
  /** `Date.now()` of the last frame or pong from the client. */
  readonly lastSeenAt: number;
  sendVolatile(frame: string): void;
  /** Drop the connection without a closing handshake (it is presumed dead). */
  terminate(): void;
}

export type PresencePorts = Pick<Deps, 'store' | 'bus' | 'directory' | 'members' | 'config' | 'log'>;

export interface PresenceSnapshotData {
  users: { userId: string; state: PresenceState }[];
  departments: { departmentId: string; total: number; online: number }[];
}

/**
 * Presence, subscriptions, department online counts, follows and typing on this node. Everything
 * here is volatile (STYLE 12): never stored, never replayed, droppable. Who sees a change is decided
 * by subscription only — never a broadcast (docs/architecture.md "Presence"): a user's change costs
 * the sockets watching them, a department's change costs ≤ 1 frame per window per watcher.
 */
export class Presence {
  private readonly sockets = new Set<PresenceSocket>();
  private readonly subs = new Subscriptions<PresenceSocket>();
  private readonly counts = new DepartmentCounts();
  private readonly lastTyping = new WeakMap<PresenceSocket, number>();
  private org: OrgSource | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Frames handed to sockets, by event; `departmentFlushes` counts coalescing windows that sent. */
  readonly stats = { presence: 0, department: 0, typing: 0, followed: 0, departmentFlushes: 0 };

  constructor(
    private readonly deps: PresencePorts,
    private readonly registry: PresenceRegistry,
    /** Every socket of a user on this node (the hub's index). */
    private readonly socketsOf: (userId: number) => Iterable<{ sendVolatile(frame: string): void }>,
  ) {
    registry.watch?.((c) => {
      this.applyNoticed(c).catch((err: unknown) => this.deps.log.error({ err }, 'presence change failed'));
    });
  }

  /** Start the 90 s rule: a socket silent (no frame, no pong) that long is dead — offline, then dropped. */
  start(): void {
    const timeout = this.deps.config.presenceTimeoutMs;
    this.sweepTimer = setInterval(
      () => {
        const limit = Date.now() - timeout;
        for (const s of this.sockets)
          if (s.lastSeenAt < limit) {
            void this.detach(s);
            s.terminate();
          }
      },
      Math.min(10_000, Math.max(20, Math.floor(timeout / 4))),
    );
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.sweepTimer = this.flushTimer = null;
  }

  /** Count online people per department from now on; re-derive on every organisation change. */
  setOrg(org: OrgSource): void {
    this.org = org;
    this.counts.setOrg(org, this.registry.onlineUsers());
    org.onChange(({ users, departments }) => {
      const depts = [...departments];
      if (depts.length) this.counts.departmentsChanged(depts, this.registry.onlineUsers());
      this.counts.usersChanged(users);
      this.scheduleFlush();
    });
  }

  /** Users online on any node (metrics). */
  onlineUsers(): Iterable<number> {
    return this.registry.onlineUsers();
  }

  presenceOf(userId: number): PresenceState {
    return this.registry.stateOf(userId).state;
  }

  onlineCount(departmentId: number): number {
    return this.counts.onlineIn(departmentId);
  }

  /** A socket authenticated: its device is online. */
  async attach(s: PresenceSocket): Promise<void> {
    this.sockets.add(s);
    const v = s.viewer;
    this.publish(await this.registry.connect(v.userId, v.deviceId, Date.now()), v.uid, s.followed !== false);
  }

  /** A socket closed or was found dead; idempotent. Offline after the device's last socket. */
  async detach(s: PresenceSocket): Promise<void> {
    if (!this.sockets.delete(s)) return;
    this.subs.drop(s);
    const v = s.viewer;
    this.publish(await this.registry.disconnect(v.userId, v.deviceId, Date.now()), v.uid);
  }

  /** `presence.set`: this device's chosen state; the user's is the strongest over devices. */
  async set(s: PresenceSocket, state: DeviceState): Promise<void> {
    if (!this.sockets.has(s)) return;
    const v = s.viewer;
    this.publish(await this.registry.setState(v.userId, v.deviceId, state, Date.now()), v.uid);
  }

  /** `presence.subscribe`: replace what this socket watches; answer with the current values. */
  async subscribe(s: PresenceSocket, userUids: string[], departmentUids: string[]): Promise<PresenceSnapshotData> {
    const users = await this.deps.directory.idsOf(userUids);
    const departments = new Map<string, number>();
    for (const uid of departmentUids) {
      const id = this.org?.departmentIdOf(uid);
      if (id !== null && id !== undefined) departments.set(uid, id);
    }
    if (this.sockets.has(s)) this.subs.set(s, new Set(users.values()), new Set(departments.values()));
    return {
      users: [...users].map(([userId, id]) => ({ userId, state: this.registry.stateOf(id).state })),
      departments: [...departments].map(([departmentId, id]) => ({
        departmentId,
        total: this.counts.total(id),
        online: this.counts.onlineIn(id),
      })),
    };
  }

  /** `presence.get` (REST, integrations): state and since for known users; unknown ids are left out. */
  async get(userUids: string[]): Promise<{ userId: string; state: PresenceState; since: number }[]> {
    const ids = await this.deps.directory.idsOf(userUids);
    return [...ids].map(([userId, id]) => ({ userId, ...this.registry.stateOf(id) }));
  }

  /**
   * `typing`: checked on every call (membership, group size); forwarded at most once per interval
   * per socket — extra calls succeed without a frame.
   */
  async typing(s: PresenceSocket, conversationUid: string): Promise<void> {
    const { toUserIds } = await typingAudience(this.deps, s.viewer, conversationUid);
    const now = Date.now();
    const last = this.lastTyping.get(s);
    if (last !== undefined && now - last < this.deps.config.typingIntervalMs) return;
    this.lastTyping.set(s, now);
    if (!toUserIds.length) return;
    const frame = JSON.stringify({ ev: 'typing', data: { conversationId: conversationUid, userId: s.viewer.uid } });
    this.deps.bus.publish({ t: 'typing', toUserIds, frame });
  }

  /** Bus delivery on this node (every node gets every presence change). */
  onBus = (msg: BusMessage): void => {
    switch (msg.t) {
      case 'presence': {
        // A cluster registry re-judges another node's change against its mirror of every node.
        const c = this.registry.receive
          ? this.registry.receive({ ...msg, since: msg.since ?? Date.now() })
          : { ...msg, since: msg.since ?? 0 };
        if (!c || c.before === c.after) return;
        if (c.after === msg.after) return this.applyChange(c.userId, c.before, c.after, msg.frame);
        const { data } = JSON.parse(msg.frame) as { data: { userId: string } };
        this.applyChange(c.userId, c.before, c.after, presenceFrame(data.userId, c.after, c.since));
        return;
      }
      case 'typing':
      case 'followed':
        for (const u of msg.toUserIds)
          for (const s of this.socketsOf(u)) {
            s.sendVolatile(msg.frame);
            this.stats[msg.t]++;
          }
        return;
      default:
        return;
    }
  };

  /** Deliver a change to this node's watchers and move its department counts. */
  private applyChange(userId: number, before: PresenceState, after: PresenceState, frame: string): void {
    for (const s of this.subs.watchersOfUser(userId) ?? []) {
      s.sendVolatile(frame);
      this.stats.presence++;
    }
    if (before === 'offline') this.counts.userOnline(userId);
    else if (after === 'offline') this.counts.userOffline(userId);
    else return;
    this.scheduleFlush();
  }

  /** A cluster registry noticed a change by itself (another node expired): apply it here only. */
  private async applyNoticed(c: PresenceChange): Promise<void> {
    const uid = await this.deps.directory.uidOf(c.userId);
    this.applyChange(c.userId, c.before, c.after, presenceFrame(uid, c.after, c.since));
  }

  private publish(change: PresenceChange | null, uid: string, mayHaveFollowers = true): void {
    if (!change) return;
    const { userId, before, after, since, wire } = change;
    const frame = presenceFrame(uid, after, since);
    this.deps.bus.publish({ t: 'presence', userId, before, after, frame, since, ...(wire ? { wire } : {}) });
    // A cluster registry publishes a node's part even when the user's state did not move.
    if (before === after) return;
    if (before === 'offline' && mayHaveFollowers)
      this.notifyFollowers(userId, uid, after).catch((err: unknown) =>
        this.deps.log.error({ err }, 'follow notification failed'),
      );
  }

  private async notifyFollowers(userId: number, uid: string, state: PresenceState): Promise<void> {
    const [rows] = await readTogether(this.deps.store, this.deps.store.reader, followersOf.with(userId));
    if (!rows.length) return;
    const frame = JSON.stringify({ ev: 'followed', data: { userId: uid, state } });
    this.deps.bus.publish({ t: 'followed', toUserIds: rows.map((r) => Number(r.user_id)), frame });
  }

  /** Coalesce: changed departments are sent when the window closes, with the values at that moment. */
  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), this.deps.config.departmentUpdateMs);
    this.flushTimer.unref();
  }

  private flush(): void {
    this.flushTimer = null;
    const org = this.org;
    if (!org) return;
    let sent = false;
    for (const id of this.counts.takeDirty()) {
      const watchers = this.subs.watchersOfDepartment(id);
      if (!watchers?.size) continue;
      const departmentId = org.departmentUidOf(id);
      if (!departmentId) continue;
      const data = { departmentId, total: this.counts.total(id), online: this.counts.onlineIn(id) };
      const frame = JSON.stringify({ ev: 'department', data });
      for (const s of watchers) s.sendVolatile(frame);
      this.stats.department += watchers.size;
      sent = true;
    }
    if (sent) this.stats.departmentFlushes++;
  }
}

/** Asked each time a user comes online (every first socket): built by Kysely once. */
const followersOf = precompiled((db, userId: number) =>
  db.selectFrom('follows').select('user_id').where('target_id', '=', userId),
);

function presenceFrame(uid: string, state: PresenceState, since: number): string {
  return JSON.stringify({ ev: 'presence', data: { userId: uid, state, since } });
}
