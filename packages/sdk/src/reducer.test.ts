import type { Conversation, ConvEvent, EventRange, MessageId, SyncResult } from '@enclave/protocol';
import { describe, expect, it } from 'vitest';
import { reduce } from './reducer.ts';
import { initialState, type Action, type ClientState } from './state.ts';
import { C1, C2, conversation, created, ME, message, replacing, userEvent } from './test-factories.ts';

const sync = (conv: Conversation, events: ConvEvent[], token = 't1', more: Partial<SyncResult> = {}): Action => ({
  type: 'sync.result',
  result: {
    token,
    userEvents: [],
    conversations: [{ conversation: conv, events, limited: false }],
    limited: false,
    totalUnread: conv.unread,
    serverTime: 0,
    ...more,
  },
});

const apply = (state: ClientState, ...actions: Action[]) => actions.reduce(reduce, state);
const ev = (event: ConvEvent): Action => ({ type: 'conv.event', event });

/** Signed in as ME; C1 has messages 1–5 from Bob, all read. */
const base = apply(
  initialState,
  { type: 'session.started', me: ME },
  sync(
    conversation({ lastSeq: 5, readSeq: 5 }),
    [1, 2, 3, 4, 5].map((s) => created(s)),
  ),
);
const range = (events: ConvEvent[], patch: Partial<EventRange> = {}): EventRange => ({
  conversationId: C1,
  events,
  headSeq: 20,
  minSeq: 1,
  hasMore: false,
  ...patch,
});
const echo = (clientMsgId: string): Action => ({
  type: 'local.send',
  echo: { clientMsgId, conversationId: C1, content: { text: 'hi' }, createdAt: 1 },
});
const ack = (clientMsgId: string, seq: number): Action => ({
  type: 'local.ack',
  clientMsgId,
  seq,
  messageId: message(seq).id as MessageId,
  ts: 1,
});
const mine = (seq: number, clientMsgId: string) =>
  created(seq, { senderId: ME, clientMsgId, content: { text: 'hi', format: 'markdown' } });

/** A compact, comparable picture of C1 and the echoes. */
function project(state: ClientState) {
  const v = state.conversations[C1];
  return {
    useq: state.useq.head,
    token: state.syncToken,
    pending: Object.fromEntries(Object.values(state.pending).map((p) => [p.clientMsgId, `${p.state}@${p.seq}`])),
    c1: v && {
      head: v.cursor.head,
      ahead: [...v.cursor.ahead],
      lastSeq: v.summary.lastSeq,
      unread: v.summary.unread,
      readSeq: v.summary.readSeq,
      loadedFrom: v.loadedFrom,
      minSeq: v.summary.minSeq,
      preview: v.summary.preview?.content?.text ?? v.summary.preview?.state ?? null,
      muted: v.summary.muted,
      active: v.summary.active,
      msgs: v.messages.map((m) => `${m.seq}:${m.content?.text ?? m.state}`),
    },
  };
}
type Projection = ReturnType<typeof project>;
type Expected = Partial<Omit<Projection, 'c1'>> & { c1?: Partial<NonNullable<Projection['c1']>> };

const msgs = (...seqs: number[]) => seqs.map((s) => `${s}:m${s}`);
const edited = message(3, { content: { text: 'm3 edited', format: 'markdown' }, editedAt: 9 });

