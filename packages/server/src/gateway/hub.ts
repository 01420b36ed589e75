import type { Logger } from 'pino';
import { closeCodes } from '@enclave/protocol';
import type { BusMessage, ConvBusEvent } from '../bus/bus.ts';
import type { Viewer } from '../domain/deps.ts';
import type { MemberCache } from '../domain/member-cache.ts';
import { presentEvent, type MessageView } from '../domain/present.ts';
import { WireFrame } from './wire-frame.ts';

/** What the hub needs of a connected socket. */
export interface HubSocket {
  viewer: Viewer;
  focus: number | null;
  sendDurable(frame: string | WireFrame): void;
  sendVolatile(frame: string | WireFrame): void;
  close(code: number, reason: string, frame?: string): void;
}

/**
 * This node's sockets, by user and by focused conversation, and delivery of bus messages to them.
 * A conversation event is presented once per audience class (sender · may see the body · may not yet)
 * and the same encoded frame goes to every socket in that class.
 */
export class Hub {
  private readonly byUser = new Map<number, Set<HubSocket>>();
  private readonly byFocus = new Map<number, Set<HubSocket>>();
  /** `slowClosed`/`slowCut`: slow readers closed with 4008 / terminated by the outbound budget. */
  stats = { delivered: 0, events: 0, slowClosed: 0, slowCut: 0 };
  /** Metrics: ms from an event's commit time to its frames being handed to this node's sockets. */
  onFanout: ((ms: number) => void) | null = null;

  constructor(
    private readonly members: MemberCache,
    private readonly log: Logger,
  ) {}

  get size(): number {
    let n = 0;
    for (const s of this.byUser.values()) n += s.size;
    return n;
  }

  add(s: HubSocket) {
    const set = this.byUser.get(s.viewer.userId) ?? new Set();
    set.add(s);
    this.byUser.set(s.viewer.userId, set);
  }

  remove(s: HubSocket) {
    const set = this.byUser.get(s.viewer.userId);
    set?.delete(s);
    if (set && !set.size) this.byUser.delete(s.viewer.userId);
    this.setFocus(s, null);
  }

  setFocus(s: HubSocket, conversationId: number | null) {
    if (s.focus !== null) {
      const f = this.byFocus.get(s.focus);
      f?.delete(s);
      if (f && !f.size) this.byFocus.delete(s.focus);
    }
    s.focus = conversationId;
    if (conversationId !== null) {
      const f = this.byFocus.get(conversationId) ?? new Set();
      f.add(s);
      this.byFocus.set(conversationId, f);
    }
  }

  /** This node's sockets of one user. */
  socketsOf = (userId: number): Iterable<HubSocket> => this.byUser.get(userId) ?? [];

  sockets(): Iterable<HubSocket> {
    const all: HubSocket[] = [];
    for (const set of this.byUser.values()) all.push(...set);
    return all;
  }

  onBus = (msg: BusMessage): void => {
    switch (msg.t) {
      case 'conv':
        this.deliverConv(msg).catch((err: unknown) => this.log.error({ err }, 'delivery failed'));
        return;
      case 'user': {
        const frame = new WireFrame(msg.frame);
        for (const s of this.byUser.get(msg.userId) ?? []) s.sendDurable(frame);
        return;
      }
      case 'receipt': {
        const targets = new Set<HubSocket>();
        for (const u of msg.toUserIds) for (const s of this.byUser.get(u) ?? []) targets.add(s);
        if (msg.toFocused) for (const s of this.byFocus.get(msg.conversationId) ?? []) targets.add(s);
        const frame = new WireFrame(msg.frame);
        for (const s of targets) s.sendVolatile(frame);
        return;
      }
      case 'close': {
        const frame = JSON.stringify({ ev: 'closing', data: { reason: msg.reason } });
        const targets: HubSocket[] = [];
        if (msg.userId !== undefined)
          for (const s of this.byUser.get(msg.userId) ?? []) {
            if (s.viewer.sessionId !== msg.exceptSessionId) targets.push(s);
          }
        if (msg.sessionIds) {
          const ids = new Set(msg.sessionIds);
          for (const set of this.byUser.values()) for (const s of set) if (ids.has(s.viewer.sessionId)) targets.push(s);
        }
        for (const s of targets) s.close(closeCodes.revoked, msg.reason, frame);
        return;
      }
    }
  };

  private async deliverConv(ev: ConvBusEvent): Promise<void> {
    this.stats.events++;
    const list = await this.members.get(ev.conversationId, ev.memberVersion);
    const frames = new Map<string, WireFrame>();
    const rec = ev.message;
    const signed = new Set(ev.signedUserIds ?? []);
    const quote = ev.quote ?? null;
    const quoteSigned = new Set(ev.quoteSignedUserIds ?? []);
    const frameFor = (userId: number, from: number): WireFrame => {
      const cls =
        rec === null
          ? 'all'
          : userId === rec.senderId
            ? 'sender'
            : rec.signoff && !signed.has(userId)
              ? 'withheld'
              : 'full';
      // A reply quoting a message from before this member's join point carries no quote for them;
      // a quoted sign-off message shows its body only to its sender and those who signed it.
      const quoteHidden = quote !== null && list.historyMode === 'from_join' && from > quote.seq;
      const quoteOpen = quote !== null && (!quote.signoff || quote.senderId === userId || quoteSigned.has(userId));
      const key = `${cls}:${quoteHidden ? 'none' : quoteOpen ? 'open' : 'shut'}`;
      let f = frames.get(key);
      if (!f) {
        const view: MessageView = {
          userId: cls === 'sender' ? rec!.senderId : -1,
          signed: (s) => (s === rec?.seq ? cls === 'full' : s === quote?.seq ? quoteOpen : false),
        };
        f = new WireFrame(
          JSON.stringify({
            ev: 'conv',
            data: presentEvent(
              view,
              {
                conversationUid: ev.conversationUid,
                seq: ev.seq,
                ts: ev.ts,
                type: ev.type,
                actorUid: ev.actorUid,
                data: ev.data,
              },
              rec,
              quoteHidden ? null : quote,
            ),
          }),
        );
        frames.set(key, f);
      }
      return f;
    };
    const send = (userId: number, sockets: Set<HubSocket>) => {
      const from = list.members.get(userId);
      // Not a member at this seq (joined later, or removed at or before the version of this event).
      if (from === undefined || from > ev.seq) return;
      const f = frameFor(userId, from);
      for (const s of sockets) {
        s.sendDurable(f);
        this.stats.delivered++;
      }
    };
    // Walk whichever side is smaller: the member list or this node's connected users.
    if (list.members.size <= this.byUser.size) {
      for (const userId of list.members.keys()) {
        const sockets = this.byUser.get(userId);
        if (sockets) send(userId, sockets);
      }
    } else {
      for (const [userId, sockets] of this.byUser) send(userId, sockets);
    }
    this.onFanout?.(Date.now() - ev.ts);
  }
}
