import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  clientId,
  http,
  makeUser,
  serverOnStore,
  startServer,
  text,
  WsClient,
  type TestServer,
  type TestUser,
} from './harness.ts';
import { allStoreTargets } from './stores.ts';

describe('1:1 chat over WebSocket and REST', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    srv = await startServer();
    alice = await makeUser(srv);
    bob = await makeUser(srv);
  });
  afterAll(() => srv.close());

  it('delivers a message live, acks after commit, and shows it in history, list and receipts', async () => {
    const a = await WsClient.connect(srv, alice.token);
    const b = await WsClient.connect(srv, bob.token);
    const conv = await a.call('conversation.openDirect', { userId: bob.id });
    expect(conv.kind).toBe('direct');
    expect(conv.peer?.id).toBe(bob.id);
    // Opening from the other side gives the same conversation.
    const again = await b.call('conversation.openDirect', { userId: alice.id });
    expect(again.id).toBe(conv.id);

    const cmid = clientId();
    const ack = await a.call('message.send', { conversationId: conv.id, clientMsgId: cmid, content: text('你好 Bob') });
    expect(ack.seq).toBe(1);
    expect(ack.duplicate).toBe(false);

    const got = await b.waitFor((f) => f.ev === 'conv' && (f.data as { seq: number }).seq === 1);
    const ev = got.data as {
      type: string;
      message: { content: { text: string }; senderId: string; clientMsgId?: string };
    };
    expect(ev.type).toBe('message.created');
    expect(ev.message.content.text).toBe('你好 Bob');
    expect(ev.message.senderId).toBe(alice.id);
    expect(ev.message.clientMsgId).toBeUndefined();
    // The sender's own devices see their clientMsgId for de-duplication.
    const own = await a.waitFor((f) => f.ev === 'conv' && (f.data as { seq: number }).seq === 1);
    expect((own.data as { message: { clientMsgId: string } }).message.clientMsgId).toBe(cmid);

    const list = await http<{
      items: { id: string; unread: number; preview: { content: { text: string } } }[];
      totalUnread: number;
    }>(srv, 'GET', '/api/v1/conversations', { token: bob.token });
    expect(list.status).toBe(200);
    expect(list.body.totalUnread).toBe(1);
    expect(list.body.items[0]!.unread).toBe(1);
    expect(list.body.items[0]!.preview.content.text).toBe('你好 Bob');

    const hist = await http<{ events: { seq: number }[]; headSeq: number; minSeq: number }>(
      srv,
      'GET',
      `/api/v1/conversations/${conv.id}/events?after=0`,
      { token: bob.token },
    );
    expect(hist.body.events.map((e) => e.seq)).toEqual([1]);
    expect(hist.body.headSeq).toBe(1);

    await b.call('conversation.delivered', { conversationId: conv.id, seq: 1 });
    await a.waitFor((f) => f.ev === 'receipt' && (f.data as { deliveredSeq?: number }).deliveredSeq === 1);
    const read = await b.call('conversation.read', { conversationId: conv.id, seq: 1 });
    expect(read).toEqual({ readSeq: 1, unread: 0 });
    await a.waitFor((f) => f.ev === 'receipt' && (f.data as { readSeq?: number }).readSeq === 1);
    const aliceView = await a.call('conversation.get', { conversationId: conv.id });
    expect(aliceView.peerReadSeq).toBe(1);
    expect(aliceView.peerDeliveredSeq).toBe(1);
    a.close();
    b.close();
  });

  it('a retry with the same clientMsgId returns the original ack; a different payload conflicts', async () => {
    const conv = (
      await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
        token: alice.token,
        body: { userId: bob.id },
      })
    ).body;
    const cmid = clientId();
    const body = { clientMsgId: cmid, content: text('once') };
    const first = await http<{ seq: number; messageId: string }>(
      srv,
      'POST',
      `/api/v1/conversations/${conv.id}/messages`,
      {
        token: alice.token,
        body,
      },
    );
    const second = await http<{ seq: number; messageId: string; duplicate: boolean }>(
      srv,
      'POST',
      `/api/v1/conversations/${conv.id}/messages`,
      { token: alice.token, body },
    );
    expect(second.body.seq).toBe(first.body.seq);
    expect(second.body.messageId).toBe(first.body.messageId);
    expect(second.body.duplicate).toBe(true);
    const conflict = await http<{ error: { code: string } }>(srv, 'POST', `/api/v1/conversations/${conv.id}/messages`, {
      token: alice.token,
      body: { clientMsgId: cmid, content: text('different') },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
  });
});

