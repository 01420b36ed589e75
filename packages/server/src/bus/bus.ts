import type { PresenceState } from '@enclave/protocol';
import type { MessageRecord } from '../domain/records.ts';

/*
 * What nodes tell each other. Durable events (conv, user) are also in the store, so a lost bus
 * message costs latency, never data: clients notice the seq gap and pull. Control messages close
 * sockets; volatile ones (receipts, presence, typing, followed) may be dropped.
 */
export interface ConvBusEvent {
  t: 'conv';
  conversationId: number;
  conversationUid: string;
  seq: number;
  ts: number;
  type: string;
  actorUid: string;
  memberVersion: number;
  data: Record<string, unknown> | null;
  /** The message the event is about, in stored (decoded) form; presented per audience on delivery. */
  message: MessageRecord | null;
  /** Sign-off messages: who has signed (they may see the body). */
  signedUserIds?: number[];
  quote?: MessageRecord | null;
  /** When the quote is a sign-off message: who has signed it (they may see its body in the quote). */
  quoteSignedUserIds?: number[];
}

export interface UserBusEvent {
  t: 'user';
  userId: number;
  /** Already presented for this user (it is theirs alone). */
  frame: string;
}

export interface ReceiptBusEvent {
  t: 'receipt';
  conversationId: number;
  /** Deliver to every socket of these users (1:1 peer) … */
  toUserIds: number[];
  /** … and to sockets that have the conversation open. */
  toFocused: boolean;
  frame: string;
}

export interface CloseBusEvent {
  t: 'close';
  sessionIds?: number[];
  userId?: number;
  /** Keep this session open (password change keeps the changing device). */
  exceptSessionId?: number;
  reason: 'revoked' | 'logout' | 'disabled' | 'password_changed';
}

/**
 * A user's presence changed (volatile). Every node applies it: it delivers the frame to its sockets
 * subscribed to that user and moves its department online counts on online ↔ offline.
 */
export interface PresenceBusEvent {
  t: 'presence';
  userId: number;
  before: PresenceState;
  after: PresenceState;
  /** `{ev:"presence",data:{userId,state,since}}`, presented once. */
  frame: string;
  since?: number;
  /** Cluster: the origin node's part of this user's state (bus/redis.ts, presence/redis-registry.ts). */
  wire?: { node: string; nodeState: PresenceState; nodeVersion: number };
}

/** A volatile frame for every socket of these users (typing: the other members; followed: followers). */
export interface VolatileBusEvent {
  t: 'typing' | 'followed';
  toUserIds: number[];
  frame: string;
}

/** Cluster: the organisation changed on one node; the others reload their OrgIndex (cluster/org-sync.ts). */
export interface OrgBusEvent {
  t: 'org';
}

export type BusMessage =
  ConvBusEvent | UserBusEvent | ReceiptBusEvent | CloseBusEvent | PresenceBusEvent | VolatileBusEvent | OrgBusEvent;

export interface Bus {
  publish(msg: BusMessage): void;
  subscribe(handler: (msg: BusMessage) => void): void;
  close(): Promise<void>;
}
