/**
 * Cluster benchmark (loopback only): throughput and latency of 1:1 messages with 3, 2 and 1 nodes on
 * PostgreSQL + a private Redis, and the reconnect storm — N sockets of a node killed with SIGKILL
 * reconnecting (full-jitter backoff, like the SDK) to the surviving nodes and resyncing.
 *
 *   node --import tsx bench/cluster.ts [--pairs 100] [--secs 10] [--storm 5000]
 *
 * PostgreSQL from ENCLAVE_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test; a private
 * schema is created and dropped); redis-server is started privately on a free port. Every node, the
 * database, Redis and this load generator share the machine's cores: the numbers say what the
 * nodes do together on one machine, not what separate machines would do.
 */
import pg from 'pg';
import { WebSocket } from 'ws';
import { ADMIN_PASSWORD } from '../packages/server/test/harness.ts';
import { freePort, kill9, PrivateRedis, startNode, type NodeProcess } from '../packages/server/test/cluster-harness.ts';
import { f, log, machineTicks, parseArgs, procCpuSecs, sleep, summary, table } from './lib.ts';

const { flags } = parseArgs(process.argv.slice(2));
const PAIRS = Number(flags.pairs ?? 100);
const SECS = Number(flags.secs ?? 10);
const STORM = Number(flags.storm ?? 5_000);
const PG = process.env.ENCLAVE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Frame {
  ref?: string;
  ok?: boolean;
  ev?: string;
  data?: unknown;
  error?: { code: string };
}

/** A raw protocol client: auth by header, request/ack by ref, a hook for events. */
class Sock {
  private ref = 0;
  private readonly waiting = new Map<string, (f: Frame) => void>();
  onEvent: (f: Frame) => void = () => undefined;
  closed: Promise<void>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const fr = JSON.parse(d.toString()) as Frame;
      if (fr.ref !== undefined && fr.ref !== null) {
        const w = this.waiting.get(fr.ref);
        this.waiting.delete(fr.ref);
        w?.(fr);
      } else this.onEvent(fr);
    });
    this.closed = new Promise((r) => ws.once('close', () => r()));
    ws.on('error', () => undefined);
  }

  static open(url: string, token: string, timeoutMs = 10_000): Promise<Sock> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const s = new Sock(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('connect timeout'));
      }, timeoutMs);
      const prev = s.onEvent;
      s.onEvent = (fr) => {
        if (fr.ev === 'hello') {
          clearTimeout(timer);
          s.onEvent = prev;
          resolve(s);
        }
      };
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new Error('closed before hello'));
      });
      ws.once('unexpected-response', () => {
        clearTimeout(timer);
        reject(new Error('upgrade refused'));
      });
    });
  }

  call(op: string, data: unknown, timeoutMs = 30_000): Promise<Frame> {
    const ref = `r${++this.ref}`;
    this.ws.send(JSON.stringify({ op, ref, data }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        reject(new Error(`${op} timeout`));
      }, timeoutMs);
      this.waiting.set(ref, (fr) => {
        clearTimeout(timer);
        resolve(fr);
      });
    });
  }
}

