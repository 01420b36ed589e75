import type { ConversationId, DepartmentId } from '@enclave/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PresenceClient } from './presence-client.ts';
import { BOB, C1 } from './test-factories.ts';

const D1 = '00000000-0000-7000-8000-0000000000d1' as DepartmentId;

/** A PresenceClient over a recording request function; `ready` is toggled by the test. */
function setup(opts: { idleAfterMs?: number } = {}) {
  const sent: { op: string; input: unknown }[] = [];
  const events: string[] = [];
  let ready = true;
  let now = 0;
  const client = new PresenceClient({
    request: async (op, input) => {
      sent.push({ op, input });
      if (op === 'presence.subscribe')
        return {
          users: [{ userId: BOB, state: 'online' }],
          departments: [{ departmentId: D1, total: 5, online: 2 }],
        } as never;
      return { ok: true } as never;
    },
    isReady: () => ready,
    emit: (name) => events.push(name),
    idleAfterMs: opts.idleAfterMs,
    now: () => now,
  });
  return {
    client,
    sent,
    events,
    setReady: (r: boolean) => (ready = r),
    advance: (ms: number) => (now += ms),
    ops: () => sent.map((s) => s.op),
  };
}

describe('PresenceClient', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('subscribes with a snapshot and re-sends the subscription and a chosen state after reconnect', async () => {
    const t = setup();
    const view = await t.client.subscribe([BOB], [D1]);
    expect(view.users[BOB]?.state).toBe('online');
    expect(view.departments[D1]).toEqual({ total: 5, online: 2 });
    await t.client.set('busy');
    t.client.onDisconnected();
    expect(t.client.view.users).toEqual({});
    t.client.onReady();
    await vi.waitFor(() =>
      expect(t.ops()).toEqual(['presence.subscribe', 'presence.set', 'presence.subscribe', 'presence.set']),
    );
    expect(t.sent[3]!.input).toEqual({ state: 'busy' });
    expect(t.client.view.users[BOB]?.state).toBe('online');
  });

  it('a subscription made while disconnected is sent when ready', async () => {
    const t = setup();
    t.setReady(false);
    await t.client.subscribe([BOB], []);
    expect(t.sent).toEqual([]);
    t.setReady(true);
    t.client.onReady();
    await vi.waitFor(() => expect(t.ops()).toEqual(['presence.subscribe']));
  });

  it('typing sends at most one frame per 3 s', async () => {
    const t = setup();
    const c = C1 as ConversationId;
    expect(await t.client.typing(c)).toBe(true);
    t.advance(1_000);
    expect(await t.client.typing(c)).toBe(false);
    t.advance(2_000);
    expect(await t.client.typing(c)).toBe(true);
    expect(t.ops()).toEqual(['typing', 'typing']);
  });

  it('auto-away after idleAfterMs, online again on activity; an explicit busy is never overridden', async () => {
    const t = setup({ idleAfterMs: 60_000 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.sent).toEqual([{ op: 'presence.set', input: { state: 'away' } }]);
    t.client.activity();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sent.at(-1)).toEqual({ op: 'presence.set', input: { state: 'online' } });
    await t.client.set('busy');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.sent.map((s) => (s.input as { state: string }).state)).toEqual(['away', 'online', 'busy']);
    t.client.stop();
  });

  it('volatile events are parsed, applied to the view and emitted', async () => {
    const t = setup();
    await t.client.subscribe([BOB], [D1]);
    t.client.handle({ ev: 'presence', data: { userId: BOB, state: 'away', since: 10 } });
    t.client.handle({ ev: 'department', data: { departmentId: D1, total: 5, online: 3 } });
    t.client.handle({ ev: 'typing', data: { conversationId: C1, userId: BOB } });
    t.client.handle({ ev: 'typing', data: { bogus: true } });
    expect(t.client.view.users[BOB]).toEqual({ state: 'away', since: 10 });
    expect(t.client.view.departments[D1]?.online).toBe(3);
    expect(t.events.filter((e) => e !== 'presence.view')).toEqual(['presence', 'department', 'typing']);
  });
});
