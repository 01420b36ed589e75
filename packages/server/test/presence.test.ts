import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { http, login, makeUser, startServer, WsClient, type Frame, type TestServer, type TestUser } from './harness.ts';

/* Presence per device, subscriptions, follows, the 90 s rule and typing, over real sockets. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `presence` frames a client received about one user, in order. */
function presenceOf(c: WsClient, userId: string): string[] {
  return c.frames
    .filter((f) => f.ev === 'presence' && (f.data as { userId: string }).userId === userId)
    .map((f) => (f.data as { state: string }).state);
}

function framesOf(c: WsClient, ev: string): Frame[] {
  return c.frames.filter((f) => f.ev === ev);
}

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

async function follow(srv: TestServer, follower: TestUser, target: TestUser): Promise<void> {
  const { store, directory } = srv.app.deps;
  await store.db
    .insertInto('follows')
    .values({ user_id: await directory.idOf(follower.id), target_id: await directory.idOf(target.id), created_at: 1 })
    .execute();
}

describe('presence', () => {
  let srv: TestServer;
  const open: WsClient[] = [];
  const connect = async (token: string) => {
    const c = await WsClient.connect(srv, token);
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await srv.close();
  });

  it('a user with two devices: strongest state over devices; each transition reaches subscribers once', async () => {
    const alice = await makeUser(srv);
    const watcher = await makeUser(srv);
    const bystander = await makeUser(srv);
    const w = await connect(watcher.token);
    const b = await connect(bystander.token);
    const snap = await w.call('presence.subscribe', { userIds: [alice.id] });
    expect(snap.users).toEqual([{ userId: alice.id, state: 'offline' }]);

    const phone = await connect(alice.token);
    await until(() => presenceOf(w, alice.id).length === 1);
    const desk = await connect((await login(srv, alice.username, alice.password, 'desk')).token);
    await desk.call('presence.set', { state: 'busy' });
    await until(() => presenceOf(w, alice.id).length === 2);
    desk.close();
    await until(() => presenceOf(w, alice.id).length === 3);
    await phone.call('presence.set', { state: 'away' });
    await until(() => presenceOf(w, alice.id).length === 4);
    phone.close();
    await until(() => presenceOf(w, alice.id).length === 5);
    await sleep(100);
    expect(presenceOf(w, alice.id)).toEqual(['online', 'busy', 'online', 'away', 'offline']);
    // Not subscribed: nothing, although both are connected the whole time.
    expect(framesOf(b, 'presence')).toEqual([]);
  });

  it('presence.subscribe replaces the set and answers a snapshot; presence.get serves integrations', async () => {
    const [a, z, viewer] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    const ca = await connect(a.token);
    await ca.call('presence.set', { state: 'busy' });
    const v = await connect(viewer.token);
    const snap = await v.call('presence.subscribe', { userIds: [a.id, z.id] });
    expect(snap.users).toEqual([
      { userId: a.id, state: 'busy' },
      { userId: z.id, state: 'offline' },
    ]);
    // Replaced: after watching only z, a's changes no longer arrive.
    await v.call('presence.subscribe', { userIds: [z.id] });
    await ca.call('presence.set', { state: 'online' });
    const cz = await connect(z.token);
    await until(() => presenceOf(v, z.id).length === 1);
    await sleep(100);
    expect(presenceOf(v, a.id)).toEqual([]);

    const r = await http<{ items: { userId: string; state: string; since: number }[] }>(
      srv,
      'GET',
      `/api/v1/presence?userIds=${a.id},${z.id}`,
      { token: viewer.token },
    );
    expect(r.status).toBe(200);
    expect(r.body.items.map((i) => [i.userId, i.state])).toEqual([
      [a.id, 'online'],
      [z.id, 'online'],
    ]);
    expect(r.body.items.every((i) => i.since > 0)).toBe(true);
    cz.close();
  });

  it('followers are told when someone they follow comes online (offline → online only)', async () => {
    const [star, fan, other] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    await follow(srv, fan, star);
    const f = await connect(fan.token);
    const o = await connect(other.token);
    const s1 = await connect(star.token);
    await until(() => framesOf(f, 'followed').length === 1);
    expect(framesOf(f, 'followed')[0]!.data).toEqual({ userId: star.id, state: 'online' });
    await s1.call('presence.set', { state: 'away' });
    s1.close();
    await sleep(50);
    const s2 = await connect(star.token);
    await until(() => framesOf(f, 'followed').length === 2);
    await s2.call('presence.set', { state: 'busy' }); // not a coming-online: no third notice
    await sleep(100);
    expect(framesOf(f, 'followed')).toHaveLength(2);
    expect(framesOf(o, 'followed')).toEqual([]);
  });

  describe('typing', () => {
    let tsrv: TestServer;
    beforeAll(async () => {
      tsrv = await startServer({ config: { typingMaxMembers: 3, typingIntervalMs: 300 } });
    });
    afterAll(async () => tsrv.close());

    it('goes to the other members only, at most once per interval per client; off above the group limit', async () => {
      const [a, b, c, d] = [await makeUser(tsrv), await makeUser(tsrv), await makeUser(tsrv), await makeUser(tsrv)];
      const ca = await WsClient.connect(tsrv, a.token);
      const ca2 = await WsClient.connect(tsrv, (await login(tsrv, a.username, a.password, 'second')).token);
      const cb = await WsClient.connect(tsrv, b.token);
      const cc = await WsClient.connect(tsrv, c.token);
      const cd = await WsClient.connect(tsrv, d.token);
      const direct = await ca.call('conversation.openDirect', { userId: b.id });

      for (let i = 0; i < 5; i++) expect((await ca.request('typing', { conversationId: direct.id })).ok).toBe(true);
      await until(() => framesOf(cb, 'typing').length === 1);
      await sleep(100);
      expect(framesOf(cb, 'typing')).toHaveLength(1);
      expect(framesOf(cb, 'typing')[0]!.data).toEqual({ conversationId: direct.id, userId: a.id });
      await sleep(300);
      await ca.call('typing', { conversationId: direct.id });
      await until(() => framesOf(cb, 'typing').length === 2);
      // Neither the sender's sockets nor a non-member hear it; a non-member cannot send it.
      expect(framesOf(ca, 'typing')).toEqual([]);
      expect(framesOf(ca2, 'typing')).toEqual([]);
      expect((await cc.request('typing', { conversationId: direct.id })).error?.code).toBe('conversation_not_found');

      const small = await ca.call('group.create', { name: 'small', memberIds: [b.id, c.id] });
      await sleep(300);
      await cc.call('typing', { conversationId: small.id });
      await until(() => framesOf(ca, 'typing').length === 1 && framesOf(cb, 'typing').length === 3);
      expect(framesOf(ca2, 'typing')).toHaveLength(1); // every socket of another member
      await ca.call('group.removeMember', { conversationId: small.id, userId: c.id });
      await sleep(300);
      expect((await cc.request('typing', { conversationId: small.id })).error?.code).toBe('not_a_member');

      const big = await ca.call('group.create', { name: 'big', memberIds: [b.id, c.id, d.id] });
      expect((await ca.request('typing', { conversationId: big.id })).error?.code).toBe('typing_disabled');
      await sleep(100);
      expect(framesOf(cd, 'typing')).toEqual([]);
      for (const s of [ca, ca2, cb, cc, cd]) s.close();
    });
  });

  describe('department online counts', () => {
    const WINDOW = 1_000;
    let dsrv: TestServer;
    beforeAll(async () => {
      dsrv = await startServer({ config: { departmentUpdateMs: WINDOW } });
    });
    afterAll(async () => dsrv.close());

    const admin = async <T>(method: string, path: string, body: unknown) => {
      const r = await http<T>(dsrv, method, path, { token: dsrv.adminToken, body });
      if (r.status !== 200) throw new Error(`${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const dept = (name: string, parentId: string | null = null) =>
      admin<{ id: string }>('POST', '/api/v1/admin/departments', { name, parentId });
    const setPosts = (userId: string, ids: string[]) =>
      admin('POST', `/api/v1/admin/users/${userId}/posts`, {
        posts: ids.map((departmentId, k) => ({ departmentId, primary: k === 0 })),
      });

    it('count distinct people (a multi-post person once), reach only subscribers, ≤ 1 update per window', async () => {
      const root = await dept('总部');
      const [a, b] = [await dept('研发', root.id), await dept('市场', root.id)];
      const [p, q, w, x] = [await makeUser(dsrv), await makeUser(dsrv), await makeUser(dsrv), await makeUser(dsrv)];
      await setPosts(p.id, [a.id, b.id]); // 一人多岗: under the root twice, counted once
      await setPosts(q.id, [a.id]);
      const cw = await WsClient.connect(dsrv, w.token);
      const cx = await WsClient.connect(dsrv, x.token);
      const snap = await cw.call('presence.subscribe', { departmentIds: [root.id, a.id] });
      expect(snap.departments).toEqual([
        { departmentId: root.id, total: 2, online: 0 },
        { departmentId: a.id, total: 2, online: 0 },
      ]);

      const updates = (id: string) =>
        cw.frames
          .filter((f) => f.ev === 'department' && (f.data as { departmentId: string }).departmentId === id)
          .map((f) => f.data as { total: number; online: number });
      const stamps = new Map<string, number[]>();
      cw.ws.on('message', (raw) => {
        const f = JSON.parse(String(raw)) as Frame;
        if (f.ev !== 'department') return;
        const id = (f.data as { departmentId: string }).departmentId;
        stamps.set(id, [...(stamps.get(id) ?? []), Date.now()]);
      });

      // Both come online within one window: one update per department, with the latest values.
      const cp = await WsClient.connect(dsrv, p.token);
      const cq = await WsClient.connect(dsrv, q.token);
      await until(() => updates(root.id).length === 1 && updates(a.id).length === 1);
      await sleep(WINDOW + 200);
      expect(updates(root.id)).toEqual([{ departmentId: root.id, total: 2, online: 2 }]);
      expect(updates(a.id)).toEqual([{ departmentId: a.id, total: 2, online: 2 }]);
      expect(dsrv.app.deps.onlineCount!(dsrv.app.deps.org.departmentIdOf(b.id)!)).toBe(1);

      // Flapping within a window collapses into one update carrying the final value.
      cq.close();
      await sleep(20);
      const cq2 = await WsClient.connect(dsrv, q.token);
      cq2.close();
      cp.close();
      await until(() => updates(root.id).length === 2);
      await sleep(WINDOW + 200);
      expect(updates(root.id)).toHaveLength(2);
      expect(updates(root.id)[1]).toEqual({ departmentId: root.id, total: 2, online: 0 });

      // A post change of an online person moves them between counts.
      const cq3 = await WsClient.connect(dsrv, q.token);
      await until(() => updates(a.id).at(-1)?.online === 1);
      await setPosts(q.id, [b.id]);
      await until(() => updates(a.id).at(-1)?.online === 0);
      expect(updates(a.id).at(-1)).toEqual({ departmentId: a.id, total: 1, online: 0 });
      expect(updates(root.id).at(-1)).toEqual({ departmentId: root.id, total: 2, online: 1 });

      for (const [, times] of stamps)
        for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(WINDOW - 50);
      expect(cx.frames.filter((f) => f.ev === 'department')).toEqual([]);
      for (const c of [cw, cx, cq3]) c.close();
    });
  });

  describe('dead sockets', () => {
    it('90 s without a heartbeat (shortened here) marks the device offline and drops the socket', async () => {
      const s = await startServer({ config: { presenceTimeoutMs: 400, heartbeatMs: 60_000 } });
      try {
        const [a, w] = [await makeUser(s), await makeUser(s)];
        const cw = await WsClient.connect(s, w.token);
        await cw.call('presence.subscribe', { userIds: [a.id] });
        const ca = await WsClient.connect(s, a.token);
        await until(() => presenceOf(cw, a.id).length === 1);
        // The watcher keeps talking (so it stays), the watched device falls silent.
        // A ping still unanswered when the server shuts down fails with the socket: not an error here.
        const keep = setInterval(() => void cw.request('ping', {}).catch(() => undefined), 100);
        try {
          await ca.waitClosed(3_000);
          await until(() => presenceOf(cw, a.id).length === 2);
        } finally {
          clearInterval(keep);
        }
        expect(presenceOf(cw, a.id)).toEqual(['online', 'offline']);
      } finally {
        await s.close();
      }
    });

    it('a socket the heartbeat terminates (no pong) is offline', async () => {
      const s = await startServer({ config: { heartbeatMs: 100 } });
      try {
        const [a, w] = [await makeUser(s), await makeUser(s)];
        const cw = await WsClient.connect(s, w.token);
        await cw.call('presence.subscribe', { userIds: [a.id] });
        const mute = new WebSocket(s.wsUrl, { headers: { authorization: `Bearer ${a.token}` }, autoPong: false });
        const closed = new Promise<void>((r) => mute.once('close', () => r()));
        await until(() => presenceOf(cw, a.id).length === 1);
        await closed;
        await until(() => presenceOf(cw, a.id).length === 2);
        expect(presenceOf(cw, a.id)).toEqual(['online', 'offline']);
      } finally {
        await s.close();
      }
    });
  });
});