async function post<T>(url: string, path: string, body: unknown, token?: string): Promise<T> {
  const r = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

const cpuOf = (nodes: NodeProcess[]) => nodes.reduce((a, n) => a + procCpuSecs(n.child.pid!), 0);

async function main() {
  const schema = `enclave_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const u = new URL(PG);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const redis = await PrivateRedis.start();
  const nodes: NodeProcess[] = [];
  try {
    const env = { ENCLAVE_DB_POOL: '10', LOG_LEVEL: 'error' };
    const opts = async (i: number) => ({
      id: `bench${i + 1}`,
      port: await freePort(),
      databaseUrl: u.toString(),
      redisUrl: redis.url,
      env,
    });
    log('starting 3 nodes');
    nodes.push(await startNode(await opts(0)));
    nodes.push(...(await Promise.all([startNode(await opts(1)), startNode(await opts(2))])));
    const base = nodes[0]!.url;
    const adminToken = (
      await post<{ token: string }>(base, '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })
    ).token;
    log(`creating ${PAIRS * 2} users`);
    const tokens: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < PAIRS * 2; i++) {
      const username = `b${i}`;
      const password = `Bench-pass-${i}`;
      const node = nodes[i % 3]!.url;
      const user = await post<{ id: string }>(
        node,
        '/api/v1/admin/users',
        { username, displayName: username, password, mustChangePassword: false },
        adminToken,
      );
      ids.push(user.id);
      tokens.push((await post<{ token: string }>(node, '/api/v1/auth/login', { username, password })).token);
    }
    const convs: string[] = [];
    for (let p = 0; p < PAIRS; p++)
      convs.push(
        (await post<{ id: string }>(base, '/api/v1/conversations/direct', { userId: ids[2 * p + 1] }, tokens[2 * p]))
          .id,
      );

    const results: (string | number)[][] = [];
    const throughput = async (live: NodeProcess[]) => {
      const k = live.length;
      // Sender of pair p on node p % k, its peer on the next node: every message crosses nodes when k > 1.
      const socks = await Promise.all(
        tokens.map((t, i) => {
          const p = Math.floor(i / 2);
          return Sock.open(live[(p + (i % 2)) % k]!.wsUrl, t);
        }),
      );
      await Promise.all(socks.map((s) => s.call('sync', {})));
      const delivery: number[] = [];
      const ackLat: number[] = [];
      let measuring = false;
      socks.forEach((s, i) => {
        if (i % 2 === 0) return;
        s.onEvent = (fr) => {
          if (fr.ev !== 'conv' || !measuring) return;
          const text = (fr.data as { message?: { content?: { text?: string } } }).message?.content?.text;
          if (text?.startsWith('t:')) delivery.push(performance.now() - Number(text.slice(2)));
        };
      });
      let stop = false;
      let sent = 0;
      const loops = convs.map(async (conv, p) => {
        const s = socks[2 * p]!;
        let n = 0;
        while (!stop) {
          const t0 = performance.now();
          const r = await s.call('message.send', {
            conversationId: conv,
            clientMsgId: `k${k}-${p}-${n++}`,
            content: { text: `t:${t0}`, format: 'plain' },
          });
          if (!r.ok) {
            if (r.error?.code === 'rate_limited' || r.error?.code === 'server_busy') await sleep(50);
            else throw new Error(`send: ${r.error?.code}`);
            continue;
          }
          if (measuring) {
            ackLat.push(performance.now() - t0);
            sent++;
          }
        }
      });
      await sleep(1_000); // warm-up
      measuring = true;
      const cpu0 = cpuOf(live);
      const m0 = machineTicks().busy;
      const t0 = performance.now();
      await sleep(SECS * 1_000);
      measuring = false;
      const wall = (performance.now() - t0) / 1000;
      const cpu = (cpuOf(live) - cpu0) / wall;
      const busy = (machineTicks().busy - m0) / 100 / wall;
      stop = true;
      await Promise.all(loops);
      for (const s of socks) s.ws.close();
      const a = summary(ackLat);
      const d = summary(delivery);
      results.push([k, f(sent / wall, 0), f(a.p50, 1), f(a.p99, 1), f(d.p50, 1), f(d.p99, 1), f(cpu, 2), f(busy, 2)]);
      log(`${k} node(s): ${f(sent / wall, 0)} msg/s, ack p99 ${f(a.p99)} ms, delivery p99 ${f(d.p99)} ms`);
    };

    await throughput(nodes);

    // The reconnect storm: STORM sockets on node 3, which is killed; they reconnect to nodes 1–2.
    log(`connecting ${STORM} sockets to ${nodes[2]!.id}`);
    const victim = nodes[2]!;
    const survivors = nodes.slice(0, 2);
    const syncTokens: string[] = [];
    const stormSocks: Sock[] = [];
    for (let i = 0; i < STORM; i += 250) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(250, STORM - i) }, (_, j) =>
          Sock.open(victim.wsUrl, tokens[(i + j) % tokens.length]!, 60_000),
        ),
      );
      const synced = await Promise.all(batch.map((s) => s.call('sync', {}, 60_000)));
      synced.forEach((r) => syncTokens.push((r.data as { token: string }).token));
      stormSocks.push(...batch);
    }
    log('killing', victim.id);
    let done = 0;
    let attempts = 0;
    const cpu0 = cpuOf(survivors);
    const m0 = machineTicks().busy;
    const t0 = performance.now();
    const reconnects = stormSocks.map(async (s, i) => {
      await s.closed;
      for (let attempt = 0; ; attempt++) {
        // The SDK's full jitter: uniform in [0, min(30 s, 500 ms · 2^attempt)).
        await sleep(Math.random() * Math.min(30_000, 500 * 2 ** attempt));
        attempts++;
        try {
          const n = await Sock.open(survivors[(i + attempt) % 2]!.wsUrl, tokens[i % tokens.length]!, 15_000);
          const r = await n.call('sync', { token: syncTokens[i] }, 30_000);
          if (!r.ok) throw new Error(r.error?.code);
          done++;
          return n;
        } catch {
          /* next attempt */
        }
      }
    });
    await kill9(victim);
    nodes.splice(2, 1);
    const back = await Promise.all(reconnects);
    const secs = (performance.now() - t0) / 1000;
    const stormCpu = (cpuOf(survivors) - cpu0) / secs;
    const stormBusy = (machineTicks().busy - m0) / 100 / secs;
    log(`storm: ${done} resynced in ${f(secs, 2)} s, ${attempts} attempts, ${f(stormCpu, 2)} cores`);
    for (const s of back) s.ws.close();
    await sleep(2_000);

    await throughput(survivors);
    await kill9(nodes[1]!);
    nodes.splice(1, 1);
    await throughput(nodes.slice(0, 1));

    console.log(
      `\n### Cluster throughput (${PAIRS} pairs, closed loop, one message in flight per sender, ${SECS} s)\n`,
    );
    console.log(
      table(
        [
          'nodes',
          'msg/s',
          'ack p50 ms',
          'ack p99 ms',
          'delivery p50 ms',
          'delivery p99 ms',
          'node CPU (cores)',
          'machine busy (cores)',
        ],
        results,
      ),
    );
    console.log(`\n### Reconnect storm\n`);
    console.log(
      table(
        [
          'sockets',
          'resynced',
          'time to all resynced (s)',
          'connect attempts',
          'surviving nodes CPU (cores)',
          'machine busy (cores)',
        ],
        [[STORM, done, f(secs, 2), attempts, f(stormCpu, 2), f(stormBusy, 2)]],
      ),
    );
  } finally {
    for (const n of nodes) await kill9(n).catch(() => undefined);
    await redis.kill();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
