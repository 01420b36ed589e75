/**
 * Cluster mode end to end: three `enclave start --cluster` processes on PostgreSQL and a private
 * Redis, behind nginx. SDK clients spread over the nodes chat 1:1 and in groups while a node is
 * killed with SIGKILL and while Redis is killed and restarted; a history checker over every client's
 * state and the server's history proves that no acknowledged message is lost or duplicated and that
 * each conversation's order is intact. Presence and department online counts agree on every node;
 * a session revoked on one node closes its socket on another; SIGTERM drains a node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeClient, type EnclaveClient } from '@enclave/sdk/node';
import type { ConversationId } from '@enclave/protocol';
import { ADMIN_PASSWORD, http, WsClient } from './harness.ts';
import { postgresTarget } from './stores.ts';
import {
  freePort,
  hasBinary,
  kill9,
  Nginx,
  PrivateRedis,
  startNode,
  terminate,
  type NodeProcess,
} from './cluster-harness.ts';

const services = {
  postgres: !!process.env.ENCLAVE_TEST_PG_URL,
  nginx: hasBinary('nginx'),
  'redis-server': hasBinary('redis-server'),
};
const missing = Object.entries(services)
  .filter(([, ok]) => !ok)
  .map(([name]) => name);
if (missing.length && process.env.ENCLAVE_REQUIRE_ALL_STORES === '1')
  throw new Error(`cluster suite needs ${missing.join(', ')} (CI installs and starts them)`);

/** What the last presence probe saw (printed when a wait times out). */
let lastSeen = '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const USERS = 12;

interface Acked {
  cmid: string;
  conv: string;
  sender: number;
  n: number;
  seq: number;
}

