import type { ConversationId, ConvEvent, EventRange, UserEvent } from '@enclave/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GapFiller } from './gaps.ts';
import { reduce } from './reducer.ts';
import { initialState, type Action, type ClientState } from './state.ts';
import { C1, conversation, created, ME, userEvent } from './test-factories.ts';

/** A store around the real reducer and a fake server holding C1's events 1..lastSeq. */
function setup(serverEvents: ConvEvent[], opts: { minSeq?: number; pageSize?: number } = {}) {
  let state: ClientState = [
    { type: 'session.started', me: ME } as Action,
    {
      type: 'sync.result',
      result: {
        token: 't',
        userEvents: [],
        conversations: [{ conversation: conversation({ lastSeq: 5 }), events: [], limited: false }],
        limited: false,
        totalUnread: 0,
        serverTime: 0,
      },
    } as Action,
  ].reduce(reduce, initialState);
  const dispatch = (a: Action) => {
    state = reduce(state, a);
  };
  const fetchAfter = vi.fn(
    async (conversationId: ConversationId, after: number, limit: number): Promise<EventRange> => {
      const minSeq = opts.minSeq ?? 1;
      const newer = serverEvents.filter((e) => e.seq > after && e.seq >= minSeq);
      return {
        conversationId,
        events: newer.slice(0, limit),
        headSeq: serverEvents.length,
        minSeq,
        hasMore: newer.length > limit,
      };
    },
  );
  const resync = vi.fn(async () => {});
  const gaps = new GapFiller({
    getState: () => state,
    dispatch,
    fetchAfter,
    resync,
    pageSize: opts.pageSize ?? 200,
  });
  const live = (e: ConvEvent) => {
    dispatch({ type: 'conv.event', event: e });
    gaps.noteConversation(C1);
  };
  const liveUser = (e: UserEvent) => {
    dispatch({ type: 'user.event', event: e });
    gaps.noteUserStream();
  };
  return { gaps, fetchAfter, resync, live, liveUser, head: () => state.conversations[C1]!.cursor.head };
}

const events = (n: number) => Array.from({ length: n }, (_, i) => created(i + 1));

describe('GapFiller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not pull when the missing event arrives within the hold-back', async () => {
    const t = setup(events(7));
    t.live(created(7));
    await vi.advanceTimersByTimeAsync(200);
    t.live(created(6));
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.fetchAfter).not.toHaveBeenCalled();
    expect(t.head()).toBe(7);
  });

  it('pulls after the head once the hold-back expires, not before', async () => {
    const t = setup(events(8));
    t.live(created(8));
    await vi.advanceTimersByTimeAsync(299);
    expect(t.fetchAfter).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(t.fetchAfter).toHaveBeenCalledTimes(1);
    expect(t.fetchAfter).toHaveBeenCalledWith(C1, 5, 200);
    expect(t.head()).toBe(8);
  });

  it('a burst of reordered events starts one hold-back, not one per event', async () => {
    const t = setup(events(10));
    t.live(created(10));
    t.live(created(8));
    t.live(created(9));
    await vi.advanceTimersByTimeAsync(300);
    expect(t.fetchAfter).toHaveBeenCalledTimes(1);
    expect(t.head()).toBe(10);
  });

  it('loops page by page until caught up', async () => {
    const t = setup(events(12), { pageSize: 3 });
    t.live(created(12));
    await vi.advanceTimersByTimeAsync(300);
    expect(t.fetchAfter.mock.calls.map((c) => c[1])).toEqual([5, 8]);
    expect(t.head()).toBe(12);
  });

  it('a gap below minSeq is final: one pull, never retried', async () => {
    const t = setup(events(9), { minSeq: 9 });
    t.live(created(9));
    await vi.advanceTimersByTimeAsync(300);
    expect(t.head()).toBe(9);
    t.gaps.noteConversation(C1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.fetchAfter).toHaveBeenCalledTimes(1);
  });

  it('a user-stream gap that persists triggers one sync after the hold-back', async () => {
    const t = setup([]);
    t.liveUser(userEvent(1, 'settings.changed', {}));
    t.liveUser(userEvent(3, 'settings.changed', {}));
    await vi.advanceTimersByTimeAsync(299);
    expect(t.resync).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(t.resync).toHaveBeenCalledTimes(1);
  });

  it('runs the periodic token check until stopped', async () => {
    const t = setup([]);
    t.gaps.start();
    await vi.advanceTimersByTimeAsync(45_000 * 2);
    expect(t.resync).toHaveBeenCalledTimes(2);
    t.gaps.stop();
    await vi.advanceTimersByTimeAsync(45_000 * 2);
    expect(t.resync).toHaveBeenCalledTimes(2);
  });
});
