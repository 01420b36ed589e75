/**
 * Lossless sync end to end, with the SDK as the client: devices agree, offline users catch up in
 * order, retries never duplicate, the outbox survives a restart, and a lossy bus heals.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeClient, type EnclaveClient } from '@enclave/sdk/node';
import type { ConversationId } from '@enclave/protocol';
import {
  clientId,
  http,
  login,
  makeUser,
  startServer,
  text,
  WsClient,
  type TestServer,
  type TestUser,
} from './harness.ts';

async function until(cond: () => boolean, timeoutMs = 15_000, what = 'condition') {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const seqsOf = (c: EnclaveClient, id: string) =>
  (c.state.conversations[id]?.messages ?? []).filter((m) => m.state === 'normal').map((m) => m.seq);
const textsOf = (c: EnclaveClient, id: string) =>
  (c.state.conversations[id]?.messages ?? []).map((m) => m.content?.text ?? '');

async function openDirect(srv: TestServer, a: TestUser, b: TestUser): Promise<ConversationId> {
  const r = await http<{ id: ConversationId }>(srv, 'POST', '/api/v1/conversations/direct', {
    token: a.token,
    body: { userId: b.id },
  });
  return r.body.id;
}

async function restSend(srv: TestServer, u: TestUser, conversationId: string, body: string, cmid = clientId()) {
  const r = await http<{ seq: number }>(srv, 'POST', `/api/v1/conversations/${conversationId}/messages`, {
    token: u.token,
    body: { clientMsgId: cmid, content: text(body) },
  });
  expect(r.status).toBe(200);
  return r.body;
}

describe('sync and reconnect (SDK end to end)', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const clients: EnclaveClient[] = [];
  const client = (token: string, extra: Partial<Parameters<typeof createNodeClient>[0]> = {}) => {
    const c = createNodeClient({ baseUrl: srv.url, token, gapHoldMs: 100, syncCheckMs: 1_000, ...extra });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    srv = await startServer();
    alice = await makeUser(srv);
    bob = await makeUser(srv);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await srv.close();
  });

  it('two devices of one user see the same history, and reading on one marks read on the other', async () => {
    const conv = await openDirect(srv, alice, bob);
    const second = await login(srv, alice.username, alice.password, 'phone');
    const desk = client(alice.token);
    const phone = client(second.token);
    await Promise.all([desk.connect(), phone.connect()]);
    for (let i = 1; i <= 5; i++) await restSend(srv, bob, conv, `消息 ${i}`);
    await until(() => seqsOf(desk, conv).length === 5 && seqsOf(phone, conv).length === 5, 15_000, 'both devices');
    expect(seqsOf(desk, conv)).toEqual(seqsOf(phone, conv));
    expect(desk.state.conversations[conv]!.summary.unread).toBe(5);
    await desk.markRead(conv, 5);
    await until(() => phone.state.conversations[conv]?.summary.readSeq === 5, 15_000, 'read state on the phone');
    expect(phone.state.conversations[conv]!.summary.unread).toBe(0);
  });

  it('a user who was offline gets every missed message in order on reconnect', async () => {
    const carol = await makeUser(srv);
    const conv = await openDirect(srv, alice, carol);
    for (let i = 1; i <= 60; i++) await restSend(srv, alice, conv, `missed ${i}`);
    const c = client(carol.token);
    await c.connect();
    await until(() => !!c.state.conversations[conv], 15_000, 'the conversation after sync');
    while (await c.loadHistory(conv as ConversationId, 25));
    expect(seqsOf(c, conv)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(textsOf(c, conv)).toEqual(Array.from({ length: 60 }, (_, i) => `missed ${i + 1}`));
  });

  it('a resend after a dropped ack does not duplicate', async () => {
    const conv = await openDirect(srv, alice, bob);
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) {
      const cmid = clientId('drop');
      ids.push(cmid);
      const ws = await WsClient.connect(srv, alice.token);
      ws.send({
        op: 'message.send',
        ref: 'x',
        data: { conversationId: conv, clientMsgId: cmid, content: text(`drop ${i}`) },
      });
      // Vary the moment the socket dies: before, around and after the commit.
      await new Promise((r) => setTimeout(r, i % 3));
      ws.ws.terminate();
      const retry = await WsClient.connect(srv, alice.token);
      const ack = await retry.call('message.send', {
        conversationId: conv,
        clientMsgId: cmid,
        content: text(`drop ${i}`),
      });
      expect(ack.seq).toBeGreaterThan(0);
      retry.close();
    }
    const hist = await http<{ events: { message: { clientMsgId?: string } | null }[] }>(
      srv,
      'GET',
      `/api/v1/conversations/${conv}/events?before=100000&limit=200`,
      { token: alice.token },
    );
    const seen = hist.body.events.map((e) => e.message?.clientMsgId).filter((x) => x && ids.includes(x));
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('sync gives each moved conversation its newest events in order, and says when older ones since the token were left out', async () => {
    const carol = await makeUser(srv);
    const busy = await openDirect(srv, alice, carol);
    const quiet = await openDirect(srv, bob, carol);
    const first = await http<{ token: string }>(srv, 'POST', '/api/v1/sync', { token: carol.token, body: {} });
    for (let i = 1; i <= 7; i++) await restSend(srv, alice, busy, `busy ${i}`);
    await restSend(srv, bob, quiet, 'quiet 1');
    const r = await http<{
      conversations: {
        conversation: { id: string };
        events: { seq: number; message?: { content?: { text: string } } }[];
        limited: boolean;
      }[];
    }>(srv, 'POST', '/api/v1/sync', {
      token: carol.token,
      body: { token: first.body.token, eventsPerConversation: 3 },
    });
    expect(r.status).toBe(200);
    const of = (id: string) => r.body.conversations.find((c) => c.conversation.id === id)!;
    expect(of(busy).events.map((e) => e.message?.content?.text)).toEqual(['busy 5', 'busy 6', 'busy 7']);
    expect(of(busy).events.map((e) => e.seq)).toEqual([...of(busy).events.map((e) => e.seq)].sort((x, y) => x - y));
    expect(of(busy).limited).toBe(true);
    expect(of(quiet).events.map((e) => e.message?.content?.text)).toEqual(['quiet 1']);
    expect(of(quiet).limited).toBe(false);
  });

  it('the outbox survives a restart of the client and delivers once, in order, with the same ids', async () => {
    const dave = await makeUser(srv);
    const conv = await openDirect(srv, dave, bob);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-outbox-'));
    const file = path.join(dir, 'outbox.json');
    // First run: offline (never connects); three messages wait in the outbox file.
    const offline = createNodeClient({ baseUrl: srv.url, token: dave.token, outboxFile: file });
    const ids = [];
    for (let i = 1; i <= 3; i++) ids.push(await offline.send(conv, { text: `queued ${i}` }));
    offline.close();
    expect(fs.readFileSync(file, 'utf8')).toContain(ids[2]);
    // Second run: a new client from the same file connects and drains it.
    const next = client(dave.token, { outboxFile: file });
    await next.connect();
    await until(() => next.pendingWrites.length === 0, 15_000, 'the outbox to drain');
    const hist = await http<{
      events: { message: { clientMsgId?: string; content: { text: string } | null } | null }[];
    }>(srv, 'GET', `/api/v1/conversations/${conv}/events?after=0`, { token: dave.token });
    const mine = hist.body.events.map((e) => e.message).filter((m) => m?.clientMsgId);
    expect(mine.map((m) => m!.clientMsgId)).toEqual(ids);
    expect(mine.map((m) => m!.content!.text)).toEqual(['queued 1', 'queued 2', 'queued 3']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('with a lossy bus (drops, delays, reorders 30% of durable events)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ config: { busFaults: 0.3 } });
  });
  afterAll(() => srv.close());

  it('clients still converge on every message, in order, exactly once', async () => {
    const alice = await makeUser(srv);
    const bob = await makeUser(srv);
    const conv = await openDirect(srv, alice, bob);
    const a = createNodeClient({ baseUrl: srv.url, token: alice.token, gapHoldMs: 100, syncCheckMs: 500 });
    const b = createNodeClient({ baseUrl: srv.url, token: bob.token, gapHoldMs: 100, syncCheckMs: 500 });
    await Promise.all([a.connect(), b.connect()]);
    for (let i = 1; i <= 40; i++) await a.send(conv, { text: `lossy ${i}` });
    await until(() => seqsOf(b, conv).length === 40 && seqsOf(a, conv).length === 40, 20_000, 'convergence');
    const expected = Array.from({ length: 40 }, (_, i) => i + 1);
    expect(seqsOf(b, conv)).toEqual(expected);
    expect(seqsOf(a, conv)).toEqual(expected);
    expect(textsOf(b, conv)).toEqual(expected.map((i) => `lossy ${i}`));
    const stats = (srv.app.deps.bus as unknown as { stats: { dropped: number } }).stats;
    expect(stats.dropped).toBeGreaterThan(0);
    a.close();
    b.close();
  });
});