describe.each(allStoreTargets())('receipts on $kind', (target) => {
  describe.skipIf(target.skipReason !== null)('store', () => {
    const server = serverOnStore(target);
    let srv: TestServer;
    beforeAll(() => {
      srv = server();
    });

    it('delivery and read reports move their cursors forward only; the peer and my other devices hear of each move once', async () => {
      const carol = await makeUser(srv);
      const dave = await makeUser(srv);
      const c = await WsClient.connect(srv, carol.token);
      const d = await WsClient.connect(srv, dave.token);
      const conv = await c.call('conversation.openDirect', { userId: dave.id });
      for (let i = 0; i < 3; i++)
        await c.call('message.send', { conversationId: conv.id, clientMsgId: clientId(), content: text(`m${i}`) });
      // On SQLite both reports run as write programs once their thread is up (domain/writer.ts).
      const sqlite = srv.app.deps.store.kind === 'sqlite';
      if (sqlite) await vi.waitFor(() => expect(srv.app.deps.writer.programs).toBe(true), { timeout: 10_000 });
      const programJobs = srv.app.deps.writer.stats.programJobs;
      const delivered = (seq: number) => d.call('conversation.delivered', { conversationId: conv.id, seq });
      await delivered(2);
      await delivered(1); // behind the cursor: nothing moves
      await delivered(2); // where it is: nothing either
      await delivered(99); // past the head: up to the head
      await c.waitFor((f) => f.ev === 'receipt' && (f.data as { deliveredSeq?: number }).deliveredSeq === 3);
      const receipts = c.frames
        .filter((f) => f.ev === 'receipt')
        .map((f) => (f.data as { deliveredSeq?: number }).deliveredSeq);
      expect(receipts).toEqual([2, 3]);
      expect((await c.call('conversation.get', { conversationId: conv.id })).peerDeliveredSeq).toBe(3);

      // Reading: the peer gets a receipt, my other device a read.changed user event, once per move.
      const d2 = await WsClient.connect(srv, dave.token);
      const read = (seq: number) => d.call('conversation.read', { conversationId: conv.id, seq });
      expect(await read(2)).toEqual({ readSeq: 2, unread: 1 });
      expect(await read(1)).toEqual({ readSeq: 2, unread: 1 });
      expect(await read(3)).toEqual({ readSeq: 3, unread: 0 });
      await c.waitFor((f) => f.ev === 'receipt' && (f.data as { readSeq?: number }).readSeq === 3);
      type ReadChanged = { type: string; useq: number; data: { readSeq: number } };
      const moved = () =>
        d2.frames
          .filter((f) => f.ev === 'user' && (f.data as ReadChanged).type === 'read.changed')
          .map((f) => f.data as ReadChanged);
      await d2.waitFor(() => moved().length === 2);
      const [first, second] = moved();
      expect([first!.data.readSeq, second!.data.readSeq]).toEqual([2, 3]);
      expect(second!.useq).toBe(first!.useq + 1);
      expect(
        c.frames
          .filter((f) => f.ev === 'receipt' && 'readSeq' in (f.data as object))
          .map((f) => (f.data as { readSeq: number }).readSeq),
      ).toEqual([2, 3]);
      // Four delivery reports and the two reads that were ahead of the cursor (the other is answered
      // without a write).
      if (sqlite) expect(srv.app.deps.writer.stats.programJobs - programJobs).toBe(6);

      // Who may report: not a stranger to the 1:1, not a member who left a group; in a group a
      // delivery report is accepted and changes nothing.
      const eve = await makeUser(srv);
      const e = await WsClient.connect(srv, eve.token);
      const refused = await e.request('conversation.delivered', { conversationId: conv.id, seq: 1 });
      expect(refused.error?.code).toBe('conversation_not_found');
      const group = await c.call('group.create', { name: 'receipts', memberIds: [dave.id, eve.id] });
      await c.call('message.send', { conversationId: group.id, clientMsgId: clientId(), content: text('g') });
      const before = c.frames.length;
      await d.call('conversation.delivered', { conversationId: group.id, seq: 1 });
      await e.call('group.leave', { conversationId: group.id });
      const left = await e.request('conversation.delivered', { conversationId: group.id, seq: 1 });
      expect(left.error?.code).toBe('not_a_member');
      expect(c.frames.slice(before).filter((f) => f.ev === 'receipt' && 'deliveredSeq' in (f.data as object))).toEqual(
        [],
      );
      e.close();
      c.close();
      d.close();
      d2.close();
    });
  });
});