async function until<T>(
  what: string,
  fn: () => Promise<T | null | false> | T | null | false,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out: ${what}${last ? ` (${String(last)})` : ''}; ${lastSeen}`);
    await sleep(100);
  }
}

describe.skipIf(missing.length > 0)('cluster: 3 nodes behind nginx, PostgreSQL + Redis', () => {
  let drop: (() => Promise<void>) | null = null;
  let redis: PrivateRedis;
  let nginx: Nginx;
  const nodes: NodeProcess[] = [];
  const alive = new Set<NodeProcess>();
  let adminToken = '';
  const users: { id: string; username: string; password: string; token: string }[] = [];
  let departmentId = '';
  const direct: string[] = [];
  const group: string[] = [];
  const clients: EnclaveClient[] = [];
  const acked = new Map<string, Acked>();
  const members = new Map<string, number[]>();
  /** Send order across rounds (one client sends one message at a time). */
  let sendOrder = 0;

  beforeAll(async () => {
    const db = await postgresTarget().create();
    drop = db.drop;
    redis = await PrivateRedis.start();
    const ports = [await freePort(), await freePort(), await freePort()];
    const env = {
      ENCLAVE_CLUSTER_BEAT_MS: '1000',
      ENCLAVE_RESYNC_JITTER_MS: '800',
      ENCLAVE_DRAIN_MS: '1000',
      ENCLAVE_DEPARTMENT_UPDATE_MS: '100',
    };
    const opts = (i: number) => ({
      id: `node${i + 1}`,
      port: ports[i]!,
      databaseUrl: db.url,
      redisUrl: redis.url,
      env,
    });
    // The first node migrates the empty schema; the others start on it together.
    nodes.push(await startNode(opts(0)));
    nodes.push(...(await Promise.all([startNode(opts(1)), startNode(opts(2))])));
    for (const n of nodes) alive.add(n);
    nginx = await Nginx.start(ports);

    const admin = await http<{ token: string }>(nodes[0]!, 'POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    adminToken = admin.body.token;
    for (let i = 0; i < USERS + 2; i++) {
      const username = `cl${i}-${Math.random().toString(36).slice(2, 6)}`;
      const password = `Cluster-pass-${i}`;
      // Spread the admin work over the nodes: each must see the others' writes.
      const node = nodes[i % 3]!;
      const u = await http<{ id: string }>(node, 'POST', '/api/v1/admin/users', {
        token: adminToken,
        body: { username, displayName: username, password, mustChangePassword: false },
      });
      expect(u.status).toBe(200);
      const s = await http<{ token: string }>(nginx, 'POST', '/api/v1/auth/login', { body: { username, password } });
      users.push({ id: u.body.id, username, password, token: s.body.token });
    }
    // A department made on node 2 and staffed on node 3: every node's organisation must follow.
    const d = await http<{ id: string }>(nodes[1]!, 'POST', '/api/v1/admin/departments', {
      token: adminToken,
      body: { name: '集群测试部 cluster' },
    });
    departmentId = d.body.id;
    for (const n of nodes)
      await until(
        `${n.id} knows the department`,
        async () => {
          const r = await http(n, 'GET', `/api/v1/org/departments/${departmentId}`, { token: adminToken });
          return r.status === 200;
        },
        5_000,
      );
    for (let i = 0; i < USERS + 1; i++) {
      const r = await http(nodes[2]!, 'POST', `/api/v1/admin/users/${users[i]!.id}/posts`, {
        token: adminToken,
        body: { posts: [{ departmentId, primary: true }] },
      });
      expect(r.status).toBe(200);
    }
    for (let i = 0; i < USERS; i += 2) {
      const c = await http<{ id: string }>(nginx, 'POST', '/api/v1/conversations/direct', {
        token: users[i]!.token,
        body: { userId: users[i + 1]!.id },
      });
      direct[i] = direct[i + 1] = c.body.id;
      members.set(c.body.id, [i, i + 1]);
    }
    for (let g = 0; g < 2; g++) {
      const owner = g * 6;
      const memberIdx = [0, 1, 2, 3, 4, 5].map((k) => owner + k);
      const c = await http<{ id: string }>(nginx, 'POST', '/api/v1/groups', {
        token: users[owner]!.token,
        body: { name: `cluster group ${g}`, memberIds: memberIdx.slice(1).map((k) => users[k]!.id) },
      });
      expect(c.status).toBe(200);
      for (const k of memberIdx) group[k] = c.body.id;
      members.set(c.body.id, memberIdx);
    }
    for (let i = 0; i < USERS; i++) {
      const c = createNodeClient({
        baseUrl: nginx.url,
        token: users[i]!.token,
        gapHoldMs: 100,
        syncCheckMs: 2_000,
        backoff: { baseMs: 200, capMs: 1_500 },
      });
      c.on('error', () => undefined);
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.connect()));
  }, 240_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const n of alive) await kill9(n);
    await nginx?.stop();
    await redis?.kill();
    await drop?.();
  }, 30_000);

  const connectionsOn = async (n: NodeProcess) => {
    const r = await http<string>(n, 'GET', '/metrics');
    const m = /^enclave_connections\{[^}]*\} (\d+)/m.exec(r.body);
    return Number(m?.[1] ?? -1);
  };

  /** Every client sends, one message at a time, alternately to its 1:1 and its group; a failed send is resent with the same id. */
  async function load(round: string, during: () => Promise<void>) {
    let stop = false;
    const loops = clients.map(async (c, i) => {
      let n = 0;
      let inflight: { cmid: string; conv: string; n: number } | null = null;
      const giveUp = () => stop && Date.now() > stoppedAt + 30_000;
      while (!giveUp()) {
        if (!inflight) {
          if (stop) return;
          inflight = { cmid: `${round}-${i}-${n}`, conv: n % 2 ? group[i]! : direct[i]!, n: ++sendOrder };
          n++;
        }
        if (c.connectionState !== 'ready') {
          await sleep(50);
          continue;
        }
        try {
          const ack = await c.call('message.send', {
            conversationId: inflight.conv as ConversationId,
            clientMsgId: inflight.cmid,
            content: { text: inflight.cmid, format: 'plain' },
          });
          const prior = acked.get(inflight.cmid);
          // A resend after a lost ack returns the original seq, never a second message.
          if (prior) expect(ack.seq).toBe(prior.seq);
          acked.set(inflight.cmid, {
            cmid: inflight.cmid,
            conv: inflight.conv,
            sender: i,
            n: inflight.n,
            seq: ack.seq,
          });
          inflight = null;
          await sleep(30 + Math.random() * 40);
        } catch {
          await sleep(100); // retryable (socket gone, server busy): same clientMsgId next time
        }
      }
      throw new Error(`client ${i} could not finish its in-flight send`);
    });
    let stoppedAt = 0;
    await during();
    stop = true;
    stoppedAt = Date.now();
    await Promise.all(loops);
  }

  /** The history checker: server history per conversation, then every client's converged state. */
  async function checkHistories() {
    const byConv = new Map<string, Acked[]>();
    for (const a of acked.values()) byConv.set(a.conv, [...(byConv.get(a.conv) ?? []), a]);
    const heads = new Map<string, number>();
    for (const [conv, idx] of members) {
      const token = users[idx[0]!]!.token;
      const events: { seq: number; message: { content: { text: string } | null } | null; type: string }[] = [];
      for (;;) {
        const page = await http<{ events: typeof events; hasMore: boolean }>(
          nginx,
          'GET',
          `/api/v1/conversations/${conv}/events?after=${events.length}&limit=200`,
          { token },
        );
        expect(page.status).toBe(200);
        events.push(...page.body.events);
        if (!page.body.hasMore) break;
      }
      // Gap-free, ascending seqs.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, k) => k + 1));
      heads.set(conv, events.length);
      const seen = new Map<string, number>();
      for (const e of events)
        if (e.type === 'message.created' && e.message?.content) {
          const t = e.message.content.text;
          expect(seen.has(t), `duplicate message ${t}`).toBe(false);
          seen.set(t, e.seq);
        }
      const mine = byConv.get(conv) ?? [];
      for (const a of mine) expect(seen.get(a.cmid), `acknowledged ${a.cmid} at seq ${a.seq}`).toBe(a.seq);
      // Each sender's messages in the order they were sent.
      for (const sender of idx) {
        const seqs = mine
          .filter((a) => a.sender === sender)
          .sort((x, y) => x.n - y.n)
          .map((a) => a.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }
    // Every client converges to the head of each of its conversations and holds each message once.
    await until('clients converged', () =>
      clients.every((c, i) =>
        [direct[i]!, group[i]!].every((conv) => (c.state.conversations[conv]?.cursor.head ?? 0) >= heads.get(conv)!),
      ),
    );
    clients.forEach((c, i) => {
      for (const conv of [direct[i]!, group[i]!]) {
        const view = c.state.conversations[conv]!;
        const seqs = view.messages.map((m) => m.seq);
        expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
        const texts = view.messages.map((m) => m.content?.text);
        expect(new Set(texts).size).toBe(texts.length);
        for (const a of byConv.get(conv) ?? [])
          if (a.seq >= view.loadedFrom) expect(view.messages.find((m) => m.seq === a.seq)?.content?.text).toBe(a.cmid);
      }
    });
    return acked.size;
  }

  /** One observer socket per live node, connected directly: what does each node say about presence? */
  async function presenceOnEveryNode() {
    const watcher = users[USERS + 1]!;
    const out: { node: string; online: string[]; deptOnline: number; deptTotal: number }[] = [];
    for (const n of alive) {
      const ws = await WsClient.connect(n, watcher.token);
      const snap = await ws.call('presence.subscribe', {
        userIds: users.slice(0, USERS + 1).map((u) => u.id),
        departmentIds: [departmentId],
      });
      ws.close();
      out.push({
        node: n.id,
        online: snap.users
          .filter((u) => u.state !== 'offline')
          .map((u) => u.userId)
          .sort(),
        deptOnline: snap.departments[0]?.online ?? -1,
        deptTotal: snap.departments[0]?.total ?? -1,
      });
    }
    lastSeen = `last seen: ${JSON.stringify(out.map((v) => ({ node: v.node, online: v.online.length, dept: v.deptOnline, total: v.deptTotal })))}`;
    return out;
  }

  it('spreads clients over the nodes; presence and online counts agree on every node', async () => {
    const spread = await Promise.all(nodes.map(connectionsOn));
    for (const c of spread) expect(c).toBeGreaterThan(0);
    expect(spread.reduce((a, b) => a + b, 0)).toBe(USERS);
    const expected = users
      .slice(0, USERS)
      .map((u) => u.id)
      .sort();
    await until('presence agrees', async () => {
      const views = await presenceOnEveryNode();
      return (
        views.every(
          // Thirteen people hold a post there (the twelve clients and one more); twelve are online.
          (v) =>
            JSON.stringify(v.online) === JSON.stringify(expected) &&
            v.deptOnline === USERS &&
            v.deptTotal === USERS + 1,
        ) && views
      );
    });
  }, 60_000);

  it('kill -9 of a node under load: clients move to the others, nothing acknowledged is lost or doubled', async () => {
    // A user connected straight to node 3 and nowhere else: offline on the others once node 3 dies.
    const lonely = users[USERS]!;
    const victim = nodes[2]!;
    const direct3 = await WsClient.connect(victim, lonely.token);
    await until('lonely online everywhere', async () =>
      (await presenceOnEveryNode()).every((v) => v.online.includes(lonely.id) && v.deptOnline === USERS + 1),
    );
    const before = acked.size;
    await load('kill', async () => {
      await sleep(1_500);
      await kill9(victim);
      alive.delete(victim);
      await sleep(3_000);
    });
    direct3.ws.terminate();
    expect(acked.size - before).toBeGreaterThanOrEqual(USERS);
    await checkHistories();
    // Everyone reconnected to the two live nodes; the lonely user is offline, the others online.
    await until('clients reconnected to the live nodes', async () => {
      const spread = await Promise.all([...alive].map(connectionsOn));
      return clients.every((c) => c.connectionState === 'ready') && spread.reduce((a, b) => a + b, 0) === USERS;
    });
    const expected = users
      .slice(0, USERS)
      .map((u) => u.id)
      .sort();
    await until(
      'dead node expired from presence',
      async () =>
        (await presenceOnEveryNode()).every(
          (v) => JSON.stringify(v.online) === JSON.stringify(expected) && v.deptOnline === USERS,
        ),
      15_000,
    );
  }, 90_000);

  it('Redis killed and restarted under load: same guarantees; nodes resync their sockets', async () => {
    const node1 = nodes[0]!;
    const observer = await WsClient.connect(node1, users[USERS + 1]!.token);
    const before = acked.size;
    await load('redis', async () => {
      await sleep(1_000);
      await redis.kill();
      await sleep(1_500);
      await redis.up();
      await sleep(2_500);
    });
    expect(acked.size - before).toBeGreaterThanOrEqual(USERS);
    // The node asked its sockets to resync once the bus was back.
    await observer.waitFor((f) => f.ev === 'resync', 10_000);
    observer.close();
    await checkHistories();
    const ready = await http<{ redis: string }>(node1, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.redis).toBe('up');
    // The registry re-asserted itself into the empty Redis: presence agrees again.
    const expected = users
      .slice(0, USERS)
      .map((u) => u.id)
      .sort();
    await until('presence agrees after the Redis restart', async () =>
      (await presenceOnEveryNode()).every(
        (v) => JSON.stringify(v.online) === JSON.stringify(expected) && v.deptOnline === USERS,
      ),
    );
  }, 90_000);

  it('a session revoked on node A closes its socket on node B within 2 s; so does disabling the user', async () => {
    const [a, b] = [...alive] as [NodeProcess, NodeProcess];
    const u = users[USERS]!;
    const second = await http<{ token: string; session: { id: string } }>(b, 'POST', '/api/v1/auth/login', {
      body: { username: u.username, password: u.password, deviceName: 'phone' },
    });
    const ws = await WsClient.connect(b, second.body.token);
    const t0 = Date.now();
    const r = await http(a, 'DELETE', `/api/v1/me/sessions/${second.body.session.id}`, { token: u.token });
    expect(r.status).toBe(200);
    const closed = await ws.waitClosed(2_000);
    expect(closed.code).toBe(4003);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(ws.frames.some((f) => f.ev === 'closing' && (f.data as { reason: string }).reason === 'revoked')).toBe(true);

    const third = await http<{ token: string }>(a, 'POST', '/api/v1/auth/login', {
      body: { username: u.username, password: u.password, deviceName: 'desk' },
    });
    const ws2 = await WsClient.connect(a, third.body.token);
    const d = await http(b, 'POST', `/api/v1/admin/users/${u.id}/disabled`, {
      token: adminToken,
      body: { disabled: true },
    });
    expect(d.status).toBe(200);
    expect((await ws2.waitClosed(2_000)).code).toBe(4003);
  }, 30_000);

  it('SIGTERM drains a node: its clients reconnect to the other node and resync, then it exits 0', async () => {
    const [keep, leaving] = [...alive] as [NodeProcess, NodeProcess];
    const onLeaving = await connectionsOn(leaving);
    const before = acked.size;
    let code: number | null = -1;
    await load('drain', async () => {
      await sleep(800);
      code = await terminate(leaving);
      alive.delete(leaving);
      await sleep(1_500);
    });
    expect(code).toBe(0);
    expect(acked.size).toBeGreaterThan(before);
    await checkHistories();
    // Every client is back, all of them on the node that stayed.
    await until(
      'clients reconnected to the remaining node',
      async () => clients.every((c) => c.connectionState === 'ready') && (await connectionsOn(keep)) === USERS,
    );
    expect(onLeaving).toBeGreaterThanOrEqual(0);
  }, 90_000);
});
