/**
 * Pin the cost of hot paths (STYLE.md 10): statement counts do not grow with group size or with the
 * number of memberships, and a read in a huge group does not fan out to every member.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientId, http, startServer, text, WsClient, type TestServer } from './harness.ts';
import { bulkGroups, bulkUsers, type BulkUser } from './factories.ts';

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('cost of hot paths', () => {
  let srv: TestServer;
  let users: BulkUser[];
  beforeAll(async () => {
    srv = await startServer();
    users = await bulkUsers(srv, 5_001, 'cost');
  }, 120_000);
  afterAll(() => srv.close());

  const statements = () => srv.app.deps.store.stats.statements;

  /** Statements spent by one send, from the op to delivery on the sender's socket. */
  async function sendCost(ws: WsClient, conversationId: string): Promise<number> {
    const before = statements();
    const ack = await ws.call('message.send', { conversationId, clientMsgId: clientId(), content: text('hello') });
    await ws.waitFor(
      (f) =>
        f.ev === 'conv' &&
        (f.data as { seq: number; conversationId: string }).seq === ack.seq &&
        (f.data as { conversationId: string }).conversationId === conversationId,
    );
    await settle();
    return statements() - before;
  }

  it('sending costs the same number of statements in a group of 2 and of 500', async () => {
    const [owner, ...rest] = users;
    const [small] = await bulkGroups(srv, owner!, rest.slice(0, 1), 1);
    const [large] = await bulkGroups(srv, owner!, rest.slice(1, 500), 1);
    const ws = await WsClient.connect(srv, owner!.token);
    // Warm the caches (conversation id, member list) once per group, then measure.
    await sendCost(ws, small!);
    await sendCost(ws, large!);
    // The program thread starts with the first write that could use it; until it is up, transactions.
    await vi.waitFor(() => expect(srv.app.deps.writer.programs).toBe(true), { timeout: 10_000 });
    const programs = srv.app.deps.writer.stats.programJobs;
    const costSmall = await sendCost(ws, small!);
    const costLarge = await sendCost(ws, large!);
    expect(costSmall).toBeGreaterThan(0);
    expect(costLarge).toBe(costSmall);
    // On SQLite a plain send is a write program (domain/writer.ts), its statements counted the same.
    expect(srv.app.deps.writer.stats.programJobs - programs).toBe(2);
    ws.close();
  });

  it('the conversation list costs the same for 5 and for 5,000 memberships', async () => {
    const few = users[4_000]!;
    const many = users[4_001]!;
    await bulkGroups(srv, few, [], 5);
    await bulkGroups(srv, many, [], 5_000);
    const listCost = async (u: BulkUser) => {
      await http(srv, 'GET', '/api/v1/conversations', { token: u.token }); // warm the session row
      const before = statements();
      const r = await http<{ items: unknown[] }>(srv, 'GET', '/api/v1/conversations', { token: u.token });
      return { cost: statements() - before, n: r.body.items.length };
    };
    const a = await listCost(few);
    const b = await listCost(many);
    expect(a.n).toBe(5);
    expect(b.n).toBe(5_000);
    expect(b.cost).toBe(a.cost);
  }, 120_000);

  it('in a 5,000-member group one read reaches only own devices and sockets with the conversation open; a message reaches every connected member', async () => {
    const [owner, ...rest] = users;
    const members = rest.slice(0, 4_999);
    const [group] = await bulkGroups(srv, owner!, members, 1);
    const reader = members[0]!;
    // The reader on two devices (two sockets of one session), 60 other members online, 3 of them focused.
    const readerSockets = [await WsClient.connect(srv, reader.token), await WsClient.connect(srv, reader.token)];
    const others = await Promise.all(members.slice(1, 61).map((m) => WsClient.connect(srv, m.token)));
    const focused = others.slice(0, 3);
    for (const f of focused) await f.call('conversation.focus', { conversationId: group! });
    const sender = await WsClient.connect(srv, owner!.token);
    const ack = await sender.call('message.send', {
      conversationId: group!,
      clientMsgId: clientId(),
      content: text('全员通知'),
    });
    // Every connected member receives the message.
    await Promise.all(
      [...readerSockets, ...others].map((c) =>
        c.waitFor((f) => f.ev === 'conv' && (f.data as { seq: number }).seq === ack.seq),
      ),
    );
    await settle();
    const all = [...readerSockets, ...others, sender];
    const before = all.map((c) => c.frames.length);
    await readerSockets[0]!.call('conversation.read', { conversationId: group!, seq: ack.seq });
    await settle();
    const received = all.map((c, i) => c.frames.length - before[i]!);
    const total = received.reduce((x, y) => x + y, 0);
    // Reader's two devices: the reply (socket 0) + a read.changed user event each; focused sockets: one receipt each.
    const bound = 1 + readerSockets.length + focused.length;
    expect(total).toBeLessThanOrEqual(bound);
    for (const f of focused) expect(f.frames.at(-1)?.ev).toBe('receipt');
    const unfocusedOthers = received.slice(readerSockets.length + focused.length, readerSockets.length + others.length);
    expect(unfocusedOthers.every((n) => n === 0)).toBe(true);
    for (const c of all) c.close();
  }, 120_000);
});
