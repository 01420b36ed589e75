/**
 * `npm run acceptance`: a small organisation (200 people) on a fresh server, and the everyday flows
 * — 1:1, group with @all, receipts, recall, sign-off, reconnect — driven by two SDK clients, every
 * outcome asserted. Prints one line per flow and `N passed, N failed`; exits non-zero on a failure.
 * Uses a temporary SQLite database, or DATABASE_URL when set.
 */
import assert from 'node:assert/strict';
import { createNodeClient, type EnclaveClient } from '@enclave/sdk/node';
import type { ConversationId, UserId } from '@enclave/protocol';
import { makeUser, startServer, type TestServer, type TestUser } from '../packages/server/test/harness.ts';
import { bulkUsers } from '../packages/server/test/factories.ts';

async function until(cond: () => boolean, what: string, timeoutMs = 15_000) {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const messages = (c: EnclaveClient, id: string) => c.state.conversations[id]?.messages ?? [];
const last = (c: EnclaveClient, id: string) => messages(c, id).at(-1);

async function main() {
  const srv: TestServer = await startServer(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {});
  const org = await bulkUsers(srv, 198, 'staff');
  const alice: TestUser = await makeUser(srv, 'alice');
  const bob: TestUser = await makeUser(srv, 'bob');
  const connect = async (u: TestUser) => {
    const c = createNodeClient({ baseUrl: srv.url, token: u.token, gapHoldMs: 100, syncCheckMs: 2_000 });
    await c.connect();
    return c;
  };
  let a = await connect(alice);
  let b = await connect(bob);
  let direct = '' as ConversationId;
  let group = '' as ConversationId;
  const results: [string, Error | null][] = [];
  const flow = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
      results.push([name, null]);
      console.log(`✓ ${name}`);
    } catch (e) {
      results.push([name, e as Error]);
      console.log(`✗ ${name}: ${(e as Error).message}`);
    }
  };

  await flow('1:1: send, live delivery, unread, read receipt', async () => {
    direct = (await a.call('conversation.openDirect', { userId: bob.id as UserId })).id;
    await a.send(direct, { text: '你好，Bob' });
    await until(() => last(b, direct)?.content?.text === '你好，Bob', 'bob to receive');
    await until(() => b.state.conversations[direct]?.summary.unread === 1, 'bob unread 1');
    const receipt = new Promise<number>((resolve) =>
      a.on('receipt', (r) => {
        if (r.conversationId === direct && r.readSeq) resolve(r.readSeq);
      }),
    );
    await b.markRead(direct, last(b, direct)!.seq);
    assert.equal(b.state.conversations[direct]!.summary.unread, 0);
    assert.equal(await receipt, last(b, direct)!.seq);
  });

  await flow('group of 200: @all, mention count, read counts', async () => {
    const created = await a.call('group.create', {
      name: '全体员工',
      memberIds: [bob.id as UserId, ...org.map((u) => u.id as UserId)],
    });
    group = created.id;
    assert.equal(created.memberCount, 200);
    await a.send(group, { text: '@所有人 周五下午开会' }, { mentionAll: true });
    await until(() => b.state.conversations[group]?.summary.mentions === 1, 'bob to see the @all');
    const seq = last(b, group)!.seq;
    const before = await a.call('message.readCounts', { conversationId: group, seqs: [seq] });
    assert.deepEqual(before.items[0], { seq, readCount: 0, unreadCount: 199 });
    await b.markRead(group, seq);
    const after = await a.call('message.readCounts', { conversationId: group, seqs: [seq] });
    assert.deepEqual(after.items[0], { seq, readCount: 1, unreadCount: 198 });
  });

  await flow('recall: the message disappears on the other side', async () => {
    await a.send(direct, { text: 'sent by mistake' });
    await until(() => last(b, direct)?.content?.text === 'sent by mistake', 'bob to receive');
    const seq = last(b, direct)!.seq;
    await a.call('message.recall', { conversationId: direct, seq, clientOpId: `recall-${seq}` });
    await until(() => messages(b, direct).find((m) => m.seq === seq)?.state === 'recalled', 'the tombstone');
    assert.equal(messages(b, direct).find((m) => m.seq === seq)!.content, null);
  });

  await flow('sign-off: withheld until signed; the sender sees who signed', async () => {
    await a.send(direct, { text: '请签收：新的安全制度' }, { signoff: true });
    await until(() => last(b, direct)?.signoff?.required === true, 'the sign-off stub');
    const stub = last(b, direct)!;
    assert.equal(stub.state, 'withheld');
    assert.equal(stub.content, null);
    const signed = await b.call('message.sign', { conversationId: direct, seq: stub.seq });
    assert.equal(signed.content?.text, '请签收：新的安全制度');
    await until(() => messages(b, direct).find((m) => m.seq === stub.seq)?.state === 'normal', 'content after signing');
    const status = await a.call('message.signoffs', { conversationId: direct, seq: stub.seq });
    assert.deepEqual(
      status.signed.map((s) => s.userId),
      [bob.id],
    );
    assert.equal(status.unsigned.length, 0);
  });

  await flow('reconnect: an offline user catches up on everything, in order', async () => {
    b.close();
    for (let i = 1; i <= 30; i++) await a.send(direct, { text: `offline ${i}` });
    await until(() => a.pendingWrites.length === 0, 'alice outbox to drain');
    b = await connect(bob);
    await until(() => !!b.state.conversations[direct], 'the conversation after sync');
    while (await b.loadHistory(direct, 50));
    const texts = messages(b, direct)
      .map((m) => m.content?.text ?? '')
      .filter((t) => t.startsWith('offline '));
    assert.deepEqual(
      texts,
      Array.from({ length: 30 }, (_, i) => `offline ${i + 1}`),
    );
  });

  await flow('two devices: reading on one clears the other', async () => {
    const phone = await connect(alice);
    await b.call('message.send', {
      conversationId: direct,
      clientMsgId: `dev-${Date.now()}`,
      content: { text: 'ping' },
    });
    await until(
      () => last(phone, direct)?.content?.text === 'ping' && last(a, direct)?.content?.text === 'ping',
      'both devices',
    );
    await a.markRead(direct, last(a, direct)!.seq);
    await until(() => phone.state.conversations[direct]?.summary.unread === 0, 'the phone to clear');
    phone.close();
  });

  a.close();
  b.close();
  a = b = undefined as unknown as EnclaveClient;
  await srv.close();
  const failed = results.filter(([, e]) => e).length;
  console.log(`acceptance: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
