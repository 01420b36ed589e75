import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PresenceState } from '@enclave/protocol';
import { strongest, type DeviceState, type PresenceChange, type PresenceRegistry } from './registry.ts';

export interface RedisRegistryOptions {
  redis: Redis;
  nodeId: string;
  log: Logger;
  /** Key prefix shared by the cluster. */
  prefix?: string;
  /** How often this node re-asserts its hash and reads the others'. Its hash lives 3 beats. */
  beatMs?: number;
}

interface LocalUser {
  devices: Map<number, { state: DeviceState; sockets: number }>;
}

interface RemoteNode {
  version: number;
  users: Map<number, PresenceState>;
}

const VERSION_FIELD = '_v';

/**
 * Presence across nodes. Each node owns one Redis hash `<prefix>:presence:<node>` — field per user
 * holding that node's strongest state for the user, plus a version — with a TTL of three beats that
 * the node re-asserts every beat (rewriting the whole hash when it is missing, so a Redis restart or
 * flush heals itself). Every change is also a `presence` bus message carrying the node's state and
 * version, and every node keeps a mirror of the other nodes' hashes: reads (`stateOf`,
 * `onlineUsers`) are local and synchronous. A user's state is the strongest over all nodes. A node
 * whose hash expired (killed, partitioned) drops out of every mirror at the next beat, so its users go
 * offline within seconds unless they are connected elsewhere. Versions are per node and start at the
 * boot time, so a stale message or snapshot never overwrites a newer one.
 */
export class RedisPresenceRegistry implements PresenceRegistry {
  private readonly local = new Map<number, LocalUser>();
  private readonly remote = new Map<string, RemoteNode>();
  private readonly combined = new Map<number, { state: PresenceState; since: number }>();
  private readonly offlineSince = new Map<number, number>();
  private readonly watchers: ((c: PresenceChange) => void)[] = [];
  private version = Date.now() * 1_000;
  private readonly prefix: string;
  private readonly beatMs: number;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  /** Until then, a node missing from Redis is not taken for dead: Redis itself lost the data. */
  private graceUntil = 0;
  stats = { beats: 0, reasserts: 0, snapshots: 0, nodesExpired: 0, errors: 0 };

  constructor(private readonly o: RedisRegistryOptions) {
    this.prefix = o.prefix ?? 'enclave';
    this.beatMs = o.beatMs ?? 2_000;
  }

  private keyOf(node: string) {
    return `${this.prefix}:presence:${node}`;
  }

  private get nodesKey() {
    return `${this.prefix}:presence-nodes`;
  }

  /** Assert this node and read the others once, then every beat. */
  async start(): Promise<void> {
    await this.beat(true).catch(() => undefined);
    this.timer = setInterval(() => void this.beat(false), this.beatMs);
    this.timer.unref();
  }

  /** Stop beating and remove this node's hash: its users go offline everywhere at once (drain). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating?.catch(() => undefined);
    await this.o.redis
      .multi()
      .del(this.keyOf(this.o.nodeId))
      .srem(this.nodesKey, this.o.nodeId)
      .exec()
      .catch(() => undefined);
  }

  /** Called for changes this node notices by itself (a node expired, a snapshot differed). */
  watch(fn: (c: PresenceChange) => void): void {
    this.watchers.push(fn);
  }

  /** Re-read every node's hash at the next beat (after the bus missed messages). */
  refresh(): void {
    for (const r of this.remote.values()) r.version = 0;
    void this.beat(true);
  }

  /* ---------- local devices ---------- */

  async connect(userId: number, deviceId: number, now: number): Promise<PresenceChange | null> {
    let u = this.local.get(userId);
    if (!u) this.local.set(userId, (u = { devices: new Map() }));
    const d = u.devices.get(deviceId);
    if (d) d.sockets++;
    else u.devices.set(deviceId, { state: 'online', sockets: 1 });
    return this.localChanged(userId, now);
  }

  async disconnect(userId: number, deviceId: number, now: number): Promise<PresenceChange | null> {
    const u = this.local.get(userId);
    const d = u?.devices.get(deviceId);
    if (!u || !d) return null;
    if (--d.sockets <= 0) u.devices.delete(deviceId);
    if (!u.devices.size) this.local.delete(userId);
    return this.localChanged(userId, now);
  }

  async setState(userId: number, deviceId: number, state: DeviceState, now: number): Promise<PresenceChange | null> {
    const d = this.local.get(userId)?.devices.get(deviceId);
    if (!d) return null;
    d.state = state;
    return this.localChanged(userId, now);
  }

  stateOf(userId: number): { state: PresenceState; since: number } {
    const c = this.combined.get(userId);
    if (c) return c;
    return { state: 'offline', since: this.offlineSince.get(userId) ?? 0 };
  }

  onlineUsers(): Iterable<number> {
    return [...this.combined.keys()];
  }

  private localState(userId: number): PresenceState {
    const u = this.local.get(userId);
    return u ? strongest([...u.devices.values()].map((d) => d.state)) : 'offline';
  }

  private localChanged(userId: number, now: number): PresenceChange | null {
    const nodeState = this.localState(userId);
    const version = ++this.version;
    const key = this.keyOf(this.o.nodeId);
    // One atomic write per change; a failure is healed by the next beat's re-assert.
    const m = this.o.redis.multi();
    if (nodeState === 'offline') m.hdel(key, String(userId));
    else m.hset(key, String(userId), nodeState);
    m.hset(key, VERSION_FIELD, String(version));
    m.exec().catch(() => this.stats.errors++);
    const change = this.recompute(userId, now);
    const wire = { node: this.o.nodeId, nodeState, nodeVersion: version };
    if (change) return { ...change, wire };
    // The user's state over all nodes did not move, but the other nodes' mirrors must still learn
    // this node's part: the same state before and after tells presence to publish without a frame.
    const cur = this.stateOf(userId).state;
    return { userId, before: cur, after: cur, since: now, wire };
  }