const cases: { name: string; state: ClientState; action: Action; expected: Expected | 'unchanged' }[] = [
  {
    name: 'sync on an empty state takes the server summary and events without recounting unread',
    state: apply(initialState, { type: 'session.started', me: ME }),
    action: sync(conversation({ lastSeq: 3, unread: 2, readSeq: 1 }), [created(2), created(3)]),
    expected: { token: 't1', c1: { head: 3, loadedFrom: 2, unread: 2, readSeq: 1, msgs: msgs(2, 3), preview: 'm3' } },
  },
  {
    name: 'an in-order message from someone else inserts and counts',
    state: base,
    action: ev(created(6)),
    expected: { c1: { head: 6, ahead: [], lastSeq: 6, unread: 1, msgs: msgs(1, 2, 3, 4, 5, 6), preview: 'm6' } },
  },
  {
    name: 'a duplicate event changes nothing',
    state: apply(base, ev(created(6))),
    action: ev(created(6)),
    expected: 'unchanged',
  },
  { name: 'an event at or below head is a duplicate', state: base, action: ev(created(4)), expected: 'unchanged' },
  {
    name: 'an out-of-order event applies and leaves a tracked gap',
    state: base,
    action: ev(created(7)),
    expected: { c1: { head: 5, ahead: [7], lastSeq: 7, unread: 1, msgs: msgs(1, 2, 3, 4, 5, 7) } },
  },
  {
    name: 'the missing event closes the gap and counts too',
    state: apply(base, ev(created(7))),
    action: ev(created(6)),
    expected: { c1: { head: 7, ahead: [], unread: 2, msgs: msgs(1, 2, 3, 4, 5, 6, 7), preview: 'm7' } },
  },
  {
    name: 'an edit replaces the message at message.seq; the event seq advances the head',
    state: base,
    action: ev(replacing('message.edited', 6, edited)),
    expected: { c1: { head: 6, unread: 0, msgs: ['1:m1', '2:m2', '3:m3 edited', '4:m4', '5:m5'] } },
  },
  {
    name: 'an older edit arriving after a newer one does not overwrite it',
    state: apply(base, ev(replacing('message.edited', 7, edited))),
    action: ev(replacing('message.edited', 6, message(3, { content: { text: 'stale', format: 'markdown' } }))),
    expected: { c1: { head: 7, ahead: [], msgs: ['1:m1', '2:m2', '3:m3 edited', '4:m4', '5:m5'] } },
  },
  {
    name: 'a recall replaces content with the tombstone, also in the preview',
    state: base,
    action: ev(replacing('message.recalled', 6, message(5, { state: 'recalled', content: null }))),
    expected: { c1: { head: 6, preview: 'recalled', unread: 0, msgs: [...msgs(1, 2, 3, 4), '5:recalled'] } },
  },
  {
    name: 'a reaction replaces the message and is not counted',
    state: base,
    action: ev(replacing('reaction.changed', 6, message(2, { reactions: [{ emoji: '+1', userIds: [ME] }] }))),
    expected: { c1: { head: 6, unread: 0, lastSeq: 6 } },
  },
  {
    name: 'my own message moves readSeq to it and clears unread',
    state: apply(base, ev(created(6)), ev(created(7))),
    action: ev(created(8, { senderId: ME })),
    expected: { c1: { readSeq: 8, unread: 0, head: 8 } },
  },
  {
    name: 'a message at or below readSeq (read on another device) is not counted',
    state: apply(base, { type: 'user.event', event: userEvent(1, 'read.changed', { readSeq: 7, unread: 0 }) }),
    action: ev(created(6)),
    expected: { c1: { readSeq: 7, unread: 0, head: 6 } },
  },
  {
    name: 'a system message is not counted',
    state: base,
    action: ev(created(6, { kind: 'system' })),
    expected: { c1: { unread: 0, head: 6 } },
  },
  {
    name: 'a conversation first seen in a snapshot that counted its first message: sync brings the message into the timeline',
    state: apply(
      initialState,
      { type: 'session.started', me: ME },
      {
        type: 'conversations.loaded',
        conversations: [conversation({ lastSeq: 1, unread: 1 })],
      },
    ),
    action: sync(conversation({ lastSeq: 1, unread: 1 }), [created(1)]),
    expected: { c1: { head: 1, loadedFrom: 1, unread: 1, msgs: msgs(1) } },
  },
  {
    name: 'a conversation read because live events came first starts its timeline with them',
    state: apply(initialState, { type: 'session.started', me: ME }, ev(created(1)), ev(created(2))),
    action: {
      type: 'conversations.loaded',
      conversations: [conversation({ lastSeq: 2, unread: 2 })],
      events: [created(1), created(2)],
    },
    expected: { c1: { head: 2, loadedFrom: 1, unread: 2, msgs: msgs(1, 2) } },
  },
  {
    name: 'sync events that do not reach the timeline stay history',
    state: apply(
      initialState,
      { type: 'session.started', me: ME },
      {
        type: 'conversations.loaded',
        conversations: [conversation({ lastSeq: 5, unread: 0, readSeq: 5 })],
      },
    ),
    action: sync(conversation({ lastSeq: 5, unread: 0, readSeq: 5 }), [created(2), created(3)]),
    expected: { c1: { head: 5, loadedFrom: 6, msgs: [] } },
  },
  {
    name: 'an event of an unknown conversation is ignored (the client loads it)',
    state: base,
    action: ev(created(1, { conversationId: C2 }, { conversationId: C2 })),
    expected: 'unchanged',
  },
  { name: 'send shows a pending echo', state: base, action: echo('a1'), expected: { pending: { a1: 'pending@null' } } },
  {
    name: 'an ack before the event marks the echo sent',
    state: apply(base, echo('a1')),
    action: ack('a1', 6),
    expected: { pending: { a1: 'sent@6' } },
  },
  {
    name: 'the real message after the ack replaces the echo',
    state: apply(base, echo('a1'), ack('a1', 6)),
    action: ev(mine(6, 'a1')),
    expected: { pending: {}, c1: { head: 6, readSeq: 6, msgs: [...msgs(1, 2, 3, 4, 5), '6:hi'] } },
  },
  {
    name: 'the real message before the ack replaces the echo',
    state: apply(base, echo('a1')),
    action: ev(mine(6, 'a1')),
    expected: { pending: {}, c1: { head: 6 } },
  },
  {
    name: 'an ack after the echo was replaced is a no-op',
    state: apply(base, echo('a1'), ev(mine(6, 'a1'))),
    action: ack('a1', 6),
    expected: 'unchanged',
  },
  {
    name: 'a message by someone else with the same clientMsgId leaves my echo alone',
    state: apply(base, echo('a1')),
    action: ev(created(6, { clientMsgId: 'a1' })),
    expected: { pending: { a1: 'pending@null' } },
  },
  {
    name: 'a failed send keeps the echo as failed',
    state: apply(base, echo('a1')),
    action: { type: 'local.failed', clientMsgId: 'a1', error: { code: 'forbidden', message: 'no' } },
    expected: { pending: { a1: 'failed@null' } },
  },
  {
    name: 'a gap-fill page applies the missing events and counts them',
    state: apply(base, ev(created(8))),
    action: { type: 'range.loaded', range: range([created(6), created(7), created(8)]) },
    expected: { c1: { head: 8, ahead: [], unread: 3, msgs: msgs(1, 2, 3, 4, 5, 6, 7, 8) } },
  },
  {
    name: 'a gap below minSeq is final',
    state: apply(base, ev(created(9))),
    action: { type: 'range.loaded', range: range([], { minSeq: 9, headSeq: 9 }) },
    expected: { c1: { head: 9, ahead: [], minSeq: 9 } },
  },
  {
    name: 'a history page extends the timeline down to the floor without counting',
    state: apply(
      initialState,
      { type: 'session.started', me: ME },
      sync(conversation({ lastSeq: 5, unread: 1, readSeq: 4, minSeq: 2 }), [created(4), created(5)]),
    ),
    action: { type: 'range.loaded', before: 4, range: range([created(3), created(2)], { minSeq: 2 }) },
    expected: { c1: { loadedFrom: 2, head: 5, unread: 1, msgs: msgs(2, 3, 4, 5) } },
  },
  {
    name: 'a limited sync with a hole restarts the timeline and keeps the server counts',
    state: base,
    action: sync(
      conversation({ lastSeq: 50, unread: 45, readSeq: 5 }),
      [created(49), created(50, { senderId: ME })],
      't2',
    ),
    expected: { token: 't2', c1: { head: 50, loadedFrom: 49, unread: 45, readSeq: 5, msgs: msgs(49, 50) } },
  },
  {
    name: 'read.changed from another device sets readSeq and unread',
    state: apply(base, ev(created(6)), ev(created(7))),
    action: { type: 'user.event', event: userEvent(1, 'read.changed', { readSeq: 6, unread: 1 }) },
    expected: { useq: 1, c1: { readSeq: 6, unread: 1 } },
  },
  {
    name: 'a duplicate user event is ignored',
    state: apply(base, { type: 'user.event', event: userEvent(1, 'settings.changed', { muted: true }) }),
    action: { type: 'user.event', event: userEvent(1, 'settings.changed', { muted: false }) },
    expected: 'unchanged',
  },
  {
    name: 'settings.changed and conversation.left update the summary',
    state: apply(base, { type: 'user.event', event: userEvent(1, 'settings.changed', { muted: true }) }),
    action: { type: 'user.event', event: userEvent(2, 'conversation.left', {}) },
    expected: { useq: 2, c1: { muted: true, active: false } },
  },
  {
    name: 'message.signed reveals the content of a withheld message',
    state: apply(base, ev(created(6, { state: 'withheld', content: null }))),
    action: {
      type: 'user.event',
      event: userEvent(1, 'message.signed', { message: message(6, { content: { text: 'secret', format: 'plain' } }) }),
    },
    expected: { c1: { msgs: [...msgs(1, 2, 3, 4, 5), '6:secret'] } },
  },
  {
    name: 'read.set after markRead lowers unread; it never moves back',
    state: apply(base, ev(created(6)), ev(created(7)), { type: 'read.set', conversationId: C1, readSeq: 7, unread: 0 }),
    action: { type: 'read.set', conversationId: C1, readSeq: 6, unread: 1 },
    expected: 'unchanged',
  },
];

