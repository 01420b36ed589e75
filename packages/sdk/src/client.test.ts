import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createNodeClient } from './node.ts';
import { C1, conversation, created, ME } from './test-factories.ts';

/** A tiny stand-in server: hello, sync with one conversation, message.send acked then echoed as an event. */
async function fakeServer() {
  const wss = new WebSocketServer({ port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const log: { op: string; data: Record<string, unknown> }[] = [];
  let seq = 0;
  wss.on('connection', (ws) => {
    const reply = (ref: unknown, data: unknown) => ws.send(JSON.stringify({ ref, ok: true, data }));
    ws.send(
      JSON.stringify({
        ev: 'hello',
        data: {
          user: { id: ME, username: 'me', displayName: 'Me', role: 'user', disabled: false },
          sessionId: '00000000-0000-7000-8000-0000000000e1',
          deviceId: '00000000-0000-7000-8000-0000000000d1',
          serverTime: 1,
          heartbeatMs: 25_000,
          mustChangePassword: false,
        },
      }),
    );
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as { op: string; ref: number; data: Record<string, unknown> };
      log.push({ op: f.op, data: f.data });
      if (f.op === 'sync') {
        const conv = { conversation: conversation({ lastSeq: seq }), events: [], limited: false };
        reply(f.ref, {
          token: 'T',
          userEvents: [],
          conversations: [conv],
          limited: false,
          totalUnread: 0,
          serverTime: 1,
        });
      } else if (f.op === 'message.send') {
        const clientMsgId = f.data.clientMsgId as string;
        const ev = created(++seq, { senderId: ME, clientMsgId });
        reply(f.ref, { messageId: ev.message!.id, seq, ts: ev.ts, duplicate: false });
        ws.send(JSON.stringify({ ev: 'conv', data: ev }));
      } else reply(f.ref, { ok: true });
    });
  });
  return { wss, log, baseUrl: `http://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 3000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('EnclaveClient wiring', () => {
  it('sends a message queued before connecting; the event replaces the echo; delivery is reported', async () => {
    const server = await fakeServer();
    cleanup.push(() => server.wss.close());
    const client = createNodeClient({ baseUrl: server.baseUrl, token: 'tok' });
    cleanup.push(() => client.close());
    const clientMsgId = await client.send(C1, { text: 'hello' });
    expect(client.state.pending[clientMsgId]?.state).toBe('pending');
    await client.connect();
    await until(() => client.state.conversations[C1]?.messages.length === 1);
    expect(client.state.pending).toEqual({});
    expect(client.state.conversations[C1]!.messages[0]!.clientMsgId).toBe(clientMsgId);
    await until(() => server.log.some((l) => l.op === 'conversation.delivered'));
    expect(server.log.map((l) => l.op)).toEqual(['sync', 'message.send', 'conversation.delivered']);
    expect(server.log[1]!.data.clientMsgId).toBe(clientMsgId);
    expect(server.log[2]!.data).toEqual({ conversationId: C1, seq: 1 });
  });
});
