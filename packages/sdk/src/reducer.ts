import { Conversation, Message, type ConvEvent, type UserEvent } from '@enclave/protocol';
import { cursorAdd, cursorHas, cursorRaise } from './seq-cursor.ts';
import type { Action, ClientState, ConversationView, PendingEcho } from './state.ts';
import { applyConvEvent, findMessage, mergeSnapshot, narrowGap, openWindow, upsertMessage } from './timeline.ts';

/*
 * The client state as a pure function of the actions applied to it (STYLE 11): no sockets, no
 * timers, no clock. Every action returns a new state object, or the same one when nothing changed.
 */

function withView(state: ClientState, view: ConversationView): ClientState {
  if (state.conversations[view.summary.id] === view) return state;
  return { ...state, conversations: { ...state.conversations, [view.summary.id]: view } };
}

function withoutPending(state: ClientState, clientMsgId: string): ClientState {
  if (!(clientMsgId in state.pending)) return state;
  const { [clientMsgId]: _gone, ...pending } = state.pending;
  return { ...state, pending };
}

function updatePending(state: ClientState, clientMsgId: string, patch: Partial<PendingEcho>): ClientState {
  const echo = state.pending[clientMsgId];
  if (!echo) return state;
  return { ...state, pending: { ...state.pending, [clientMsgId]: { ...echo, ...patch } } };
}

/** Apply one conversation event; the sender's own message replaces its local echo. */
function applyEvent(state: ClientState, ev: ConvEvent): ClientState {
  const view = state.conversations[ev.conversationId];
  // Unknown conversation: the client loads it (conversation.get) and starts its timeline with this event.
  if (!view) return state;
  let next = withView(state, applyConvEvent(view, ev, state.me));
  const cmid = ev.message?.clientMsgId;
  if (ev.type === 'message.created' && cmid !== undefined && ev.message?.senderId === state.me) {
    next = withoutPending(next, cmid);
  }
  return next;
}

function setRead(view: ConversationView, readSeq: number, unread: number | undefined): ConversationView {
  const s = view.summary;
  if (readSeq < s.readSeq) return view;
  const nextUnread = unread ?? (readSeq >= s.lastSeq ? 0 : s.unread);
  if (readSeq === s.readSeq && nextUnread === s.unread) return view;
  return {
    ...view,
    summary: { ...s, readSeq, unread: nextUnread, mentions: nextUnread === 0 ? 0 : s.mentions },
  };
}

function applyUserEvent(state: ClientState, ev: UserEvent): ClientState {
  if (cursorHas(state.useq, ev.useq)) return state;
  const next: ClientState = { ...state, useq: cursorAdd(state.useq, ev.useq) };
  const view = next.conversations[ev.conversationId];
  const d = ev.data;
  switch (ev.type) {
    case 'conversation.joined': {
      const conv = Conversation.safeParse(d.conversation);
      if (conv.success) return withView(next, mergeSnapshot(view, conv.data, [], next.me));
      if (!view) return next;
      return withView(next, { ...view, summary: { ...view.summary, active: true } });
    }
    case 'conversation.left':
      return view ? withView(next, { ...view, summary: { ...view.summary, active: false } }) : next;
    case 'settings.changed': {
      if (!view) return next;
      const summary = { ...view.summary };
      if (typeof d.muted === 'boolean') summary.muted = d.muted;
      if (typeof d.pinned === 'boolean') summary.pinned = d.pinned;
      return withView(next, { ...view, summary });
    }
    case 'read.changed': {
      if (!view || typeof d.readSeq !== 'number') return next;
      return withView(next, setRead(view, d.readSeq, typeof d.unread === 'number' ? d.unread : undefined));
    }
    case 'message.signed': {
      const msg = Message.safeParse(d.message);
      if (!view || !msg.success) return next;
      return withView(next, upsertMessage(view, msg.data, view.versions[msg.data.seq] ?? msg.data.seq, true));
    }
    default:
      return next;
  }
}

function applySync(state: ClientState, action: Extract<Action, { type: 'sync.result' }>): ClientState {
  const { result } = action;
  let next = state;
  for (const ev of [...result.userEvents].sort((a, b) => a.useq - b.useq)) next = applyUserEvent(next, ev);
  const maxUseq = result.userEvents.reduce((m, e) => Math.max(m, e.useq), 0);
  next = { ...next, syncToken: result.token, useq: cursorRaise(next.useq, maxUseq) };
  for (const entry of result.conversations) {
    const view = mergeSnapshot(next.conversations[entry.conversation.id], entry.conversation, entry.events, next.me);
    next = withView(next, view);
    for (const ev of entry.events) {
      const cmid = ev.message?.clientMsgId;
      if (ev.type === 'message.created' && cmid !== undefined && ev.message?.senderId === next.me) {
        next = withoutPending(next, cmid);
      }
    }
  }
  return next;
}

