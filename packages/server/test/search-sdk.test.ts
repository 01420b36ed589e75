/**
 * The SDK's search helpers against a real server: search (over the socket and, disconnected, over
 * REST), searchAround, searchDirectory and the export URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeClient, type EnclaveClient } from '@enclave/sdk/node';
import type { ConversationId, OpOutput } from '@enclave/protocol';
import { clientId, http, makeUser, startServer, type TestServer, type TestUser } from './harness.ts';

describe('SDK search', () => {
  let srv: TestServer;
  let alice: TestUser, bob: TestUser;
  let conv: ConversationId;
  const clients: EnclaveClient[] = [];
  let seq = 0;

  beforeAll(async () => {
    srv = await startServer();
    [alice, bob] = await Promise.all([makeUser(srv), makeUser(srv)]);
    conv = (
      await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
        token: alice.token,
        body: { name: '发布小组', memberIds: [bob.id] },
      })
    ).body.id;
    for (const t of ['周五发布新版本', 'release notes 已更新', '发布前请回归测试']) {
      const r = await http<OpOutput<'message.send'>>(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
        token: alice.token,
        body: { clientMsgId: clientId(), content: { text: t, format: 'plain' } },
      });
      if (t === 'release notes 已更新') seq = r.body.seq;
    }
  }, 30_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await srv.close();
  });

  it('searches over the socket and over REST, pages, jumps and exports', async () => {
    const b = createNodeClient({ baseUrl: srv.url, token: bob.token });
    clients.push(b);
    // Not connected yet: the same call goes over REST.
    const rest = await b.search('发布');
    expect(rest.items.map((h) => h.message.content?.text)).toEqual(['发布前请回归测试', '周五发布新版本']);
    await b.connect();
    const page1 = await b.search('发布', { limit: 1 });
    expect(page1.items).toHaveLength(1);
    const page2 = await b.search('发布', { limit: 1, cursor: page1.nextCursor! });
    expect(page2.items[0]!.message.content?.text).toBe('周五发布新版本');
    const inConv = await b.search('release', { conversationId: conv });
    expect(inConv.items[0]!.message.seq).toBe(seq);

    const around = await b.searchAround(conv, seq, 3);
    expect(around.events.map((e) => e.seq)).toEqual([seq - 1, seq, seq + 1]);

    const dir = await b.searchDirectory('fabu');
    expect(dir.groups.map((g) => g.name)).toEqual(['发布小组']);

    const url = b.exportUrl(conv, 'json');
    expect(url).toBe(`${srv.url}/api/v1/conversations/${conv}/export?format=json`);
    const res = await fetch(url, { headers: { authorization: `Bearer ${bob.token}` } });
    const body = (await res.json()) as { messages: unknown[] };
    expect(body.messages).toHaveLength(3);
  });

  it('jumps far back into the timeline, reads on newer until the gap closes, and jumps to a date', async () => {
    for (let i = 1; i <= 30; i++) {
      await http(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
        token: alice.token,
        body: { clientMsgId: clientId(), content: { text: `后续消息 ${i}`, format: 'plain' } },
      });
    }
    const b = createNodeClient({ baseUrl: srv.url, token: bob.token });
    clients.push(b);
    await b.connect();
    const head = b.state.conversations[conv]!.summary.lastSeq;
    const texts = () => b.state.conversations[conv]!.messages.map((m) => m.seq);
    // The window around the message sits beside the latest messages, with a gap between them.
    await b.loadAround(conv, seq, 5);
    const view = b.state.conversations[conv]!;
    // Events seq-2..seq+2; the oldest of them is the group's creation, not a message.
    expect(texts().slice(0, 4)).toEqual([seq - 1, seq, seq + 1, seq + 2]);
    const tailStart = texts()[4]!;
    expect(tailStart).toBeGreaterThan(seq + 3);
    expect(view.gap).toEqual({ from: seq + 3, to: tailStart - 1 });
    expect(view.messages.at(-1)!.seq).toBe(head);
    while (await b.loadNewer(conv, 10));
    expect(b.state.conversations[conv]!.gap).toBeNull();
    const all = texts();
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => all[0]! + i));
    expect(all.at(-1)).toBe(head);
    // A date before the group: its first event; after the last message: nothing.
    expect(await b.seqAt(conv, 0)).toBe(1);
    expect(await b.seqAt(conv, Date.now() + 60_000)).toBeNull();
  });
});
