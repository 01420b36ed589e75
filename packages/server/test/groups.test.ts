/**
 * Groups as their members see them: creation, settings by owner/admins, mutes, membership changes
 * that take effect exactly at a seq, history visibility (from_join | all), ownership, dissolve, and
 * ids probed by outsiders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpOutput } from '@enclave/protocol';
import {
  clientId,
  http,
  makeUser,
  startServer,
  text,
  WsClient,
  type Frame,
  type HttpResult,
  type TestServer,
  type TestUser,
} from './harness.ts';

type Conversation = OpOutput<'conversation.get'>;
type EventRange = OpOutput<'conversation.events'>;
type Member = OpOutput<'group.setMember'>;
type UserEv = { useq: number; type: string; conversationId: string; data: Record<string, unknown> };
type ConvEv = { seq: number; type: string; conversationId: string; data: Record<string, unknown> | null };
type ErrorBody = { error: { code: string } };

const errCode = (r: HttpResult) => (r.body as ErrorBody).error?.code;

describe('groups', () => {
  let srv: TestServer;
  const sockets: WsClient[] = [];
  beforeAll(async () => {
    srv = await startServer();
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
  const api = <T>(u: TestUser, method: string, path: string, body?: unknown) =>
    http<T>(srv, method, path, { token: u.token, ...(body !== undefined ? { body } : {}) });
  const createGroup = async (owner: TestUser, members: TestUser[], extra: Record<string, unknown> = {}) => {
    const r = await api<Conversation>(owner, 'POST', '/api/v1/groups', {
      name: `group-${clientId('g')}`,
      memberIds: members.map((m) => m.id),
      ...extra,
    });
    expect(r.status).toBe(200);
    return r.body;
  };
  const send = (u: TestUser, convId: string, body = 'hello') =>
    api<OpOutput<'message.send'>>(u, 'POST', `/api/v1/conversations/${convId}/messages`, {
      clientMsgId: clientId(),
      content: text(body),
    });
  const events = (u: TestUser, convId: string, query = 'after=0&limit=200') =>
    api<EventRange>(u, 'GET', `/api/v1/conversations/${convId}/events?${query}`);
  const members = async (u: TestUser, convId: string) => {
    const r = await api<{ items: Member[] }>(u, 'GET', `/api/v1/conversations/${convId}/members`);
    expect(r.status).toBe(200);
    return new Map(r.body.items.map((m) => [m.userId as string, m]));
  };
  const userEvent = (c: WsClient, type: string, convId: string) =>
    c.waitFor(
      (f) => f.ev === 'user' && (f.data as UserEv).type === type && (f.data as UserEv).conversationId === convId,
    );
  const convEvent = (c: WsClient, convId: string, pred: (e: ConvEv) => boolean) =>
    c.waitFor((f: Frame) => f.ev === 'conv' && (f.data as ConvEv).conversationId === convId && pred(f.data as ConvEv));

  it('creates a group: the creator owns it, seq 1 is member.joined, every member hears conversation.joined', async () => {
    const [owner, b, c] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    const [wsOwner, wsB, wsC] = [await connect(owner), await connect(b), await connect(c)];
    const g = await createGroup(owner, [b, c]);
    expect(g.kind).toBe('group');
    expect(g.role).toBe('owner');
    expect(g.memberCount).toBe(3);
    expect(g.lastSeq).toBe(1);
    expect(g.unread).toBe(0);

    for (const ws of [wsOwner, wsB, wsC]) await userEvent(ws, 'conversation.joined', g.id);

    const h = await events(b, g.id);
    expect(h.status).toBe(200);
    expect(h.body.events).toHaveLength(1);
    const first = h.body.events[0]!;
    expect(first.seq).toBe(1);
    expect(first.type).toBe('member.joined');
    expect(new Set(first.data!.userIds as string[])).toEqual(new Set([owner.id, b.id, c.id]));

    const ms = await members(c, g.id);
    expect(ms.get(owner.id)?.role).toBe('owner');
    expect(ms.get(b.id)?.role).toBe('member');
    expect(ms.get(c.id)?.role).toBe('member');
    for (const m of ms.values()) expect(m.joinedSeq).toBe(1);

    // The group is in each member's list, with nothing unread (membership events do not count).
    const list = await api<OpOutput<'conversation.list'>>(c, 'GET', '/api/v1/conversations');
    const mine = list.body.items.find((i) => i.id === g.id);
    expect(mine?.role).toBe('member');
    expect(mine?.unread).toBe(0);
  });

  it('owner and admins change name, announcement and all-mute; plain members are refused; mutes hold', async () => {
    const [owner, admin, plain, other] = [
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
    ];
    const g = await createGroup(owner, [admin, plain, other]);
    const wsPlain = await connect(plain);
    const wsAdmin = await connect(admin);

    const promoted = await api<Member>(owner, 'PATCH', `/api/v1/groups/${g.id}/members/${admin.id}`, {
      role: 'admin',
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('admin');

    const renamed = await api<Conversation>(owner, 'PATCH', `/api/v1/groups/${g.id}`, { name: 'Board' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Board');
    await convEvent(wsPlain, g.id, (e) => e.type === 'conversation.updated' && e.data?.name === 'Board');

    const ann = await api<Conversation>(admin, 'PATCH', `/api/v1/groups/${g.id}`, { announcement: 'Read the rules' });
    expect(ann.status).toBe(200);
    expect(ann.body.announcement).toBe('Read the rules');
    await convEvent(
      wsPlain,
      g.id,
      (e) => e.type === 'conversation.updated' && e.data?.announcement === 'Read the rules',
    );

    for (const body of [{ name: 'Mine now' }, { announcement: 'x' }, { allMuted: true }]) {
      const r = await api(plain, 'PATCH', `/api/v1/groups/${g.id}`, body);
      expect(r.status).toBe(403);
      expect(errCode(r)).toBe('forbidden');
    }
    const still = await api<Conversation>(plain, 'GET', `/api/v1/conversations/${g.id}`);
    expect(still.body.name).toBe('Board');
    expect(still.body.announcement).toBe('Read the rules');
    expect(still.body.allMuted).toBe(false);

    // Everyone muted: plain members may not post, admins and the owner may.
    const muted = await api<Conversation>(admin, 'PATCH', `/api/v1/groups/${g.id}`, { allMuted: true });
    expect(muted.body.allMuted).toBe(true);
    await convEvent(wsPlain, g.id, (e) => e.type === 'conversation.updated' && e.data?.allMuted === true);
    const refused = await send(plain, g.id);
    expect(refused.status).toBe(403);
    expect(errCode(refused)).toBe('conversation_muted');
    expect((await send(admin, g.id)).status).toBe(200);
    expect((await send(owner, g.id)).status).toBe(200);
    await api(owner, 'PATCH', `/api/v1/groups/${g.id}`, { allMuted: false });
    expect((await send(plain, g.id)).status).toBe(200);

    // One member muted until a future time: only they are refused.
    const until = Date.now() + 60_000;
    const m = await api<Member>(admin, 'PATCH', `/api/v1/groups/${g.id}/members/${plain.id}`, { mutedUntil: until });
    expect(m.status).toBe(200);
    expect(m.body.mutedUntil).toBe(until);
    const beforeRefusal = await send(other, g.id);
    const silenced = await send(plain, g.id);
    expect(silenced.status).toBe(403);
    expect(errCode(silenced)).toBe('member_muted');
    const afterRefusal = await send(other, g.id);
    expect(afterRefusal.status).toBe(200);
    // The refused send took no seq (its write was rolled back): the stream stays gap-free.
    expect(afterRefusal.body.seq).toBe(beforeRefusal.body.seq + 1);
    expect((await send(admin, g.id)).status).toBe(200);
    // A plain member cannot mute anyone.
    const r = await api(other, 'PATCH', `/api/v1/groups/${g.id}/members/${admin.id}`, { mutedUntil: until });
    expect(r.status).toBe(403);
    expect(errCode(r)).toBe('forbidden');
    await api(admin, 'PATCH', `/api/v1/groups/${g.id}/members/${plain.id}`, { mutedUntil: null });
    expect((await send(plain, g.id)).status).toBe(200);
    expect(wsAdmin.closed).toBeNull();
  });

  it('adds and removes members; a removed member gets nothing from the removal seq on', async () => {
    const [owner, stay, gone, late] = [
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
    ];
    const g = await createGroup(owner, [stay, gone]);
    const [wsStay, wsGone, wsLate] = [await connect(stay), await connect(gone), await connect(late)];

    const add = await api<{ added: string[] }>(owner, 'POST', `/api/v1/groups/${g.id}/members`, {
      userIds: [late.id, stay.id],
    });
    expect(add.status).toBe(200);
    expect(add.body.added).toEqual([late.id]); // already a member: not added again
    const joined = await userEvent(wsLate, 'conversation.joined', g.id);
    const joinSeq = (joined.data as UserEv).data.seq as number;
    expect(joinSeq).toBe(2);
    await convEvent(
      wsStay,
      g.id,
      (e) => e.type === 'member.joined' && e.seq === joinSeq && (e.data?.userIds as string[]).includes(late.id),
    );
    expect((await members(owner, g.id)).get(late.id)?.joinedSeq).toBe(joinSeq);

    await send(owner, g.id, 'before removal');
    await convEvent(wsGone, g.id, (e) => e.type === 'message.created');

    const removed = await api(owner, 'DELETE', `/api/v1/groups/${g.id}/members/${gone.id}`);
    expect(removed.status).toBe(200);
    // Send at once, racing the removal's delivery.
    const acks = await Promise.all([1, 2, 3, 4, 5].map((i) => send(owner, g.id, `after removal ${i}`)));
    const left = await userEvent(wsGone, 'conversation.left', g.id);
    const removalSeq = (left.data as UserEv).data.seq as number;
    expect(removalSeq).toBe(4);
    const seqs = acks.map((a) => a.body.seq).sort((x, y) => x - y);
    expect(seqs[0]).toBeGreaterThan(removalSeq);

    for (const s of seqs) await convEvent(wsStay, g.id, (e) => e.seq === s);
    await new Promise((r) => setTimeout(r, 500));
    expect(wsGone.convEvents(g.id).filter((e) => e.seq > removalSeq)).toEqual([]);
    expect(wsGone.rawText.join('\n')).not.toContain('after removal');
    expect(wsStay.convEvents(g.id).filter((e) => e.type === 'message.created' && e.seq > removalSeq)).toHaveLength(5);

    // History for the removed member stops at the removal seq; the others see everything.
    const theirs = await events(gone, g.id);
    expect(theirs.status).toBe(200);
    expect(Math.max(...theirs.body.events.map((e) => e.seq))).toBe(removalSeq);
    expect(theirs.body.headSeq).toBe(removalSeq);
    expect(JSON.stringify(theirs.body)).not.toContain('after removal');
    const after = await events(gone, g.id, `after=${removalSeq}`);
    expect(after.body.events).toEqual([]);
    const stays = await events(stay, g.id);
    expect(stays.body.events.at(-1)!.seq).toBe(seqs.at(-1));

    // They can no longer post, and the group shows as inactive for them.
    const post = await send(gone, g.id);
    expect(post.status).toBe(403);
    expect(errCode(post)).toBe('not_a_member');
    const view = await api<Conversation>(gone, 'GET', `/api/v1/conversations/${g.id}`);
    expect(view.body.active).toBe(false);
    expect((await members(owner, g.id)).has(gone.id)).toBe(false);
    const list = await api<OpOutput<'conversation.list'>>(gone, 'GET', '/api/v1/conversations');
    expect(list.body.items.some((i) => i.id === g.id)).toBe(false);

    // A plain member cannot add or remove anyone.
    const byPlain = await api(stay, 'DELETE', `/api/v1/groups/${g.id}/members/${late.id}`);
    expect(byPlain.status).toBe(403);
    expect(errCode(byPlain)).toBe('forbidden');
  });

  it('from_join hides what came before the join; historyMode all shows everything', async () => {
    const [owner, b, newcomer, reader] = [
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
      await makeUser(srv),
    ];
    const g = await createGroup(owner, [b]);
    expect(g.historyMode).toBe('from_join');
    for (let i = 1; i <= 5; i++) await send(i % 2 ? owner : b, g.id, `secret board minute ${i}`);
    await api(owner, 'POST', `/api/v1/groups/${g.id}/members`, { userIds: [newcomer.id] });

    const h = await events(newcomer, g.id);
    expect(h.status).toBe(200);
    expect(h.body.minSeq).toBe(7);
    expect(h.body.events.map((e) => e.seq)).toEqual([7]);
    expect(h.body.events[0]!.type).toBe('member.joined');
    expect(JSON.stringify(h.body)).not.toContain('secret board minute');
    const older = await events(newcomer, g.id, 'before=7');
    expect(older.body.events).toEqual([]);
    const latest = await events(newcomer, g.id, 'limit=50');
    expect(latest.body.events.map((e) => e.seq)).toEqual([7]);
    const one = await api(newcomer, 'GET', `/api/v1/conversations/${g.id}/messages/3`);
    expect(one.status).toBe(404);
    expect(errCode(one)).toBe('message_not_found');
    const conv = await api<Conversation>(newcomer, 'GET', `/api/v1/conversations/${g.id}`);
    expect(conv.body.minSeq).toBe(7);
    expect(conv.body.unread).toBe(0);
    // Quoting what one cannot see is refused as not found.
    const quote = await api(newcomer, 'POST', `/api/v1/conversations/${g.id}/messages`, {
      clientMsgId: clientId(),
      content: text('re'),
      replyToSeq: 2,
    });
    expect(quote.status).toBe(404);
    await send(owner, g.id, 'welcome');
    const after = await api<Conversation>(newcomer, 'GET', `/api/v1/conversations/${g.id}`);
    expect(after.body.unread).toBe(1);

    const open = await createGroup(owner, [b], { historyMode: 'all' });
    expect(open.historyMode).toBe('all');
    for (let i = 1; i <= 5; i++) await send(owner, open.id, `open minute ${i}`);
    await api(owner, 'POST', `/api/v1/groups/${open.id}/members`, { userIds: [reader.id] });
    const all = await events(reader, open.id);
    expect(all.body.minSeq).toBe(1);
    expect(all.body.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(all.body.events[2]!.message?.content?.text).toBe('open minute 2');
    const got = await api<{ content: { text: string } }>(reader, 'GET', `/api/v1/conversations/${open.id}/messages/3`);
    expect(got.body.content.text).toBe('open minute 2');
    // What was there before joining never counts as unread.
    const conv2 = await api<Conversation>(reader, 'GET', `/api/v1/conversations/${open.id}`);
    expect(conv2.body.minSeq).toBe(1);
    expect(conv2.body.unread).toBe(0);
  });

  it('leave, owner_cannot_leave until transfer, transfer swaps roles, dissolve makes it read-only', async () => {
    const [owner, heir, leaver] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    const g = await createGroup(owner, [heir, leaver]);
    const wsLeaver = await connect(leaver);
    const wsHeir = await connect(heir);
    await send(owner, g.id, 'minutes of the last meeting');

    const left = await api(leaver, 'POST', `/api/v1/groups/${g.id}/leave`, {});
    expect(left.status).toBe(200);
    const ev = await userEvent(wsLeaver, 'conversation.left', g.id);
    expect((ev.data as UserEv).data.self).toBe(true);
    await convEvent(wsHeir, g.id, (e) => e.type === 'member.left' && (e.data?.userIds as string[]).includes(leaver.id));
    expect((await members(owner, g.id)).has(leaver.id)).toBe(false);
    const again = await api(leaver, 'POST', `/api/v1/groups/${g.id}/leave`, {});
    expect(again.status).toBe(403);
    expect(errCode(again)).toBe('not_a_member');

    const refused = await api(owner, 'POST', `/api/v1/groups/${g.id}/leave`, {});
    expect(refused.status).toBe(409);
    expect(errCode(refused)).toBe('owner_cannot_leave');
    const notOwner = await api(heir, 'POST', `/api/v1/groups/${g.id}/transfer`, { userId: heir.id });
    expect(notOwner.status).toBe(403);

    const t = await api(owner, 'POST', `/api/v1/groups/${g.id}/transfer`, { userId: heir.id });
    expect(t.status).toBe(200);
    await convEvent(wsHeir, g.id, (e) => e.type === 'conversation.updated' && e.data?.ownerId === heir.id);
    const ms = await members(heir, g.id);
    expect(ms.get(heir.id)?.role).toBe('owner');
    expect(ms.get(owner.id)?.role).toBe('admin');
    expect((await api<Conversation>(heir, 'GET', `/api/v1/conversations/${g.id}`)).body.role).toBe('owner');
    // The old owner, now an admin, may not dissolve; the new owner may not leave.
    expect(errCode(await api(owner, 'POST', `/api/v1/groups/${g.id}/dissolve`, {}))).toBe('forbidden');
    expect(errCode(await api(heir, 'POST', `/api/v1/groups/${g.id}/leave`, {}))).toBe('owner_cannot_leave');

    const d = await api(heir, 'POST', `/api/v1/groups/${g.id}/dissolve`, {});
    expect(d.status).toBe(200);
    await convEvent(wsHeir, g.id, (e) => e.type === 'conversation.dissolved');
    for (const u of [heir, owner]) {
      const r = await send(u, g.id);
      expect(r.status).toBe(409);
      expect(errCode(r)).toBe('conversation_read_only');
    }
    const rename = await api(heir, 'PATCH', `/api/v1/groups/${g.id}`, { name: 'revived' });
    expect(errCode(rename)).toBe('conversation_read_only');
    const h = await events(owner, g.id);
    expect(h.status).toBe(200);
    expect(h.body.events.some((e) => e.message?.content?.text === 'minutes of the last meeting')).toBe(true);
    expect(h.body.events.at(-1)!.type).toBe('conversation.dissolved');
    const conv = await api<Conversation>(owner, 'GET', `/api/v1/conversations/${g.id}`);
    expect(conv.body.dissolved).toBe(true);
  });

  it('a non-member asking for a group by its valid id gets conversation_not_found', async () => {
    const [owner, b, outsider] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    const g = await createGroup(owner, [b]);
    await send(owner, g.id, 'internal only');
    for (const path of [
      `/api/v1/conversations/${g.id}/events?after=0`,
      `/api/v1/conversations/${g.id}`,
      `/api/v1/conversations/${g.id}/members`,
      `/api/v1/conversations/${g.id}/messages/2`,
    ]) {
      const r = await api(outsider, 'GET', path);
      expect(r.status, path).toBe(404);
      expect(errCode(r), path).toBe('conversation_not_found');
      expect(JSON.stringify(r.body)).not.toContain('internal only');
    }
    const post = await send(outsider, g.id);
    expect(post.status).toBe(404);
    expect(errCode(post)).toBe('conversation_not_found');
    const ws = await connect(outsider);
    const f = await ws.request('conversation.events', { conversationId: g.id, after: 0 });
    expect(f.ok).toBe(false);
    expect(f.error?.code).toBe('conversation_not_found');
  });
});
