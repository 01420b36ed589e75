import type { PresenceState } from '@enclave/protocol';

/** A state a device can choose; `offline` is never chosen, it is the absence of sockets. */
export type DeviceState = Exclude<PresenceState, 'offline'>;

/** A user's state moved (the strongest over their devices changed). */
export interface PresenceChange {
  userId: number;
  before: PresenceState;
  after: PresenceState;
  since: number;
  /** Cluster registries: this node's own part, carried on the bus so other nodes' mirrors follow. */
  wire?: { node: string; nodeState: PresenceState; nodeVersion: number };
}

/**
 * Who is online, per device: the one place presence lives. Volatile by design (STYLE 12): nothing of
 * it is written to the database. This in-memory registry serves one node; a cluster swaps in a Redis
 * registry with the same contract — per-device hashes with a TTL that each node re-asserts on
 * heartbeat (docs/architecture.md "Presence"), which is why the writes are async. Reads are sync: a
 * Redis registry answers them from a local mirror kept by the `presence` bus messages.
 */
export interface PresenceRegistry {
  /** A socket of this device authenticated; the device is online (or keeps its chosen state). */
  connect(userId: number, deviceId: number, now: number): Promise<PresenceChange | null>;
  /** A socket of this device went away; the device is offline after its last socket. */
  disconnect(userId: number, deviceId: number, now: number): Promise<PresenceChange | null>;
  /** The device chose a state; ignored for a device with no socket. */
  setState(userId: number, deviceId: number, state: DeviceState, now: number): Promise<PresenceChange | null>;
  stateOf(userId: number): { state: PresenceState; since: number };
  /** Users in any state but offline. */
  onlineUsers(): Iterable<number>;
  /**
   * Cluster registries (redis-registry.ts): a `presence` bus message as this node sees it — null when
   * nothing visible moved here. Without it the message is applied as it is.
   */
  receive?(msg: PresenceChange): PresenceChange | null;
  /** Cluster registries: changes noticed without a bus message (a node expired). */
  watch?(fn: (c: PresenceChange) => void): void;
}

/** busy is an explicit choice and wins; an active device beats an idle one. */
const RANK: Record<PresenceState, number> = { offline: 0, away: 1, online: 2, busy: 3 };

export function strongest(states: Iterable<PresenceState>): PresenceState {
  let best: PresenceState = 'offline';
  for (const s of states) if (RANK[s] > RANK[best]) best = s;
  return best;
}

interface Device {
  state: DeviceState;
  sockets: number;
}

interface UserEntry {
  devices: Map<number, Device>;
  state: PresenceState;
  since: number;
}

export class MemoryPresenceRegistry implements PresenceRegistry {
  private readonly users = new Map<number, UserEntry>();
  /** When offline users went offline (kept for `since`; bounded, oldest forgotten first). */
  private readonly offlineSince = new Map<number, number>();

  constructor(private readonly maxRemembered = 200_000) {}

  async connect(userId: number, deviceId: number, now: number): Promise<PresenceChange | null> {
    const u = this.entry(userId);
    const d = u.devices.get(deviceId);
    if (d) d.sockets++;
    else u.devices.set(deviceId, { state: 'online', sockets: 1 });
    return this.settle(userId, u, now);
  }

  async disconnect(userId: number, deviceId: number, now: number): Promise<PresenceChange | null> {
    const u = this.users.get(userId);
    const d = u?.devices.get(deviceId);
    if (!u || !d) return null;
    if (--d.sockets <= 0) u.devices.delete(deviceId);
    return this.settle(userId, u, now);
  }

  async setState(userId: number, deviceId: number, state: DeviceState, now: number): Promise<PresenceChange | null> {
    const u = this.users.get(userId);
    const d = u?.devices.get(deviceId);
    if (!u || !d) return null;
    d.state = state;
    return this.settle(userId, u, now);
  }

  stateOf(userId: number): { state: PresenceState; since: number } {
    const u = this.users.get(userId);
    if (u) return { state: u.state, since: u.since };
    return { state: 'offline', since: this.offlineSince.get(userId) ?? 0 };
  }

  *onlineUsers(): Iterable<number> {
    yield* this.users.keys();
  }

  private entry(userId: number): UserEntry {
    let u = this.users.get(userId);
    if (!u) {
      u = { devices: new Map(), state: 'offline', since: this.offlineSince.get(userId) ?? 0 };
      this.users.set(userId, u);
    }
    return u;
  }

  private settle(userId: number, u: UserEntry, now: number): PresenceChange | null {
    const after = strongest([...u.devices.values()].map((d) => d.state));
    const before = u.state;
    if (after === 'offline') {
      this.users.delete(userId);
      this.offlineSince.delete(userId);
      if (this.offlineSince.size >= this.maxRemembered)
        this.offlineSince.delete(this.offlineSince.keys().next().value!);
      this.offlineSince.set(userId, before === 'offline' ? u.since : now);
    }
    if (after === before) return null;
    u.state = after;
    u.since = now;
    return { userId, before, after, since: now };
  }
}