function applyRange(state: ClientState, action: Extract<Action, { type: 'range.loaded' }>): ClientState {
  const { range } = action;
  let view = state.conversations[range.conversationId];
  if (!view) return state;
  const floor = Math.max(range.minSeq, 1);
  if (action.before !== undefined) {
    // A history page extends the timeline downwards; without more pages it has reached the floor.
    const lowest = range.events.reduce((m, e) => Math.min(m, e.seq), view.loadedFrom);
    view = { ...view, loadedFrom: range.hasMore ? lowest : Math.min(lowest, floor) };
  }
  // Below the visible floor nothing will ever arrive: that gap is final.
  view = { ...view, summary: { ...view.summary, minSeq: range.minSeq }, cursor: cursorRaise(view.cursor, floor - 1) };
  let next = withView(state, view);
  for (const ev of [...range.events].sort((a, b) => a.seq - b.seq)) next = applyEvent(next, ev);
  return next;
}

/** A jump: the page around a message becomes a window of the timeline (see `openWindow`). */
function applyAround(state: ClientState, action: Extract<Action, { type: 'range.around' }>): ClientState {
  const { range } = action;
  const view = state.conversations[range.conversationId];
  if (!view || range.events.length === 0) return state;
  const seqs = range.events.map((e) => e.seq);
  const floor = Math.max(range.minSeq, 1);
  const lowest = Math.min(...seqs);
  const first = range.hasMore ? lowest : Math.min(lowest, floor);
  const next = withView(state, openWindow(view, first, Math.max(...seqs), !range.hasMoreAfter));
  return applyRange(next, { type: 'range.loaded', range });
}

/** A page after a jump's window: the gap shrinks first, so its events are kept. */
function applyNewer(state: ClientState, action: Extract<Action, { type: 'range.newer' }>): ClientState {
  const { range, after } = action;
  const view = state.conversations[range.conversationId];
  if (!view?.gap || after !== view.gap.from - 1) return state;
  const seqs = range.events.map((e) => e.seq);
  const next = withView(state, narrowGap(view, after, seqs, range.hasMore));
  return applyRange(next, { type: 'range.loaded', range });
}

/** The whole client state transition; see `Action` for what each action means. */
export function reduce(state: ClientState, action: Action): ClientState {
  switch (action.type) {
    case 'session.started':
      return state.me === action.me ? state : { ...state, me: action.me };
    case 'sync.result':
      return applySync(state, action);
    case 'conversations.loaded': {
      let next = state;
      for (const c of action.conversations) {
        const events = action.events?.filter((e) => e.conversationId === c.id) ?? [];
        next = withView(next, mergeSnapshot(next.conversations[c.id], c, events, next.me));
      }
      return next;
    }
    case 'conv.event':
      return applyEvent(state, action.event);
    case 'user.event':
      return applyUserEvent(state, action.event);
    case 'range.loaded':
      return applyRange(state, action);
    case 'range.around':
      return applyAround(state, action);
    case 'range.newer':
      return applyNewer(state, action);
    case 'read.set': {
      const view = state.conversations[action.conversationId];
      return view ? withView(state, setRead(view, action.readSeq, action.unread)) : state;
    }
    case 'receipt': {
      const { conversationId, userId, readSeq, deliveredSeq } = action.receipt;
      const view = state.conversations[conversationId];
      if (!view || view.summary.kind !== 'direct' || userId === state.me) return state;
      const s = view.summary;
      const peerReadSeq = Math.max(s.peerReadSeq ?? 0, readSeq ?? 0);
      const peerDeliveredSeq = Math.max(s.peerDeliveredSeq ?? 0, deliveredSeq ?? 0, peerReadSeq);
      if (peerReadSeq === s.peerReadSeq && peerDeliveredSeq === s.peerDeliveredSeq) return state;
      return withView(state, { ...view, summary: { ...s, peerReadSeq, peerDeliveredSeq } });
    }
    case 'local.send': {
      const e = action.echo;
      const existing = state.pending[e.clientMsgId];
      if (existing) return updatePending(state, e.clientMsgId, { state: 'pending', error: null });
      const echo: PendingEcho = {
        clientMsgId: e.clientMsgId,
        conversationId: e.conversationId,
        content: { text: e.content.text, format: e.content.format ?? 'markdown' },
        mentions: e.mentions ?? [],
        mentionAll: e.mentionAll ?? false,
        replyToSeq: e.replyToSeq ?? null,
        createdAt: e.createdAt,
        state: 'pending',
        seq: null,
        messageId: null,
        error: null,
      };
      return { ...state, pending: { ...state.pending, [e.clientMsgId]: echo } };
    }
    case 'local.ack': {
      const echo = state.pending[action.clientMsgId];
      if (!echo) return state; // the real message arrived first and replaced the echo already
      const view = state.conversations[echo.conversationId];
      const real = view ? findMessage(view, action.seq) : undefined;
      if (real && real.clientMsgId === action.clientMsgId) return withoutPending(state, action.clientMsgId);
      return updatePending(state, action.clientMsgId, {
        state: 'sent',
        seq: action.seq,
        messageId: action.messageId,
        error: null,
      });
    }
    case 'local.failed':
      return updatePending(state, action.clientMsgId, { state: 'failed', error: action.error });
    case 'local.retry':
      return updatePending(state, action.clientMsgId, { state: 'pending', error: null });
    case 'local.discard':
      return withoutPending(state, action.clientMsgId);
  }
}