  /** The user's state over all nodes moved? */
  private recompute(userId: number, now: number): PresenceChange | null {
    const states: PresenceState[] = [this.localState(userId)];
    for (const r of this.remote.values()) {
      const s = r.users.get(userId);
      if (s) states.push(s);
    }
    const after = strongest(states);
    const cur = this.combined.get(userId);
    const before = cur?.state ?? 'offline';
    if (after === before) return null;
    if (after === 'offline') {
      this.combined.delete(userId);
      if (this.offlineSince.size >= 200_000) this.offlineSince.delete(this.offlineSince.keys().next().value!);
      this.offlineSince.set(userId, now);
    } else {
      this.combined.set(userId, { state: after, since: now });
      this.offlineSince.delete(userId);
    }
    return { userId, before, after, since: now };
  }

  /* ---------- other nodes ---------- */

  /**
   * A `presence` bus message reached this node. Our own was applied when it was made; another node's
   * moves our mirror, and the answer is the change as this node sees it (null: nothing visible moved).
   */
  receive(msg: PresenceChange): PresenceChange | null {
    const w = msg.wire;
    if (!w || w.node === this.o.nodeId) return msg;
    let r = this.remote.get(w.node);
    if (!r) this.remote.set(w.node, (r = { version: 0, users: new Map() }));
    if (w.nodeVersion <= r.version) return null;
    r.version = w.nodeVersion;
    if (w.nodeState === 'offline') r.users.delete(msg.userId);
    else r.users.set(msg.userId, w.nodeState);
    return this.recompute(msg.userId, Date.now());
  }

  private beat(full: boolean): Promise<void> {
    if (this.beating) return this.beating;
    this.beating = this.doBeat(full)
      .catch((err: unknown) => {
        this.stats.errors++;
        this.o.log.debug({ err }, 'presence beat failed');
      })
      .finally(() => (this.beating = null));
    return this.beating;
  }

  private async doBeat(full: boolean): Promise<void> {
    const redis = this.o.redis;
    if (redis.status !== 'ready') return;
    this.stats.beats++;
    const key = this.keyOf(this.o.nodeId);
    const ttl = this.beatMs * 3;
    const [[, alive]] = (await redis.multi().pexpire(key, ttl).sadd(this.nodesKey, this.o.nodeId).exec()) as [
      [unknown, number],
      [unknown, number],
    ];
    if (!alive) {
      // Our own hash was gone too: Redis restarted or was flushed (or this is our first beat). The
      // other nodes re-assert within a beat; until then their absence says nothing.
      if (this.stats.beats > 1) this.graceUntil = Date.now() + ttl;
      await this.reassert(key, ttl);
    }
    const grace = Date.now() < this.graceUntil;
    const nodes = (await redis.smembers(this.nodesKey)).filter((n) => n !== this.o.nodeId);
    const versions = nodes.length
      ? await redis.pipeline(nodes.map((n) => ['hget', this.keyOf(n), VERSION_FIELD])).exec()
      : [];
    const now = Date.now();
    const touched = new Set<number>();
    const toFetch: string[] = [];
    nodes.forEach((n, i) => {
      const v = versions?.[i]?.[1] as string | null | undefined;
      if (v === null || v === undefined) {
        if (grace) return;
        // Expired: the node is gone.
        const r = this.remote.get(n);
        if (r) {
          this.stats.nodesExpired++;
          for (const u of r.users.keys()) touched.add(u);
          this.remote.delete(n);
        }
        void redis.srem(this.nodesKey, n).catch(() => undefined);
        return;
      }
      if (full || Number(v) > (this.remote.get(n)?.version ?? 0)) toFetch.push(n);
    });
    // Nodes that vanished from the set altogether.
    for (const [n, r] of this.remote)
      if (!grace && !nodes.includes(n)) {
        for (const u of r.users.keys()) touched.add(u);
        this.remote.delete(n);
      }
    if (toFetch.length) {
      const hashes = await redis.pipeline(toFetch.map((n) => ['hgetall', this.keyOf(n)])).exec();
      toFetch.forEach((n, i) => {
        const h = (hashes?.[i]?.[1] ?? {}) as Record<string, string>;
        const version = Number(h[VERSION_FIELD] ?? 0);
        const cur = this.remote.get(n);
        if (cur && version < cur.version && !full) return;
        this.stats.snapshots++;
        const users = new Map<number, PresenceState>();
        for (const [f, s] of Object.entries(h)) if (f !== VERSION_FIELD) users.set(Number(f), s as PresenceState);
        for (const u of cur?.users.keys() ?? []) touched.add(u);
        for (const u of users.keys()) touched.add(u);
        this.remote.set(n, { version, users });
      });
    }
    for (const u of touched) {
      const c = this.recompute(u, now);
      if (c) for (const w of this.watchers) w(c);
    }
  }

  /** Our hash is gone (first beat, Redis restarted or flushed): write all of it again. */
  private async reassert(key: string, ttl: number): Promise<void> {
    this.stats.reasserts++;
    const version = ++this.version;
    const fields: string[] = [VERSION_FIELD, String(version)];
    for (const userId of this.local.keys()) fields.push(String(userId), this.localState(userId));
    await this.o.redis
      .multi()
      .del(key)
      .hset(key, ...fields)
      .pexpire(key, ttl)
      .sadd(this.nodesKey, this.o.nodeId)
      .exec();
  }
}
