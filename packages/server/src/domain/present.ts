import type { ConvEvent, Message } from '@enclave/protocol';
import type { MessageRecord } from './records.ts';

/**
 * The one function that turns a stored message into what a viewer sees — for live events, history,
 * list previews, reply quotes and everything later (search hits, notifications, exports).
 * - recalled: a tombstone, no content, for everyone;
 * - sign-off, viewer neither sender nor signed: withheld, no content — no byte of the body;
 * - the sender sees their own clientMsgId (local echo de-duplication).
 */
export interface MessageView {
  userId: number;
  /** Seqs of sign-off messages this viewer has signed. */
  signed: (seq: number) => boolean;
}

export function presentMessage(view: MessageView, rec: MessageRecord, quote?: MessageRecord | null): Message {
  const own = rec.senderId === view.userId;
  const recalled = rec.recalledAt !== null;
  const withheld = !recalled && rec.signoff && !own && !view.signed(rec.seq);
  const state = recalled ? 'recalled' : withheld ? 'withheld' : 'normal';
  const visible = state === 'normal' && rec.text !== null;
  // Optional fields are `undefined` (absent from the JSON), not spread in: a literal with a
  // conditional spread is built key by key, ~35× slower — and a history page presents 50 messages.
  return {
    conversationId: rec.conversationUid as Message['conversationId'],
    seq: rec.seq,
    id: rec.uid as Message['id'],
    senderId: rec.senderUid as Message['senderId'],
    clientMsgId: own ? rec.clientMsgId : undefined,
    kind: rec.kind,
    ts: rec.ts,
    state,
    content: visible ? { text: rec.text!, format: rec.format } : null,
    mentions: visible ? (rec.mentions as Message['mentions']) : [],
    mentionAll: visible ? rec.mentionAll : false,
    replyTo:
      rec.replyToSeq === null || !visible
        ? null
        : { seq: rec.replyToSeq, quote: quote ? presentMessage(view, quote, null) : null },
    signoff: rec.signoff ? { required: true, signed: own || view.signed(rec.seq) } : null,
    editedAt: visible ? rec.editedAt : null,
    reactions: recalled ? [] : (rec.reactions as Message['reactions']),
    file: rec.file ? (visible ? rec.file : null) : undefined,
  };
}

export interface EventRow {
  conversationUid: string;
  seq: number;
  ts: number;
  type: string;
  actorUid: string;
  data: Record<string, unknown> | null;
}

export function presentEvent(
  view: MessageView,
  ev: EventRow,
  rec: MessageRecord | null,
  quote?: MessageRecord | null,
): ConvEvent {
  return {
    conversationId: ev.conversationUid as ConvEvent['conversationId'],
    seq: ev.seq,
    ts: ev.ts,
    type: ev.type as ConvEvent['type'],
    actorId: ev.actorUid as ConvEvent['actorId'],
    message: rec ? presentMessage(view, rec, quote) : null,
    data: ev.data,
  };
}
