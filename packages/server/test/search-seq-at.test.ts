/**
 * The history calendar's jump to a date (`conversation.seqAt`) on every store: the first event at or
 * after a time, within what the viewer may see (from_join groups, removed members, non-members).
 * Messages are written under a controlled clock so their times are known.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { OpOutput } from '@enclave/protocol';
import { clientId, http, makeUser, serverOnStore, type TestServer, type TestUser } from './harness.ts';
import { allStoreTargets } from './stores.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Midnight UTC of a past Monday: day n starts at DAY0 + n·DAY. */
const DAY0 = Date.UTC(2025, 0, 6);

describe.each(allStoreTargets())('jump to a date on $kind', (target) => {
  describe.skipIf(target.skipReason !== null)('store', () => {
    const server = serverOnStore(target, { now: () => clock });
    let srv: TestServer;
    let clock = Date.now();
    let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
    let g: string;
    /** Every event written, in order: its seq and the time it was written at. */
    const written: { seq: number; ts: number; text: string }[] = [];

    async function send(u: TestUser, at: number, text: string) {
      clock = at;
      const r = await http<OpOutput<'message.send'>>(srv, 'POST', `/api/v1/conversations/${g}/messages`, {
        token: u.token,
        body: { clientMsgId: clientId(), content: { text, format: 'plain' } },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.ts).toBe(at);
      written.push({ seq: r.body.seq, ts: at, text });
      return r.body.seq;
    }

    async function seqAt(u: TestUser, ts: number) {
      const r = await http<OpOutput<'conversation.seqAt'>>(srv, 'GET', `/api/v1/conversations/${g}/seq-at?ts=${ts}`, {
        token: u.token,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.seq;
    }

    beforeAll(async () => {
      srv = server();
      [alice, bob, carol, dave] = await Promise.all([makeUser(srv), makeUser(srv), makeUser(srv), makeUser(srv)]);
      clock = DAY0 + 9 * HOUR;
      const r = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
        token: alice.token,
        body: { name: '日历跳转', memberIds: [bob.id] },
      });
      g = r.body.id;
      await send(alice, DAY0 + 9 * HOUR, '周一早上');
      await send(bob, DAY0 + 10 * HOUR, '周一上午');
      await send(alice, DAY0 + 2 * DAY + 8 * HOUR, '周三早上');
      await send(bob, DAY0 + 2 * DAY + 12 * HOUR, '周三中午');
      await send(alice, DAY0 + 4 * DAY + 9 * HOUR, '周五');
    }, 60_000);

    it('finds the first event at or after a time, or null after the last one', async () => {
      const first = written[0]!.seq;
      // Before the group existed: its first event (the creation) is the answer.
      expect(await seqAt(bob, 0)).toBe(1);
      expect(await seqAt(bob, DAY0)).toBe(1);
      expect(await seqAt(bob, DAY0 + 9 * HOUR + 1)).toBe(first + 1);
      // A day without messages jumps to the next day that has some.
      expect(await seqAt(bob, DAY0 + DAY)).toBe(written.find((w) => w.text === '周三早上')!.seq);
      expect(await seqAt(bob, DAY0 + 2 * DAY + 9 * HOUR)).toBe(written.find((w) => w.text === '周三中午')!.seq);
      expect(await seqAt(bob, DAY0 + 4 * DAY)).toBe(written.find((w) => w.text === '周五')!.seq);
      expect(await seqAt(bob, DAY0 + 4 * DAY + 9 * HOUR + 1)).toBeNull();
    });

    it('agrees with a linear scan over a longer stream', async () => {
      let at = DAY0 + 5 * DAY;
      for (let i = 0; i < 37; i++) {
        at += (i % 5) * 7 * 60_000; // several messages share a time
        await send(i % 2 ? alice : bob, at, `第${i}条`);
      }
      const probes = [DAY0 + 5 * DAY, ...written.slice(5).flatMap((w) => [w.ts - 1, w.ts, w.ts + 1]), at + 1];
      for (const ts of probes) {
        const expected = written.find((w) => w.ts >= ts)?.seq ?? null;
        expect(await seqAt(bob, ts), `ts ${ts}`).toBe(expected);
      }
    });

    it('stays within what the viewer may see', async () => {
      // Carol joins the from_join group later: earlier dates land on her join.
      clock = DAY0 + 10 * DAY;
      const joined = await http(srv, 'POST', `/api/v1/groups/${g}/members`, {
        token: alice.token,
        body: { userIds: [carol.id] },
      });
      expect(joined.status, JSON.stringify(joined.body)).toBe(200);
      const head = written.at(-1)!.seq;
      expect(await seqAt(carol, DAY0)).toBe(head + 1);
      const seen = await send(alice, DAY0 + 11 * DAY, '卡罗尔能看到');
      expect(await seqAt(carol, DAY0 + 10 * DAY + 1)).toBe(seen);
      // Removed: nothing after her removal is hers to jump to.
      clock = DAY0 + 12 * DAY;
      const removed = await http(srv, 'DELETE', `/api/v1/groups/${g}/members/${carol.id}`, { token: alice.token });
      expect(removed.status).toBe(200);
      const later = await send(alice, DAY0 + 13 * DAY, '卡罗尔看不到');
      expect(await seqAt(bob, DAY0 + 12 * DAY + 1)).toBe(later);
      expect(await seqAt(carol, DAY0 + 12 * DAY + 1)).toBeNull();
      expect(await seqAt(carol, DAY0 + 11 * DAY)).toBe(seen);
      // Never a member: not found, as for every other read.
      const foreign = await http<{ error: { code: string } }>(srv, 'GET', `/api/v1/conversations/${g}/seq-at?ts=0`, {
        token: dave.token,
      });
      expect(foreign.status).toBe(404);
      expect(foreign.body.error.code).toBe('conversation_not_found');
      const bad = await http<{ error: { code: string } }>(srv, 'GET', `/api/v1/conversations/${g}/seq-at?ts=-5`, {
        token: bob.token,
      });
      expect(bad.status).toBe(400);
    });
  });
});
