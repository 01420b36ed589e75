import { describe, expect, it } from 'vitest';
import type { Message } from '@enclave/protocol';
import type { PendingEcho } from '@enclave/sdk';
import { buildRows } from './timeline-rows.ts';

const day = new Date(2026, 10, 2, 9, 0).getTime();
function msg(seq: number, senderId: string, ts: number, extra: Partial<Message> = {}): Message {
  return {
    conversationId: 'c' as never,
    seq,
    id: `m${seq}` as never,
    senderId: senderId as never,
    kind: 'text',
    ts,
    state: 'normal',
    content: { text: `t${seq}`, format: 'markdown' },
    mentions: [],
    mentionAll: false,
    replyTo: null,
    signoff: null,
    editedAt: null,
    reactions: [],
    ...extra,
  };
}
const echo = (id: string, createdAt: number): PendingEcho => ({
  clientMsgId: id,
  conversationId: 'c' as never,
  content: { text: id, format: 'markdown' },
  mentions: [],
  mentionAll: false,
  replyToSeq: null,
  createdAt,
  state: 'pending',
  seq: null,
  messageId: null,
  error: null,
});

describe('buildRows', () => {
  it('puts a day separator before each new day and groups one sender within five minutes', () => {
    const rows = buildRows(
      [
        msg(1, 'a', day),
        msg(2, 'a', day + 60_000),
        msg(3, 'a', day + 10 * 60_000),
        msg(4, 'b', day + 11 * 60_000),
        msg(5, 'b', day + 86_400_000),
      ],
      [],
    );
    expect(rows.map((r) => (r.kind === 'message' ? `${r.message.seq}${r.grouped ? 'g' : ''}` : r.kind))).toEqual([
      'day',
      '1',
      '2g',
      '3',
      '4',
      'day',
      '5',
    ]);
  });

  it('never groups after a recalled message or a system line', () => {
    const rows = buildRows([msg(1, 'a', day, { state: 'recalled', content: null }), msg(2, 'a', day + 1000)], []);
    expect(rows.filter((r) => r.kind === 'message').map((r) => r.kind === 'message' && r.grouped)).toEqual([
      false,
      false,
    ]);
  });

  it('appends pending echoes in creation order and drops echoes whose message is loaded', () => {
    const rows = buildRows([msg(1, 'me', day, { clientMsgId: 'x' })], [echo('y', day + 2000), echo('x', day + 1000)]);
    expect(rows.map((r) => r.key)).toEqual(['d1', 'm1', 'py']);
  });

  it('marks the unloaded stretch after a jump, with the day shown again after it', () => {
    const messages = [msg(4, 'a', day), msg(5, 'a', day + 1000), msg(40, 'a', day + 2000)];
    expect(buildRows(messages, [], { from: 6, to: 39 }).map((r) => r.key)).toEqual([
      'd4',
      'm4',
      'm5',
      'g6',
      'd40',
      'm40',
    ]);
    // Nothing loaded after the gap yet: it closes the list.
    expect(buildRows(messages.slice(0, 2), [], { from: 6, to: 39 }).map((r) => r.key)).toEqual([
      'd4',
      'm4',
      'm5',
      'g6',
    ]);
  });
});
