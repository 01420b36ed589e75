/**
 * What happens to a message after it is sent, as members see it: edits, reactions, recall (and its
 * window), unread and mention counts (design review P3), and group read receipts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, OpOutput } from '@enclave/protocol';
import {
  clientId,
  http,
  makeUser,
  serverOnStore,
  startServer,
  text,
  WsClient,
  type HttpResult,
  type TestServer,
  type TestUser,
} from './harness.ts';
import { allStoreTargets } from './stores.ts';

type Conversation = OpOutput<'conversation.get'>;
type EventRange = OpOutput<'conversation.events'>;
type ConvEv = { seq: number; type: string; conversationId: string; message: Message | null };
type ErrorBody = { error: { code: string } };

const errCode = (r: HttpResult) => (r.body as ErrorBody).error?.code;

function client(srv: TestServer) {
  const api = <T>(u: TestUser, method: string, path: string, body?: unknown) =>
    http<T>(srv, method, path, { token: u.token, ...(body !== undefined ? { body } : {}) });
  const group = async (owner: TestUser, members: TestUser[]) => {
    const r = await api<Conversation>(owner, 'POST', '/api/v1/groups', {
      name: `g-${clientId('g')}`,
      memberIds: members.map((m) => m.id),
    });
    expect(r.status).toBe(200);
    return r.body.id;
  };
  const send = async (u: TestUser, convId: string, body: string, extra: Record<string, unknown> = {}) => {
    const r = await api<OpOutput<'message.send'>>(u, 'POST', `/api/v1/conversations/${convId}/messages`, {
      clientMsgId: clientId(),
      content: text(body),
      ...extra,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.seq;
  };
  const msgPath = (convId: string, seq: number, rest = '') => `/api/v1/conversations/${convId}/messages/${seq}${rest}`;
  const get = async (u: TestUser, convId: string, seq: number) => {
    const r = await api<Message>(u, 'GET', msgPath(convId, seq));
    expect(r.status).toBe(200);
    return r.body;
  };
  const react = (u: TestUser, convId: string, seq: number, emoji: string, on: boolean, clientOpId = clientId('op')) =>
    api<{ seq: number | null }>(u, 'POST', msgPath(convId, seq, '/reactions'), { clientOpId, emoji, on });
  const edit = (u: TestUser, convId: string, seq: number, body: string) =>
    api<{ seq: number }>(u, 'PATCH', msgPath(convId, seq), { clientOpId: clientId('op'), content: text(body) });
  const recall = (u: TestUser, convId: string, seq: number) =>
    api<{ seq: number }>(u, 'POST', msgPath(convId, seq, '/recall'), { clientOpId: clientId('op') });
  const conv = async (u: TestUser, convId: string) => {
    const r = await api<OpOutput<'conversation.list'>>(u, 'GET', '/api/v1/conversations');
    expect(r.status).toBe(200);
    const c = r.body.items.find((i) => i.id === convId);
    if (!c) throw new Error('conversation not in list');
    return c;
  };
  const history = async (u: TestUser, convId: string) => {
    const r = await api<EventRange>(u, 'GET', `/api/v1/conversations/${convId}/events?after=0&limit=200`);
    expect(r.status).toBe(200);
    return r.body;
  };
  const created = async (u: TestUser, convId: string, seq: number) => {
    const e = (await history(u, convId)).events.find((x) => x.seq === seq);
    expect(e?.type).toBe('message.created');
    return e!.message!;
  };
  const read = (u: TestUser, convId: string, seq: number) =>
    api<{ readSeq: number; unread: number }>(u, 'POST', `/api/v1/conversations/${convId}/read`, { seq });
  return { api, group, send, get, react, edit, recall, conv, history, created, read, msgPath };
}

const convEvent = (c: WsClient, convId: string, pred: (e: ConvEv) => boolean) =>
  c.waitFor((f) => f.ev === 'conv' && (f.data as ConvEv).conversationId === convId && pred(f.data as ConvEv));

describe('messages', () => {
  let srv: TestServer;
  let t: ReturnType<typeof client>;
  const sockets: WsClient[] = [];
  beforeAll(async () => {
    srv = await startServer();
    t = client(srv);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await srv.close();
  });
  const connect = async (u: TestUser) => {
    const c = await WsClient.connect(srv, u.token);
    sockets.push(c);
    return c;
  };

  it('only the sender edits; members get message.edited with the new content; history shows it', async () => {
    const [a, b] = [await makeUser(srv), await makeUser(srv)];
    const g = await t.group(a, [b]);
    const wsB = await connect(b);
    const seq = await t.send(a, g, 'first draft');

    const foreign = await t.edit(b, g, seq, 'hijacked');
    expect(foreign.status).toBe(403);
    expect(errCode(foreign)).toBe('forbidden');

    const ed = await t.edit(a, g, seq, 'final wording');
    expect(ed.status).toBe(200);
    const ev = await convEvent(wsB, g, (e) => e.type === 'message.edited');
    const live = ev.data as ConvEv;
    expect(live.seq).toBe(ed.body.seq);
    expect(live.message?.seq).toBe(seq);
    expect(live.message?.content?.text).toBe('final wording');
    expect(live.message?.editedAt).toBeTypeOf('number');

    const h = await t.created(b, g, seq);
    expect(h.content?.text).toBe('final wording');
    expect(h.editedAt).toBeTypeOf('number');
    const one = await t.get(b, g, seq);
    expect(one.content?.text).toBe('final wording');
    expect(one.editedAt).toBe(h.editedAt);
    expect(JSON.stringify(await t.history(b, g))).not.toContain('first draft');
  });

  it('reactions are idempotent: set twice is set once, unset twice is unset once; a retry gets the same answer', async () => {
    const [a, b] = [await makeUser(srv), await makeUser(srv)];
    const g = await t.group(a, [b]);
    const seq = await t.send(a, g, 'react to me');

    const on1 = await t.react(b, g, seq, '👍', true);
    expect(on1.status).toBe(200);
    expect(on1.body.seq).toBeTypeOf('number');
    const on2 = await t.react(b, g, seq, '👍', true);
    expect(on2.body.seq).toBeNull();
    expect((await t.get(a, g, seq)).reactions).toEqual([{ emoji: '👍', userIds: [b.id] }]);

    const off1 = await t.react(b, g, seq, '👍', false);
    expect(off1.body.seq).toBeTypeOf('number');
    const off2 = await t.react(b, g, seq, '👍', false);
    expect(off2.body.seq).toBeNull();
    expect((await t.get(a, g, seq)).reactions).toEqual([]);

    // A retry with the same clientOpId returns the first answer and writes nothing new.
    const opId = clientId('op');
    const first = await t.react(a, g, seq, '🎉', true, opId);
    expect(first.body.seq).toBeTypeOf('number');
    const head = (await t.conv(a, g)).lastSeq;
    const retry = await t.react(a, g, seq, '🎉', true, opId);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect((await t.conv(a, g)).lastSeq).toBe(head);
    expect((await t.get(b, g, seq)).reactions).toEqual([{ emoji: '🎉', userIds: [a.id] }]);
    const events = (await t.history(b, g)).events.filter((e) => e.type === 'reaction.changed');
    expect(events).toHaveLength(3);
  });

  it('recall within the window leaves a tombstone in the event, history, preview and quotes', async () => {
    const [a, b] = [await makeUser(srv), await makeUser(srv)];
    const g = await t.group(a, [b]);
    const wsB = await connect(b);
    const original = await t.send(a, g, 'wrong figures: 42');
    const reply = await t.send(b, g, 'really?', { replyToSeq: original });
    expect((await t.created(b, g, reply)).replyTo?.quote?.content?.text).toBe('wrong figures: 42');

    const foreign = await t.recall(b, g, original);
    expect(foreign.status).toBe(403);
    expect(errCode(foreign)).toBe('forbidden');

    const r = await t.recall(a, g, original);
    expect(r.status).toBe(200);
    const ev = (await convEvent(wsB, g, (e) => e.type === 'message.recalled')).data as ConvEv;
    expect(ev.seq).toBe(r.body.seq);
    expect(ev.message?.seq).toBe(original);
    expect(ev.message?.state).toBe('recalled');
    expect(ev.message?.content).toBeNull();

    const h = await t.created(b, g, original);
    expect(h.state).toBe('recalled');
    expect(h.content).toBeNull();
    const q = (await t.created(b, g, reply)).replyTo?.quote;
    expect(q?.state).toBe('recalled');
    expect(q?.content).toBeNull();
    expect((await t.get(b, g, original)).state).toBe('recalled');
    expect(JSON.stringify(await t.history(b, g))).not.toContain('wrong figures');
    // Recalled twice, edited or reacted after recall: refused.
    expect(errCode(await t.recall(a, g, original))).toBe('message_recalled');
    expect(errCode(await t.edit(a, g, original, 'again'))).toBe('message_recalled');
    expect(errCode(await t.react(b, g, original, '👍', true))).toBe('message_recalled');

    // The list preview of a recalled last message is a tombstone too.
    const last = await t.send(a, g, 'oops, typo');
    await t.recall(a, g, last);
    const c = await t.conv(b, g);
    expect(c.preview?.seq).toBe(last);
    expect(c.preview?.state).toBe('recalled');
    expect(c.preview?.content).toBeNull();
  });

  it('recall after the window is refused; a group admin may recall anyone’s message', async () => {
    const short = await startServer({ config: { recallWindowMs: 200 } });
    try {
      const s = client(short);
      const [owner, admin, member] = [await makeUser(short), await makeUser(short), await makeUser(short)];
      const g = await s.group(owner, [admin, member]);
      await s.api(owner, 'PATCH', `/api/v1/groups/${g}/members/${admin.id}`, { role: 'admin' });
      const mine = await s.send(member, g, 'too late to take back');
      const other = await s.send(member, g, 'moderate me');
      const third = await s.send(owner, g, 'owner speaks');
      await new Promise((r) => setTimeout(r, 300));

      const late = await s.recall(member, g, mine);
      expect(late.status).toBe(409);
      expect(errCode(late)).toBe('recall_window_passed');
      expect((await s.get(owner, g, mine)).state).toBe('normal');

      // A plain member may not recall someone else's; an admin may, outside the window too.
      expect(errCode(await s.recall(member, g, third))).toBe('forbidden');
      const mod = await s.recall(admin, g, other);
      expect(mod.status).toBe(200);
      const seen = await s.get(member, g, other);
      expect(seen.state).toBe('recalled');
      expect(seen.content).toBeNull();
    } finally {
      await short.close();
    }
  });

  it('unread counts only others’ countable messages; recall lowers it; mentions count and clear on read', async () => {
    const [a, b, c, d] = [await makeUser(srv), await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    const g = await t.group(a, [b, c]);
    const unread = async (u: TestUser) => (await t.conv(u, g)).unread;
    expect(await unread(c)).toBe(0); // member.joined does not count

    // The reader's own messages never raise their unread.
    const own = await t.send(c, g, 'my own words');
    expect(await unread(c)).toBe(0);

    const m1 = await t.send(a, g, 'news one');
    const m2 = await t.send(a, g, 'news two');
    expect(await unread(c)).toBe(2);
    expect(await unread(b)).toBe(3); // c's message too
    expect(await unread(a)).toBe(0); // sending marks what came before as read

    // Reactions, edits and membership events are stream events but not unread messages.
    await t.react(b, g, m1, '👍', true);
    await t.react(a, g, own, '❤️', true);
    await t.edit(a, g, m2, 'news two (corrected)');
    await t.api(a, 'POST', `/api/v1/groups/${g}/members`, { userIds: [d.id] });
    await t.api(a, 'PATCH', `/api/v1/groups/${g}`, { name: 'renamed' });
    expect(await unread(c)).toBe(2);
    expect(await unread(d)).toBe(0); // joined after: earlier messages are not theirs to read

    // Recalling an unread message lowers the count by one.
    await t.recall(a, g, m1);
    expect(await unread(c)).toBe(1);
    expect(await unread(b)).toBe(2);

    // @c counts for c only; @all for everyone but the sender.
    await t.send(a, g, 'c, please look', { mentions: [c.id] });
    let cv = await t.conv(c, g);
    expect(cv.unread).toBe(2);
    expect(cv.mentions).toBe(1);
    expect((await t.conv(b, g)).mentions).toBe(0);
    const all = await t.send(a, g, 'everyone: all-hands at 3', { mentionAll: true });
    cv = await t.conv(c, g);
    expect(cv.unread).toBe(3);
    expect(cv.mentions).toBe(2);
    expect((await t.conv(b, g)).mentions).toBe(1);
    expect((await t.conv(d, g)).mentions).toBe(1);
    expect((await t.conv(a, g)).mentions).toBe(0);

    // A recalled mention stops counting.
    const gone = await t.send(a, g, 'c, never mind', { mentions: [c.id] });
    expect((await t.conv(c, g)).mentions).toBe(3);
    await t.recall(a, g, gone);
    cv = await t.conv(c, g);
    expect(cv.mentions).toBe(2);
    expect(cv.unread).toBe(3);

    const list = await t.api<OpOutput<'conversation.list'>>(c, 'GET', '/api/v1/conversations');
    expect(list.body.totalUnread).toBe(3);

    const r = await t.read(c, g, cv.lastSeq);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ readSeq: cv.lastSeq, unread: 0 });
    cv = await t.conv(c, g);
    expect(cv.unread).toBe(0);
    expect(cv.mentions).toBe(0);
    // Reading part of the way clears only what is behind the cursor.
    await t.read(b, g, all - 1);
    const bv = await t.conv(b, g);
    expect(bv.mentions).toBe(1);
    expect(bv.unread).toBe(1);
  });

  it('group read receipts: who read, who has not, sender excluded, later joiners not counted', async () => {
    const [a, b, c, d, late] = [
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
    ];
    const g = await t.group(a, [b, c, d]);
    const m1 = await t.send(a, g, 'please confirm');
    const m2 = await t.send(a, g, 'and this too');
    await t.read(b, g, m2);
    await t.read(c, g, m1);

    const rc = await t.api<OpOutput<'message.receipts'>>(a, 'GET', t.msgPath(g, m1, '/receipts'));
    expect(rc.status).toBe(200);
    expect(rc.body.readCount).toBe(2);
    expect(rc.body.unreadCount).toBe(1);
    expect(rc.body.readers.map((r) => r.displayName).sort()).toEqual([b.username, c.username].sort());
    expect(rc.body.readers.map((r) => r.userId).sort()).toEqual([b.id, c.id].sort());
    expect(rc.body.unreadMembers).toEqual([{ userId: d.id, displayName: d.username }]);

    const counts = async () => {
      const r = await t.api<OpOutput<'message.readCounts'>>(a, 'POST', `/api/v1/conversations/${g}/read-counts`, {
        seqs: [m1, m2],
      });
      expect(r.status).toBe(200);
      return r.body.items;
    };
    expect(await counts()).toEqual([
      { seq: m1, readCount: 2, unreadCount: 1 },
      { seq: m2, readCount: 1, unreadCount: 2 },
    ]);

    // Someone who joins later is not an unread reader of earlier messages, but is of later ones.
    await t.api(a, 'POST', `/api/v1/groups/${g}/members`, { userIds: [late.id] });
    expect(await counts()).toEqual([
      { seq: m1, readCount: 2, unreadCount: 1 },
      { seq: m2, readCount: 1, unreadCount: 2 },
    ]);
    const rc2 = await t.api<OpOutput<'message.receipts'>>(a, 'GET', t.msgPath(g, m1, '/receipts'));
    expect(rc2.body.unreadCount).toBe(1);
    expect(rc2.body.unreadMembers.map((m) => m.userId)).not.toContain(late.id);
    const m3 = await t.send(a, g, 'after the newcomer');
    const rc3 = await t.api<OpOutput<'message.receipts'>>(a, 'GET', t.msgPath(g, m3, '/receipts'));
    expect(rc3.body.readCount).toBe(0);
    expect(rc3.body.unreadCount).toBe(4);
    expect(rc3.body.unreadMembers.map((m) => m.userId)).toContain(late.id);

    // Reading later raises the count; the sender's own read never counts.
    await t.read(d, g, m3);
    const rc4 = await t.api<OpOutput<'message.receipts'>>(a, 'GET', t.msgPath(g, m1, '/receipts'));
    expect(rc4.body.readCount).toBe(3);
    expect(rc4.body.unreadCount).toBe(0);
  });

  it('who-read pages: every member exactly once across pages, even when someone reads between pages', async () => {
    const a = await makeUser(srv);
    const others = [];
    for (let i = 0; i < 7; i++) others.push(await makeUser(srv));
    const g = await t.group(a, others);
    const m = await t.send(a, g, 'page me');
    await t.read(others[0]!, g, m);
    await t.read(others[5]!, g, m);

    const page = (cursor?: string) =>
      t.api<OpOutput<'message.receipts'>>(
        a,
        'GET',
        t.msgPath(g, m, `/receipts?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
      );
    const seen: string[] = [];
    const p1 = await page();
    expect(p1.status).toBe(200);
    expect(p1.body.readers.length + p1.body.unreadMembers.length).toBe(3);
    expect([p1.body.readCount, p1.body.unreadCount]).toEqual([2, 5]);
    seen.push(...p1.body.readers.map((r) => r.userId), ...p1.body.unreadMembers.map((r) => r.userId));
    // Everyone reads now: later pages show them as readers, and nobody repeats or goes missing.
    for (const o of others) await t.read(o, g, m);
    let cursor = p1.body.nextCursor;
    let pages = 1;
    while (cursor) {
      const p = await page(cursor);
      expect(p.status).toBe(200);
      expect(p.body.unreadMembers).toEqual([]);
      expect([p.body.readCount, p.body.unreadCount]).toEqual([7, 0]);
      seen.push(...p.body.readers.map((r) => r.userId));
      cursor = p.body.nextCursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual(others.map((o) => o.id).sort());

    const bad = await page('not-a-cursor');
    expect(bad.status).toBe(400);
    expect(errCode(bad)).toBe('validation_failed');
  });
});

describe.each(allStoreTargets())('reactions on a history page on $kind', (target) => {
  describe.skipIf(target.skipReason !== null)('store', () => {
    const server = serverOnStore(target);
    let srv: TestServer;
    beforeAll(() => {
      srv = server();
    });

    it('each message of a page carries its own reactions, in the order they were made, and no one else’s', async () => {
      const t = client(srv);
      const [a, b] = [await makeUser(srv), await makeUser(srv)];
      const g = await t.group(a, [b]);
      const seqs: number[] = [];
      for (let i = 0; i < 14; i++) seqs.push(await t.send(a, g, `m${i}`));
      // Reactions inside the page, on a message just below it, and on the newest message.
      for (const [u, i, emoji] of [
        [b, 3, '👍'],
        [a, 3, '🎉'],
        [a, 3, '👍'],
        [b, 1, '👀'],
        [b, 13, '✅'],
      ] as const)
        expect((await t.react(u, g, seqs[i]!, emoji, true)).status).toBe(200);
      expect((await t.react(b, g, seqs[13]!, '✅', false)).status).toBe(200);
      // The page of the ten messages from m2 to m11 (reaction events take seqs of their own).
      const before = seqs[12]!;
      const r = await t.api<EventRange>(b, 'GET', `/api/v1/conversations/${g}/events?before=${before}&limit=10`);
      expect(r.status).toBe(200);
      const bySeq = new Map(r.body.events.map((e) => [e.seq, e.message]));
      expect([...bySeq.keys()]).toEqual(seqs.slice(2, 12));
      expect(bySeq.get(seqs[3]!)!.reactions).toEqual([
        { emoji: '👍', userIds: [b.id, a.id] },
        { emoji: '🎉', userIds: [a.id] },
      ]);
      for (const i of [2, 4, 5, 6, 7, 8, 9, 10, 11]) expect(bySeq.get(seqs[i]!)!.reactions).toEqual([]);
      // A page of a few messages, and one spread far apart (a reply's quote), read the same reactions.
      expect((await t.get(b, g, seqs[1]!)).reactions).toEqual([{ emoji: '👀', userIds: [b.id] }]);
      expect((await t.get(b, g, seqs[13]!)).reactions).toEqual([]);
      const reply = await t.send(b, g, 'about m1', { replyToSeq: seqs[1]! });
      const last = await t.api<EventRange>(a, 'GET', `/api/v1/conversations/${g}/events?before=${reply + 1}&limit=1`);
      expect(last.body.events.map((e) => e.seq)).toEqual([reply]);
      expect(last.body.events[0]!.message!.replyTo?.quote?.reactions).toEqual([{ emoji: '👀', userIds: [b.id] }]);
      const all = await t.history(a, g);
      expect(all.events.find((e) => e.seq === seqs[3])!.message!.reactions).toHaveLength(2);
    });
  });
});
