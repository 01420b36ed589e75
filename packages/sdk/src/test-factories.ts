import type { Conversation, ConversationId, ConvEvent, Message, MessageId, UserEvent, UserId } from '@enclave/protocol';

/* Builders shared by the SDK's unit tests (STYLE 9). Ids are fixed UUIDs so failures read well. */

export const ME = '00000000-0000-7000-8000-00000000000a' as UserId;
export const BOB = '00000000-0000-7000-8000-00000000000b' as UserId;
export const C1 = '00000000-0000-7000-8000-0000000000c1' as ConversationId;
export const C2 = '00000000-0000-7000-8000-0000000000c2' as ConversationId;

export function conversation(patch: Partial<Conversation> = {}): Conversation {
  return {
    id: C1,
    kind: 'group',
    name: 'c1',
    peer: null,
    lastSeq: 0,
    lastTs: 0,
    minSeq: 1,
    unread: 0,
    mentions: 0,
    preview: null,
    muted: false,
    pinned: false,
    role: 'member',
    readSeq: 0,
    peerReadSeq: null,
    peerDeliveredSeq: null,
    memberCount: 2,
    announcement: null,
    allMuted: false,
    historyMode: 'from_join',
    dissolved: false,
    active: true,
    ...patch,
  };
}

export function message(seq: number, patch: Partial<Message> = {}): Message {
  return {
    conversationId: C1,
    seq,
    id: `00000000-0000-7000-8000-${String(seq).padStart(12, '0')}` as MessageId,
    senderId: BOB,
    kind: 'text',
    ts: 1000 + seq,
    state: 'normal',
    content: { text: `m${seq}`, format: 'markdown' },
    mentions: [],
    mentionAll: false,
    replyTo: null,
    signoff: null,
    editedAt: null,
    reactions: [],
    ...patch,
  };
}

/** A `message.created` event for message `seq` (override the event or message fields). */
export function created(seq: number, msg: Partial<Message> = {}, patch: Partial<ConvEvent> = {}): ConvEvent {
  const m = message(seq, msg);
  return {
    conversationId: m.conversationId,
    seq,
    ts: m.ts,
    type: 'message.created',
    actorId: m.senderId,
    message: m,
    data: null,
    ...patch,
  };
}

/** An event at `seq` that replaces message `target` (edit, recall, reaction). */
export function replacing(
  type: 'message.edited' | 'message.recalled' | 'reaction.changed',
  seq: number,
  target: Message,
): ConvEvent {
  return {
    conversationId: target.conversationId,
    seq,
    ts: 2000 + seq,
    type,
    actorId: target.senderId,
    message: target,
    data: null,
  };
}

export function userEvent(useq: number, type: UserEvent['type'], data: Record<string, unknown>): UserEvent {
  return { useq, ts: 3000 + useq, type, conversationId: C1, data };
}
