import type { MessageRecord } from '../domain/records.ts';

/*
 * What nodes tell each other. Durable events (conv, user) are also in the store, so a lost bus
 * message costs latency, never data: clients notice the seq gap and pull. Control messages close
 * sockets; volatile ones (receipts) may be dropped.
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

export type BusMessage = ConvBusEvent | UserBusEvent | ReceiptBusEvent | CloseBusEvent;

export interface Bus {
  publish(msg: BusMessage): void;
  subscribe(handler: (msg: BusMessage) => void): void;
  close(): Promise<void>;
}
