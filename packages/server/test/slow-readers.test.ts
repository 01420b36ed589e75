import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpOutput } from '@enclave/protocol';
import { clientId, http, makeUser, startServer, text, WsClient, type TestServer, type TestUser } from './harness.ts';

/*
 * Slow readers cannot grow the server's memory without bound. A client that stops reading has its
 * frames queued; past the per-socket limit (8 MiB by default, 1 MiB here) it is closed with `overflow` (4008) after what
 * is queued, and when all sockets together pass the process budget the slowest are dropped at
 * once. Readers that keep up are untouched, and nothing durable is lost: a dropped client gets
 * every message from sync when it returns.
 */

const BODY = '慢'.repeat(9_000); // ~27 KB per frame in UTF-8

type Sent = OpOutput<'message.send'>;

async function group(srv: TestServer, owner: TestUser, members: TestUser[]): Promise<string> {
  const r = await http<{ id: string }>(srv, 'POST', '/api/v1/groups', {
    token: owner.token,
    body: { name: 'slow', memberIds: members.map((m) => m.id) },
  });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return r.body.id;
}

async function flood(srv: TestServer, from: TestUser, conv: string, n: number): Promise<number> {
  let last = 0;
  for (let i = 0; i < n; i++) {
    const r = await http<Sent>(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
      token: from.token,
      body: { clientMsgId: clientId('slow'), content: text(`${i}|${BODY}`) },
    });
    expect(r.status).toBe(200);
    last = r.body.seq;
  }
  return last;
}

/** Stop reading from the TCP socket: the kernel buffers fill, then the server's queue grows. */
function stopReading(c: WsClient) {
  (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
}
function resumeReading(c: WsClient) {
  (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
}

async function closedWithin(c: WsClient, ms: number) {
  const until = Date.now() + ms;
  while (!c.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return c.closed;
}

describe('slow readers', () => {
  describe('one socket past its own limit', () => {
    let srv: TestServer;
    beforeAll(async () => {
      srv = await startServer({ config: { socketQueueMaxBytes: 1024 * 1024 } });
    });
    afterAll(async () => srv.close());

    it('is closed with overflow (4008) after its queue, while a reader that keeps up gets everything', async () => {
      const [sender, slowUser, fastUser] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
      const conv = await group(srv, sender, [slowUser, fastUser]);
      const slow = await WsClient.connect(srv, slowUser.token);
      const fast = await WsClient.connect(srv, fastUser.token);
      stopReading(slow);
      const last = await flood(srv, sender, conv, 500); // ~13 MB: past what the kernel buffers hold + 1 MiB
      await fast.waitFor((f) => f.ev === 'conv' && (f.data as { seq?: number }).seq === last, 60_000);
      expect(fast.closed).toBeNull();
      resumeReading(slow);
      const closed = await closedWithin(slow, 60_000);
      expect(closed?.code).toBe(4008);
      expect(slow.frames.some((f) => f.ev === 'closing' && (f.data as { reason: string }).reason === 'overflow')).toBe(
        true,
      );

      const metrics = await http<string>(srv, 'GET', '/metrics');
      expect(metrics.body).toMatch(/^enclave_slow_readers_closed_total\{[^}]*\} 1$/m);
      expect(metrics.body).toMatch(/^enclave_slow_readers_cut_total\{[^}]*\} 0$/m);

      // Back again: sync brings the conversation up to the last message — nothing was lost.
      const again = await WsClient.connect(srv, slowUser.token, { sync: false });
      const r = await again.call('conversation.events', { conversationId: conv, before: last + 1, limit: 5 });
      expect((r as { events: { seq: number }[] }).events.at(-1)?.seq).toBe(last);
      again.ws.close();
      fast.ws.close();
    }, 180_000);
  });

  describe('many sockets past the process budget', () => {
    let srv: TestServer;
    beforeAll(async () => {
      // Each socket's own limit well above what the flood queues, so only the process budget drops.
      srv = await startServer({
        config: { outboundBudgetBytes: 4 * 1024 * 1024, socketQueueMaxBytes: 64 * 1024 * 1024 },
      });
    });
    afterAll(async () => srv.close());

    it('drops the slowest readers at once and keeps serving the rest', async () => {
      const sender = await makeUser(srv);
      const slowUsers: TestUser[] = [];
      for (let i = 0; i < 8; i++) slowUsers.push(await makeUser(srv));
      const fastUser = await makeUser(srv);
      const conv = await group(srv, sender, [...slowUsers, fastUser]);
      const slow = await Promise.all(slowUsers.map((u) => WsClient.connect(srv, u.token)));
      const fast = await WsClient.connect(srv, fastUser.token);
      for (const c of slow) stopReading(c);
      // ~16 MB per slow socket: more than the kernel's socket buffers take in on loopback (their
      // autotuned sizes vary with the machine's state; up to ~10 MB were seen), under its own limit.
      const last = await flood(srv, sender, conv, 600);
      await fast.waitFor((f) => f.ev === 'conv' && (f.data as { seq?: number }).seq === last, 60_000);
      for (const c of slow) resumeReading(c);
      const closes = await Promise.all(slow.map((c) => closedWithin(c, 30_000)));
      // Dropped without a close frame (terminated): the budget frees memory now, not after the queue.
      expect(closes.filter((c) => c !== null).length).toBeGreaterThan(0);
      for (const c of closes) if (c) expect(c.code).not.toBe(4008);
      expect(fast.closed).toBeNull();
      const metrics = await http<string>(srv, 'GET', '/metrics');
      const cut = Number(/^enclave_slow_readers_cut_total\{[^}]*\} (\d+)$/m.exec(metrics.body)?.[1]);
      expect(cut).toBeGreaterThanOrEqual(closes.filter((c) => c !== null).length);
      const pong = await fast.request('ping', {});
      expect(pong.ok).toBe(true);
      fast.ws.close();
      for (const c of slow) c.ws.close();
    }, 180_000);
  });
});