describe('reduce', () => {
  it.each(cases)('$name', ({ state, action, expected }) => {
    const frozen = structuredClone(state);
    const next = reduce(state, action);
    expect(state).toEqual(frozen); // pure: the input is never mutated
    if (expected === 'unchanged') expect(next).toBe(state);
    else expect(project(next)).toMatchObject(expected);
  });

  it('has at least 15 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it('keeps the snapshot memberCount when the snapshot carries its member.joined event; live joins add', () => {
    const joined = (seq: number, userIds: string[]): ConvEvent => ({
      ...created(seq),
      type: 'member.joined',
      message: null,
      data: { userIds },
    });
    const s = apply(
      initialState,
      { type: 'session.started', me: ME },
      sync(conversation({ lastSeq: 2, memberCount: 3 }), [joined(1, ['a', 'b', 'c']), created(2)]),
    );
    expect(s.conversations[C1]!.summary.memberCount).toBe(3);
    expect(apply(s, ev(joined(3, ['d']))).conversations[C1]!.summary.memberCount).toBe(4);
  });

  it('counts only once whatever the arrival order', () => {
    const orders = [
      [6, 7, 8],
      [8, 7, 6],
      [7, 6, 8, 6, 7],
    ];
    for (const order of orders) {
      const s = apply(base, ...order.map((n) => ev(created(n))));
      expect(project(s).c1).toMatchObject({ head: 8, ahead: [], unread: 3, msgs: msgs(1, 2, 3, 4, 5, 6, 7, 8) });
    }
  });
});

