import type {
  AroundResult,
  Conversation,
  ConversationId,
  ConvEvent,
  ErrorBody,
  EventRange,
  Message,
  MessageContent,
  MessageId,
  SyncResult,
  UserEvent,
  UserId,
} from '@enclave/protocol';

/**
 * Which seqs of a stream were applied: every seq ≤ `head` (contiguous), plus `ahead`, the seqs
 * above head+1 that arrived early (ascending). A non-empty `ahead` means head+1 is missing.
 */
export interface SeqCursor {
  readonly head: number;
  readonly ahead: readonly number[];
}

/** A message shown at once while the outbox delivers it (STYLE 5). */
export interface PendingEcho {
  readonly clientMsgId: string;
  readonly conversationId: ConversationId;
  readonly content: MessageContent;
  readonly mentions: readonly UserId[];
  readonly mentionAll: boolean;
  readonly replyToSeq: number | null;
  readonly createdAt: number;
  /** pending: not acknowledged · sent: acknowledged, the event has not arrived · failed: gave up. */
  readonly state: 'pending' | 'sent' | 'failed';
  readonly seq: number | null;
  readonly messageId: MessageId | null;
  readonly error: ErrorBody | null;
}

export interface ConversationView {
  /** The list entry: unread, readSeq, preview, settings; lastSeq advances with applied events. */
  readonly summary: Conversation;
  /**
   * Loaded messages, ascending by seq, unique; contiguous from `loadedFrom` up, except for `gap`
   * after a jump to an older message.
   */
  readonly messages: readonly Message[];
  /** message seq → seq of the event that last set it, so an older edit never overwrites a newer one. */
  readonly versions: Readonly<Record<number, number>>;
  readonly cursor: SeqCursor;
  /** Lowest seq whose event is loaded (head+1 when none); older history loads on demand. */
  readonly loadedFrom: number;
  /** The server's unread count already includes every event up to this seq. */
  readonly countedSeq: number;
  /**
   * After a jump to a message far back (`range.around`): the seqs between the window around it and
   * the live tail that are not loaded yet (inclusive). Paging newer (`range.newer`) shrinks it; null
   * when the timeline is one contiguous run.
   */
  readonly gap: SeqGap | null;
}

/** An unloaded stretch of a timeline, `from`..`to` inclusive. */
export interface SeqGap {
  readonly from: number;
  readonly to: number;
}

export interface ClientState {
  readonly me: UserId | null;
  readonly syncToken: string | null;
  /** The user stream cursor (useq). */
  readonly useq: SeqCursor;
  readonly conversations: Readonly<Record<string, ConversationView>>;
  /** Local echoes keyed by clientMsgId. */
  readonly pending: Readonly<Record<string, PendingEcho>>;
}

export interface LocalSendEcho {
  clientMsgId: string;
  conversationId: ConversationId;
  content: { text: string; format?: 'markdown' | 'plain' };
  mentions?: readonly UserId[];
  mentionAll?: boolean;
  replyToSeq?: number;
  createdAt: number;
}

export type Action =
  | { type: 'session.started'; me: UserId }
  | { type: 'sync.result'; result: SyncResult }
  /**
   * Conversations read by REST/op (list, get, openDirect, group.create…): merged like sync. `events`:
   * live events of a conversation that arrived before the client knew it (they start its timeline).
   */
  | { type: 'conversations.loaded'; conversations: readonly Conversation[]; events?: readonly ConvEvent[] }
  | { type: 'conv.event'; event: ConvEvent }
  | { type: 'user.event'; event: UserEvent }
  /** A `conversation.events` page; `before` set for a history page (older than the timeline). */
  | { type: 'range.loaded'; range: EventRange; before?: number }
  /** A `conversation.around` page: the window around a message, kept beside the live tail. */
  | { type: 'range.around'; range: AroundResult }
  /** A `conversation.events` page read `after` the window of a jump, filling the gap up to the tail. */
  | { type: 'range.newer'; range: EventRange; after: number }
  | { type: 'read.set'; conversationId: ConversationId; readSeq: number; unread: number }
  /** A live receipt: a 1:1 peer's read/delivered cursor. */
  | {
      type: 'receipt';
      receipt: { conversationId: ConversationId; userId: UserId; readSeq?: number; deliveredSeq?: number };
    }
  | { type: 'local.send'; echo: LocalSendEcho }
  | { type: 'local.ack'; clientMsgId: string; seq: number; messageId: MessageId; ts: number }
  | { type: 'local.failed'; clientMsgId: string; error: ErrorBody }
  | { type: 'local.retry'; clientMsgId: string }
  | { type: 'local.discard'; clientMsgId: string };

export const initialState: ClientState = {
  me: null,
  syncToken: null,
  useq: { head: 0, ahead: [] },
  conversations: {},
  pending: {},
};