describe('jump to a message far back (range.around, range.newer)', () => {
  const span = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  /** C1 has 100 messages; sync brought the newest two, 5 unread. */
  const far = apply(
    initialState,
    { type: 'session.started', me: ME },
    sync(conversation({ lastSeq: 100, unread: 5, readSeq: 95 }), [created(99), created(100)]),
  );
  const around = (seqs: number[], more: { hasMore?: boolean; hasMoreAfter?: boolean } = {}): Action => ({
    type: 'range.around',
    range: {
      ...range(
        seqs.map((s) => created(s)),
        { headSeq: 100, hasMore: more.hasMore ?? true },
      ),
      anchorSeq: seqs[Math.floor(seqs.length / 2)]!,
      hasMoreAfter: more.hasMoreAfter ?? true,
    },
  });
  const newer = (after: number, seqs: number[], hasMore: boolean): Action => ({
    type: 'range.newer',
    after,
    range: range(
      seqs.map((s) => created(s)),
      { headSeq: 100, hasMore },
    ),
  });
  const gapOf = (s: ClientState) => s.conversations[C1]!.gap;

  it('keeps the window beside the live tail with a gap between, without touching unread', () => {
    const s = apply(far, around(span(40, 44)));
    expect(project(s).c1).toMatchObject({ head: 100, loadedFrom: 40, unread: 5, msgs: msgs(...span(40, 44), 99, 100) });
    expect(gapOf(s)).toEqual({ from: 45, to: 98 });
    // Live messages still arrive at the tail; an edit of a message in the gap is not shown alone.
    const live = apply(s, ev(created(101)), ev(replacing('message.edited', 102, message(60))));
    expect(project(live).c1).toMatchObject({ head: 102, unread: 6, msgs: msgs(...span(40, 44), 99, 100, 101) });
  });

  it('pages newer until the gap closes; older pages extend the window down', () => {
    let s = apply(far, around(span(40, 44)), newer(44, span(45, 70), true));
    expect(gapOf(s)).toEqual({ from: 71, to: 98 });
    // A page that answers to a gap that has moved on is ignored.
    expect(apply(s, newer(44, span(45, 70), true))).toBe(s);
    s = apply(s, newer(70, span(71, 99), true));
    expect(gapOf(s)).toBeNull();
    expect(project(s).c1).toMatchObject({ head: 100, unread: 5, msgs: msgs(...span(40, 100)) });
    s = apply(s, {
      type: 'range.loaded',
      range: range(
        span(30, 39).map((n) => created(n)),
        { hasMore: true },
      ),
      before: 40,
    });
    expect(project(s).c1).toMatchObject({ loadedFrom: 30, msgs: msgs(...span(30, 100)) });
  });

  it('joins a window that touches the tail, and drops an earlier window on a second jump', () => {
    const touching = apply(far, around(span(90, 98)));
    expect(gapOf(touching)).toBeNull();
    expect(project(touching).c1).toMatchObject({ loadedFrom: 90, msgs: msgs(...span(90, 100)) });
    const reachesHead = apply(far, around(span(60, 70), { hasMoreAfter: false }));
    expect(gapOf(reachesHead)).toBeNull();
    const twice = apply(far, around(span(40, 44)), around(span(10, 14)));
    expect(gapOf(twice)).toEqual({ from: 15, to: 98 });
    expect(project(twice).c1).toMatchObject({ loadedFrom: 10, msgs: msgs(...span(10, 14), 99, 100) });
    // A jump overlapping the current window grows it.
    const overlap = apply(far, around(span(40, 44)), around(span(43, 50)));
    expect(gapOf(overlap)).toEqual({ from: 51, to: 98 });
    expect(project(overlap).c1).toMatchObject({ loadedFrom: 40, msgs: msgs(...span(40, 50), 99, 100) });
    // At the floor of the visible history the window starts at minSeq.
    const floor = apply(far, around(span(3, 8), { hasMore: false }));
    expect(project(floor).c1).toMatchObject({ loadedFrom: 1, msgs: msgs(...span(3, 8), 99, 100) });
  });
});
