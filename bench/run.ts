/**
 * `npm run bench -- <idle|p2p|muc|history|search|coldstart|slow|all|smoke> [--flags]`
 *
 * Mirrors the phases of the ejabberd peer harness (../shared/peers/ejabberd/run.sh, loadgen.mjs)
 * with the same defaults, against Enclave's own protocol. Each scenario: a fresh data dir (SQLite),
 * or a fresh schema/database under --database-url (PostgreSQL/MySQL); seeding in this process with
 * the server's own code, closed before the server starts; the server as its OWN process
 * (`packages/server/bin/enclave.mjs start`), so its RSS/CPU are read from /proc/<pid>; load
 * generators in forked processes (bench/worker.ts). Prints tables; writes
 * bench/results/<stamp>-<scenario>.json. Loopback only; every loop bounded; a hard time limit.
 *
 * `smoke` runs every scenario at tiny scale and exits non-zero if the generator or the protocol is
 * broken (failed logins, losses or errors with no fault injected, short history pages, no /readyz).
 * It asserts nothing about speed.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { WebSocket } from 'ws';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertLoopback,
  CpuMeter,
  f,
  log,
  nowMs,
  parseArgs,
  p99BySecond,
  pct,
  procRssMB,
  sleep,
  summary,
  table,
  type Flags,
} from './lib.ts';
import type {
  Command,
  GenUser,
  HistQuery,
  HistResult,
  LoginResult,
  MucResult,
  SearchQuery,
  SearchResult,
  StepCounts,
  StepData,
  WorkerStats,
} from './worker.ts';
import { buildBundle, freshBundle } from '../packages/server/scripts/bundle.mjs';
import {
  openSeeder,
  seedDirect,
  seedGroup,
  seedMessages,
  seedSearchCorpus,
  seedUsers,
  type BulkUser,
  type SeededConv,
} from './seed.ts';
import { benchQueries, type BenchQuery } from './search-corpus.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');

/* ================================================================ options */

const { positional, flags } = parseArgs(process.argv.slice(2));
const scenario = positional[0] ?? '';
const SCENARIOS = ['idle', 'p2p', 'muc', 'history', 'search', 'coldstart', 'slow'] as const;
type Scenario = (typeof SCENARIOS)[number];

const str = (k: string, d: string, fl: Flags = flags) => (typeof fl[k] === 'string' ? (fl[k] as string) : d);
const num = (k: string, d: number, fl: Flags = flags) => {
  const v = Number(str(k, String(d), fl));
  if (!Number.isFinite(v)) throw new Error(`--${k} must be a number`);
  return v;
};
const list = (k: string, d: string, fl: Flags = flags) => str(k, d, fl).split(',').map(Number);

const HOST = str('host', '127.0.0.1');
const SOURCES = str('sources', '127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4').split(',');
for (const h of [HOST, ...SOURCES]) assertLoopback(h);
const DATABASE_URL = str('database-url', process.env.BENCH_DATABASE_URL ?? '');
const LOG_LEVEL = str('log-level', 'warn'); // the peer runs ejabberd at `loglevel: warning`
const CPU_PROF = flags['cpu-prof'] === true;
/** Profile the generator processes too (prof-gen/ in the run's folder): is the generator the limit? */
const GEN_CPU_PROF = flags['gen-cpu-prof'] === true;
/** The server logs every garbage collection with its pause (`--trace-gc`) to its log file, the generators to this output. */
const TRACE_GC = flags['trace-gc'] === true;
/** More options for the server's `node` (e.g. `--server-node-flags '--single-threaded-gc'`), for experiments. */
const SERVER_NODE_FLAGS = str('server-node-flags', '').split(' ').filter(Boolean);
/** idle: write a heap snapshot of the server after each step (summarise with bench/heap-top.ts). */
const HEAP_SNAPSHOT = flags['heap-snapshot'] === true;
/**
 * The server runs as `npm start` runs it: from the prebuilt bundle (built here first when missing
 * or stale). `--from-source` runs the TypeScript sources through tsx instead.
 */
const FROM_SOURCE = flags['from-source'] === true;

/* ================================================================ hard limit and cleanup */

const children = new Set<ChildProcess>();
const MAX_SECS = num('max-secs', scenario === 'all' ? 3600 : scenario === 'smoke' ? 120 : 1200);
const hardStop = setTimeout(() => {
  log(`hard time limit ${MAX_SECS}s reached, stopping`);
  killAll();
  process.exit(3);
}, MAX_SECS * 1000);
hardStop.unref();
function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });

/* ================================================================ machine */

function machine() {
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpu)?.[1]?.trim() ?? 'unknown';
  let commit = 'unknown';
  try {
    commit = fs.readFileSync(path.join(ROOT, '.git', 'HEAD'), 'utf8').trim();
    if (commit.startsWith('ref: ')) commit = fs.readFileSync(path.join(ROOT, '.git', commit.slice(5)), 'utf8').trim();
  } catch {
    /* not a checkout */
  }
  return {
    date: new Date().toISOString(),
    cpu: `${model} x ${os.cpus().length}`,
    mem_gib: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    loadavg_at_start: os.loadavg().map((x) => Number(x.toFixed(2))),
    commit: commit.slice(0, 12),
  };
}

/* ================================================================ the server under test */

interface Target {
  dataDir: string;
  /** Passed to the server as DATABASE_URL; null = SQLite under dataDir. */
  url: string | null;
  seedUrl: string;
  drop(): Promise<void>;
}

/** Targets not yet dropped: a scenario that fails half-way leaves no data dir or schema behind. */
const liveTargets = new Set<Target>();

async function freshTarget(): Promise<Target> {
  const t = await makeTarget();
  const drop = t.drop;
  t.drop = async () => {
    if (!liveTargets.delete(t)) return;
    await drop();
  };
  liveTargets.add(t);
  return t;
}

async function makeTarget(): Promise<Target> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-bench-'));
  if (!DATABASE_URL) {
    return {
      dataDir,
      url: null,
      seedUrl: `sqlite:${path.join(dataDir, 'enclave.db')}`,
      drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  // A fresh schema (PostgreSQL) or database (MySQL) under the given server, dropped afterwards.
  const { postgresTarget, mysqlTarget } = await import('../packages/server/test/stores.ts');
  const key = DATABASE_URL.startsWith('postgres') ? 'ENCLAVE_TEST_PG_URL' : 'ENCLAVE_TEST_MYSQL_URL';
  process.env[key] = DATABASE_URL;
  const host = new URL(DATABASE_URL).hostname;
  if (host !== 'localhost') assertLoopback(host);
  const t = key === 'ENCLAVE_TEST_PG_URL' ? postgresTarget() : mysqlTarget();
  const db = await t.create();
  return {
    dataDir,
    url: db.url,
    seedUrl: db.url,
    drop: async () => {
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function httpStatus(port: number, p: string): Promise<number> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port }, () => {
      sock.write(`GET ${p} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
    });
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      const m = /^HTTP\/1\.1 (\d+)/.exec(buf);
      if (m) {
        sock.destroy();
        resolve(Number(m[1]));
      }
    });
    sock.on('error', () => resolve(0));
    sock.setTimeout(2_000, () => {
      sock.destroy();
      resolve(0);
    });
  });
}

interface ServerProc {
  pid: number;
  port: number;
  readyMs: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

let runDir = '';

async function startServer(t: Target, tag: string): Promise<ServerProc> {
  const port = await freePort();
  const logFile = path.join(runDir, `server-${tag}.log`);
  const out = fs.openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL,
    ENCLAVE_ADMIN_PASSWORD: 'Bench-admin-pass-1',
    // No fault injection unless asked for: a loss must mean a broken server or generator.
    ENCLAVE_BUS_FAULTS: str('bus-faults', '0'),
  };
  delete env.NODE_OPTIONS;
  if (FROM_SOURCE) env.ENCLAVE_FROM_SOURCE = '1';
  else delete env.ENCLAVE_FROM_SOURCE;
  if (t.url) env.DATABASE_URL = t.url;
  else delete env.DATABASE_URL;
  // --cpu-prof is refused in NODE_OPTIONS: it goes on the server's own command line.
  const prof = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.join(runDir, `prof-${tag}`)}`] : [];
  const heap = HEAP_SNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${runDir}`] : [];
  const args = [
    ...prof,
    ...heap,
    ...(TRACE_GC ? ['--trace-gc'] : []),
    ...SERVER_NODE_FLAGS,
    path.join(ROOT, 'packages/server/bin/enclave.mjs'),
    'start',
    '--port',
    String(port),
    '--host',
    HOST,
    '--data',
    t.dataDir,
    '--json',
  ];
  const t0 = nowMs();
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', out, out] });
  children.add(proc);
  fs.closeSync(out);
  let readyMs = NaN;
  while (nowMs() - t0 < 60_000) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}; see ${logFile}`);
    if ((await httpStatus(port, '/readyz')) === 200) {
      readyMs = nowMs() - t0;
      break;
    }
    await sleep(5);
  }
  if (!Number.isFinite(readyMs)) throw new Error(`server not ready within 60 s; see ${logFile}`);
  log(`server pid ${proc.pid} ready on ${HOST}:${port} in ${f(readyMs, 0)} ms (log ${logFile})`);
  return {
    pid: proc.pid!,
    port,
    readyMs,
    proc,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      children.delete(proc);
    },
  };
}

/* ================================================================ generator processes */

class Gen {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly up: Promise<void>;

  constructor(readonly proc: ChildProcess) {
    let onUp: () => void = () => undefined;
    this.up = new Promise((r) => (onUp = r));
    proc.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      if (m.id === 0) return onUp();
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error) w?.reject(new Error(`worker ${proc.pid}: ${m.error}`));
      else w?.resolve(m.result);
    });
    proc.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`worker ${proc.pid} exited with ${code}`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  call<T>(cmd: Command): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd });
    });
  }
}

async function startGens(n: number, maxSecs: number): Promise<Gen[]> {
  const gens: Gen[] = [];
  for (let i = 0; i < n; i++) {
    const proc = fork(path.join(ROOT, 'bench', 'worker.ts'), ['--max-secs', String(maxSecs)], {
      cwd: ROOT,
      execArgv: [
        '--import',
        'tsx',
        ...(GEN_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.join(runDir, 'prof-gen')}`] : []),
        // Their collections print to this run's output, each line with the generator's pid.
        ...(TRACE_GC ? ['--trace-gc'] : []),
      ],
      serialization: 'advanced',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    children.add(proc);
    gens.push(new Gen(proc));
  }
  await Promise.all(gens.map((g) => g.up));
  return gens;
}

/** Users go to workers round-robin (user i → worker i % n), so a login step spreads evenly. */
async function initGens(
  gens: Gen[],
  srv: ServerProc,
  users: GenUser[],
  syncData: Record<string, unknown> = {},
): Promise<void> {
  await Promise.all(
    gens.map((g, w) =>
      g.call({
        t: 'init',
        host: HOST,
        port: srv.port,
        sources: SOURCES,
        users: users.filter((u) => u.i % gens.length === w),
        syncData,
      }),
    ),
  );
}

async function loginAll(gens: Gen[], upTo: number, concurrency: number) {
  const t0 = nowMs();
  const rs = await Promise.all(
    gens.map((g) => g.call<LoginResult>({ t: 'login', upTo, concurrency: Math.ceil(concurrency / gens.length) })),
  );
  const secs = (nowMs() - t0) / 1000;
  const ok = rs.reduce((a, r) => a + r.ok, 0);
  const failed = rs.reduce((a, r) => a + r.failed, 0);
  const firstError = rs.find((r) => r.firstError)?.firstError ?? null;
  if (firstError) log(`first login error: ${firstError}`);
  return { ok, failed, secs, rate: ok / secs, firstError };
}

async function stopGens(gens: Gen[]): Promise<void> {
  await Promise.all(gens.map((g) => g.call({ t: 'close' }).catch(() => undefined)));
  for (const g of gens) {
    g.proc.disconnect();
    const exited = new Promise<void>((r) => g.proc.once('exit', () => r()));
    await Promise.race([exited, sleep(5_000)]);
    if (g.proc.exitCode === null) g.proc.kill('SIGKILL');
    children.delete(g.proc);
  }
}

/** Generator processes for this many sockets: at most `--per-worker` (≤ 19,000) each. */
const workersFor = (sockets: number, fl: Flags) =>
  Math.max(1, Math.ceil(sockets / Math.min(19_000, num('per-worker', 19_000, fl))));
const toGen = (u: BulkUser, i: number, convs?: string[]): GenUser => ({
  i,
  token: u.token,
  ...(convs ? { convs } : {}),
});

/** Median of 3 RSS samples, `intervalMs` apart (the peer: 3 samples 1 s apart). */
async function sampleRss(pid: number, intervalMs: number, n = 3): Promise<number> {
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    v.push(procRssMB(pid));
    await sleep(intervalMs);
  }
  v.sort((a, b) => a - b);
  return v[Math.floor(n / 2)]!;
}

/* ================================================================ results */

interface Outcome {
  scenario: Scenario;
  params: Record<string, unknown>;
  result: Record<string, unknown>;
  text: string;
  /** Problems that make `smoke` fail: the generator or the protocol is broken. */
  problems: string[];
}

function save(o: Outcome, env: ReturnType<typeof machine>, stamp: string): string {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${stamp}-${o.scenario}.json`);
  const body = {
    scenario: o.scenario,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    env,
    params: o.params,
    ...o.result,
    problems: o.problems,
  };
  fs.writeFileSync(file, JSON.stringify(body, null, 1) + '\n');
  return file;
}

/* ================================================================ (a) idle */

/** SIGUSR2 → the server writes `Heap.*.heapsnapshot` into the run directory; wait until it is complete. */
async function heapSnapshot(pid: number): Promise<void> {
  const before = new Set(fs.readdirSync(runDir));
  process.kill(pid, 'SIGUSR2');
  const until = nowMs() + 120_000;
  let last = -1;
  while (nowMs() < until) {
    await sleep(500);
    const file = fs.readdirSync(runDir).find((n) => n.endsWith('.heapsnapshot') && !before.has(n));
    if (!file) continue;
    const size = fs.statSync(path.join(runDir, file)).size;
    if (size > 0 && size === last) {
      log(`heap snapshot: ${path.join(runDir, file)} (${f(size / 2 ** 20)} MB)`);
      return;
    }
    last = size;
  }
  log('heap snapshot: not written within 120 s');
}

async function idle(fl: Flags): Promise<Outcome> {
  const steps = list('steps', '5000,10000,19500', fl);
  const max = Math.max(...steps);
  const settle = num('settle', 5, fl);
  const idleSecs = num('idle-secs', 30, fl); // ≥ one heartbeat interval (25 s) so the pings are in it
  const concurrency = num('concurrency', 200, fl);
  const rssEvery = num('rss-interval-ms', 1000, fl);
  const t = await freshTarget();
  const seeder = await openSeeder(t.seedUrl);
  const s0 = nowMs();
  const users = await seedUsers(seeder, max, 'idle');
  await seeder.close();
  log(`seeded ${max} users with sessions in ${f((nowMs() - s0) / 1000)} s`);
  const srv = await startServer(t, 'idle');
  const gens = await startGens(workersFor(max, fl), MAX_SECS);
  const problems: string[] = [];
  const rows: Record<string, number>[] = [];
  try {
    await initGens(
      gens,
      srv,
      users.map((u, i) => toGen(u, i)),
    );
    const rss0 = await sampleRss(srv.pid, rssEvery);
    const clientRss = () => gens.reduce((a, g) => a + procRssMB(g.pid), 0);
    const client0 = clientRss();
    rows.push({ conns: 0, server_rss_mb: rss0, client_rss_mb: client0 });
    log(`baseline: server RSS ${f(rss0)} MB, client RSS ${f(client0)} MB`);
    for (const target of steps) {
      const meter = new CpuMeter(srv.pid, () => gens.map((g) => g.pid));
      const lr = await loginAll(gens, target, concurrency);
      const lcpu = meter.read();
      await sleep(settle * 1000);
      const rss = await sampleRss(srv.pid, rssEvery);
      const idleMeter = new CpuMeter(srv.pid, () => gens.map((g) => g.pid));
      await sleep(idleSecs * 1000);
      const icpu = idleMeter.read();
      if (HEAP_SNAPSHOT) await heapSnapshot(srv.pid);
      const stats = await Promise.all(gens.map((g) => g.call<WorkerStats>({ t: 'stats' })));
      const connected = stats.reduce((a, s) => a + s.open, 0);
      const crss = clientRss();
      const prev = rows[rows.length - 1]!;
      const row = {
        conns: connected,
        login_failed: lr.failed,
        logins_per_sec: lr.rate,
        login_server_cores: lcpu.server_cores,
        login_client_cores: lcpu.client_cores,
        server_rss_mb: rss,
        server_kb_per_conn: ((rss - rss0) * 1024) / connected,
        server_kb_per_conn_marginal: ((rss - prev.server_rss_mb!) * 1024) / (connected - prev.conns!),
        client_rss_mb: crss,
        client_kb_per_conn: ((crss - client0) * 1024) / connected,
        idle_server_cores: icpu.server_cores,
        idle_client_cores: icpu.client_cores,
        idle_machine_busy_cores: icpu.machine_busy_cores,
        idle_machine_steal_cores: icpu.machine_steal_cores,
        idle_window_secs: icpu.secs,
      };
      rows.push(row);
      log(
        `step ${target}: ${connected} connected, ${lr.failed} failed, ${f(lr.rate, 0)} logins/s; server RSS ${f(rss)} MB ` +
          `(${f(row.server_kb_per_conn)} KB/conn, marginal ${f(row.server_kb_per_conn_marginal)}); idle server ${f(icpu.server_cores, 3)} cores`,
      );
      if (lr.failed) problems.push(`idle: ${lr.failed} logins failed (${lr.firstError})`);
      if (connected !== target) problems.push(`idle: ${connected} of ${target} sockets open after the idle window`);
      if (lr.failed > 0.05 * target) break;
    }
  } finally {
    await stopGens(gens);
    await srv.stop();
    await t.drop();
  }
  const text = [
    `### (a) Idle authenticated connections (${gens.length} generator process(es), heartbeat 25 s)`,
    '',
    table(
      [
        'connections',
        'server RSS MB',
        'KB/conn (vs 0)',
        'KB/conn (marginal)',
        'connect+auth/s',
        'server cores (login)',
        'client cores (login)',
        `server cores idle`,
        'machine busy (steal) idle',
        'client KB/conn',
      ],
      rows
        .slice(1)
        .map((r) => [
          r.conns!,
          f(r.server_rss_mb),
          f(r.server_kb_per_conn),
          f(r.server_kb_per_conn_marginal),
          f(r.logins_per_sec, 0),
          f(r.login_server_cores, 2),
          f(r.login_client_cores, 2),
          f(r.idle_server_cores, 3),
          `${f(r.idle_machine_busy_cores, 2)} (${f(r.idle_machine_steal_cores, 2)})`,
          f(r.client_kb_per_conn),
        ]),
    ),
    '',
    `Baseline (0 connections): server RSS ${f(rows[0]?.server_rss_mb)} MB.`,
  ].join('\n');
  return {
    scenario: 'idle',
    params: { steps, settle, idleSecs, concurrency, workers: gens.length },
    result: { rows },
    text,
    problems,
  };
}

/* ================================================================ (b) 1:1 */

async function p2p(fl: Flags): Promise<Outcome> {
  const N = num('users', 1000, fl);
  const rates = list('rates', '100,250,500,1000,2000,3000,4000,6000,8000,10000,12000,16000,20000,24000,32000', fl);
  const stepSecs = num('step-secs', 10, fl);
  const drain = num('drain', 5, fl);
  const K = Math.max(1, Math.min(N - 1, num('partners', 20, fl)));
  const W = num('workers', 1, fl);
  // Recipients report `conversation.delivered` as the SDK does (not in the peer's harness).
  const delivered = fl.delivered === true;
  const t = await freshTarget();
  const seeder = await openSeeder(t.seedUrl);
  const s0 = nowMs();
  const users = await seedUsers(seeder, N, 'p2p');
  // Each user talks to K partners (i ± 1..K/2 on a ring): N·K/2 direct conversations. The peer picks
  // a random recipient among all users; a conversation per pair (499,500 at N=1,000) is not seeded.
  const pairs: [BulkUser, BulkUser][] = [];
  const half = Math.max(1, Math.floor(K / 2));
  for (let i = 0; i < N; i++) for (let d = 1; d <= half; d++) pairs.push([users[i]!, users[(i + d) % N]!]);
  const convs = await seedDirect(seeder, dedupePairs(pairs));
  await seeder.close();
  const byUser = new Map<number, string[]>();
  for (const c of convs)
    for (const u of [c.a, c.b]) {
      const l = byUser.get(u.userId) ?? [];
      l.push(c.uid);
      byUser.set(u.userId, l);
    }
  log(`seeded ${N} users and ${convs.length} 1:1 conversations in ${f((nowMs() - s0) / 1000)} s`);
  const srv = await startServer(t, 'p2p');
  const gens = await startGens(W, MAX_SECS);
  const problems: string[] = [];
  const rows: Record<string, number | string | number[] | null>[] = [];
  let logins = NaN;
  try {
    await initGens(
      gens,
      srv,
      users.map((u, i) => toGen(u, i, byUser.get(u.userId) ?? [])),
    );
    const lr = await loginAll(gens, N, 200);
    logins = lr.rate;
    log(`p2p: ${lr.ok}/${N} users online (${f(lr.rate)} logins/s)`);
    if (lr.failed) {
      problems.push(`p2p: ${lr.failed} logins failed (${lr.firstError})`);
      throw new Error('login failures');
    }
    for (let k = 0; k < rates.length; k++) {
      const rate = rates[k]!;
      const meter = new CpuMeter(srv.pid, () => gens.map((g) => g.pid));
      const sent = await Promise.all(
        gens.map((g) =>
          g.call<{ sent: number; maxLag: number }>({ t: 'p2p', k, rate: rate / W, secs: stepSecs, delivered }),
        ),
      );
      const cpu = meter.read();
      const total = sent.reduce((a, s) => a + s.sent, 0);
      // Let this step's in-flight messages arrive (bounded) before judging it.
      const waitEnd = nowMs() + drain * 1000;
      let counts: StepCounts[] = [];
      for (;;) {
        counts = await Promise.all(gens.map((g) => g.call<StepCounts>({ t: 'counts', k })));
        const recv = counts.reduce((a, c) => a + c.recv, 0);
        const answered = counts.reduce((a, c) => a + c.acked + c.errors, 0);
        if ((recv >= total && answered >= total) || nowMs() > waitEnd) break;
        await sleep(50);
      }
      const data = await Promise.all(gens.map((g) => g.call<StepData>({ t: 'take', k })));
      const cat = (key: keyof StepData) => {
        const out: number[] = [];
        for (const d of data) for (const x of d[key]) out.push(x);
        return out;
      };
      const l = summary(cat('lat'));
      const bySecond = p99BySecond(cat('at'), cat('lat'));
      const lw = summary(cat('latWrite'));
      const la = summary(cat('ack'));
      const recv = counts.reduce((a, c) => a + c.recv, 0);
      const errors = counts.reduce((a, c) => a + c.errors + c.reportErrors, 0);
      const reports = counts.reduce((a, c) => a + c.reports, 0);
      const firstError = counts.find((c) => c.firstError)?.firstError ?? null;
      const row = {
        offered_per_sec: rate,
        sent: total,
        received: recv,
        lost: total - recv,
        errors,
        delivered_per_sec: recv / cpu.secs,
        delivered_reports_per_sec: reports / cpu.secs,
        p50_ms: l.p50,
        p90_ms: l.p90,
        p99_ms: l.p99,
        p999_ms: l.p999,
        max_ms: l.max,
        p99_after_first_second_ms: bySecond.after,
        p99_by_second_ms: bySecond.each,
        p50_from_write_ms: lw.p50,
        p99_from_write_ms: lw.p99,
        ack_p50_ms: la.p50,
        ack_p99_ms: la.p99,
        max_sender_lag_ms: Math.max(...sent.map((s) => s.maxLag)),
        server_cores: cpu.server_cores,
        client_cores: cpu.client_cores,
        machine_busy_cores: cpu.machine_busy_cores,
        machine_steal_cores: cpu.machine_steal_cores,
        first_error: firstError,
      };
      rows.push(row);
      log(
        `p2p ${rate}/s: sent ${total} recv ${recv} errors ${errors} p50 ${f(l.p50, 2)} p99 ${f(l.p99, 2)} max ${f(l.max)} ms; ` +
          `ack p99 ${f(la.p99, 2)} ms; server ${f(cpu.server_cores, 2)} client ${f(cpu.client_cores, 2)} cores; steal ${f(cpu.machine_steal_cores, 2)}`,
      );
      log(`p2p ${rate}/s: p99 by second of intended send time: ${bySecond.each.map((x) => f(x, 1)).join(' ')} ms`);
      if (firstError) log(`first error: ${firstError}`);
      if (errors) problems.push(`p2p ${rate}/s: ${errors} send errors (${firstError})`);
      if (delivered && recv && !reports) problems.push(`p2p ${rate}/s: no delivery reports were sent`);
      if (total !== recv) problems.push(`p2p ${rate}/s: ${total - recv} of ${total} messages lost`);
      if (recv < 0.95 * total || l.p99 > 2000) {
        log('saturated (loss > 5% or p99 > 2 s), stopping the rate ladder');
        break;
      }
    }
  } finally {
    await stopGens(gens);
    await srv.stop();
    await t.drop();
  }
  const ok = rows.filter((r) => r.lost === 0 && r.errors === 0 && (r.p99_ms as number) <= 50);
  const text = [
    `### (b) 1:1, ${N} online users, each sending to one of ${K} partners at random (${stepSecs} s per step, latency from the intended send time)${delivered ? '; recipients report `conversation.delivered` as the SDK does (at most once a second per conversation)' : ''}`,
    '',
    table(
      [
        'offered msg/s',
        'sent',
        'received',
        'lost',
        'errors',
        'delivered msg/s',
        ...(delivered ? ['delivered reports/s'] : []),
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'p99 after 1st s',
        'ack p99 ms',
        'server cores',
        'client cores',
        'machine busy (steal)',
      ],
      rows.map((r) => [
        r.offered_per_sec as number,
        r.sent as number,
        r.received as number,
        r.lost as number,
        r.errors as number,
        f(r.delivered_per_sec as number, 0),
        ...(delivered ? [f(r.delivered_reports_per_sec as number, 0)] : []),
        f(r.p50_ms as number, 2),
        f(r.p90_ms as number, 2),
        f(r.p99_ms as number, 2),
        f(r.p999_ms as number, 1),
        f(r.max_ms as number, 1),
        f(r.p99_after_first_second_ms as number, 2),
        f(r.ack_p99_ms as number, 2),
        f(r.server_cores as number, 2),
        f(r.client_cores as number, 2),
        `${f(r.machine_busy_cores as number, 2)} (${f(r.machine_steal_cores as number, 2)})`,
      ]),
    ),
    '',
    ok.length
      ? `Highest offered rate with 0 loss, 0 errors and p99 ≤ 50 ms: **${ok[ok.length - 1]!.offered_per_sec} msg/s**.`
      : 'No step met 0 loss with p99 ≤ 50 ms.',
  ].join('\n');
  return {
    scenario: 'p2p',
    params: { users: N, partners: K, conversations: convs.length, rates, stepSecs, drain, workers: W, delivered },
    result: { logins_per_sec: logins, rows },
    text,
    problems,
  };
}

function dedupePairs(pairs: [BulkUser, BulkUser][]): [BulkUser, BulkUser][] {
  const seen = new Set<string>();
  return pairs.filter(([a, b]) => {
    const key = a.userId < b.userId ? `${a.userId}:${b.userId}` : `${b.userId}:${a.userId}`;
    if (a.userId === b.userId || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/* ================================================================ (c) group fan-out */

async function muc(fl: Flags): Promise<Outcome> {
  const sizes = list('sizes', '500,5000', fl);
  const msgs = num('msgs', 20, fl);
  const maxN = Math.max(...sizes);
  const W = num('workers', workersFor(maxN, fl), fl);
  const pause = num('pause-ms', 200, fl);
  // The sync reply's events per conversation. 0 by default: a group's first event (member.joined)
  // lists every member, so with the default 20 each of 5,000 logins would download 5,000 ids.
  const syncEvents = num('sync-events', 0, fl);
  const t = await freshTarget();
  const seeder = await openSeeder(t.seedUrl);
  const s0 = nowMs();
  const users = await seedUsers(seeder, maxN, 'muc');
  const groups: string[] = [];
  for (const size of sizes) groups.push(await seedGroup(seeder, users.slice(0, size)));
  await seeder.close();
  log(`seeded ${maxN} users and groups of ${sizes.join(', ')} in ${f((nowMs() - s0) / 1000)} s`);
  const srv = await startServer(t, 'muc');
  const gens = await startGens(W, MAX_SECS);
  const problems: string[] = [];
  const rows: Record<string, number>[] = [];
  let logins = NaN;
  try {
    await initGens(
      gens,
      srv,
      users.map((u, i) => toGen(u, i)),
      { eventsPerConversation: syncEvents },
    );
    const lr = await loginAll(gens, maxN, 200);
    logins = lr.rate;
    log(`muc: ${lr.ok}/${maxN} users online (${f(lr.rate)} logins/s)`);
    if (lr.failed) {
      problems.push(`muc: ${lr.failed} logins failed (${lr.firstError})`);
      throw new Error('login failures');
    }
    let tag = 0;
    for (let gi = 0; gi < sizes.length; gi++) {
      const size = sizes[gi]!;
      const conv = groups[gi]!;
      const expect = gens.map((_, w) => {
        let n = 0;
        for (let i = 0; i < size; i++) if (i % W === w) n++;
        return n;
      });
      const perMsg: { got: number; first: number; median: number; last: number }[] = [];
      const meter = new CpuMeter(srv.pid, () => gens.map((g) => g.pid));
      for (let m = 0; m < msgs; m++) {
        const id = ++tag;
        await Promise.all(gens.map((g) => g.call({ t: 'muc-arm', m: id })));
        const sender = (Math.random() * size) | 0;
        await gens[sender % W]!.call({ t: 'muc-send', m: id, user: sender, conv });
        const rs = await Promise.all(
          gens.map((g, w) => g.call<MucResult>({ t: 'muc-wait', m: id, expect: expect[w]!, timeoutMs: 30_000 })),
        );
        const lat: number[] = [];
        for (const r of rs) for (const x of r.lat) lat.push(x);
        const s = Float64Array.from(lat).sort();
        perMsg.push({ got: s.length, first: s[0] ?? NaN, median: pct(s, 50), last: s[s.length - 1] ?? NaN });
        await sleep(pause);
      }
      const cpu = meter.read();
      const lastS = summary(perMsg.map((x) => x.last));
      const medS = summary(perMsg.map((x) => x.median));
      const incomplete = perMsg.filter((x) => x.got < size).length;
      const row = {
        members: size,
        messages: perMsg.length,
        incomplete,
        last_recv_p50_ms: lastS.p50,
        last_recv_p99_ms: lastS.p99,
        last_recv_max_ms: lastS.max,
        median_recv_p50_ms: medS.p50,
        first_recv_p50_ms: summary(perMsg.map((x) => x.first)).p50,
        deliveries_per_sec_in_burst: size / (lastS.p50 / 1000),
        server_cores: cpu.server_cores,
        client_cores: cpu.client_cores,
        machine_steal_cores: cpu.machine_steal_cores,
      };
      rows.push(row);
      log(
        `group ${size}: last member p50 ${f(lastS.p50)} ms, p99 ${f(lastS.p99)} ms (max ${f(lastS.max)}); median member p50 ${f(medS.p50)} ms; incomplete ${incomplete}`,
      );
      // Which message set the tail: the first after the joins, or one in the middle.
      log(`group ${size}: last member by message, in order: ${perMsg.map((x) => f(x.last)).join(' ')} ms`);
      if (incomplete) problems.push(`muc ${size}: ${incomplete} of ${msgs} messages did not reach every member`);
    }
  } finally {
    await stopGens(gens);
    await srv.stop();
    await t.drop();
  }
  const text = [
    `### (c) Group fan-out: one message at a time, time until the last member (sender included) has it; ${maxN} users online`,
    '',
    table(
      [
        'members',
        'messages',
        'incomplete',
        'last-member p50 ms',
        'last-member p99 ms',
        'max ms',
        'median-member p50 ms',
        'deliveries/s in burst',
        'server cores',
        'client cores',
      ],
      rows.map((r) => [
        r.members!,
        r.messages!,
        r.incomplete!,
        f(r.last_recv_p50_ms),
        f(r.last_recv_p99_ms),
        f(r.last_recv_max_ms),
        f(r.median_recv_p50_ms),
        f(r.deliveries_per_sec_in_burst, 0),
        f(r.server_cores, 2),
        f(r.client_cores, 2),
      ]),
    ),
  ].join('\n');
  return {
    scenario: 'muc',
    params: { sizes, msgs, users_online: maxN, workers: W, pauseMs: pause, syncEvents },
    result: { logins_per_sec: logins, rows },
    text,
    problems,
  };
}

/* ================================================================ (d) history */

async function seedHistory(t: Target, total: number, C: number) {
  const seeder = await openSeeder(t.seedUrl);
  const s0 = nowMs();
  const users = await seedUsers(seeder, Math.max(2, C), 'hist');
  const pairs: [BulkUser, BulkUser][] = [];
  for (let c = 0; c < C; c++) pairs.push([users[c % users.length]!, users[(c + 1) % users.length]!]);
  const convs = await seedDirect(seeder, dedupePairs(pairs));
  let lastLog = nowMs();
  const lastSeq = await seedMessages(seeder, convs, total, (done) => {
    if (nowMs() - lastLog > 5_000) {
      lastLog = nowMs();
      log(`seeded ${done} of ${total} messages`);
    }
  });
  await seeder.close();
  const secs = (nowMs() - s0) / 1000;
  log(`seeded ${total} messages in ${convs.length} conversations in ${f(secs)} s (${f(total / secs, 0)}/s)`);
  return { convs, lastSeq, seedSecs: secs };
}

async function history(fl: Flags): Promise<Outcome> {
  const total = num('messages', 1_000_000, fl);
  const C = num('convs', 1000, fl);
  const queries = num('queries', 300, fl);
  const inflight = num('inflight', 10, fl);
  const backConvs = num('back-convs', 20, fl);
  const backPages = num('back-pages', 20, fl);
  const t = await freshTarget();
  const { convs, lastSeq, seedSecs } = await seedHistory(t, total, C);
  const srv = await startServer(t, 'history');
  const gens = await startGens(1, MAX_SECS);
  const problems: string[] = [];
  const rows: Record<string, number | string>[] = [];
  try {
    // Every conversation's first member signs in a socket (the socket transport asks on it).
    const askers = new Map<string, GenUser>();
    for (const c of convs) if (!askers.has(c.a.token)) askers.set(c.a.token, { i: askers.size, token: c.a.token });
    await initGens(gens, srv, [...askers.values()]);
    await loginAll(gens, askers.size, 200);
    const q = (c: SeededConv, pages: number): HistQuery => ({
      conv: c.uid,
      token: c.a.token,
      user: askers.get(c.a.token)!.i,
      before: (lastSeq.get(c.uid) ?? 0) + 1,
      pages,
    });
    const pick = () => convs[(Math.random() * convs.length) | 0]!;
    const runs: [string, 'socket' | 'rest', HistQuery[]][] = [];
    for (const via of ['socket', 'rest'] as const)
      runs.push(
        [`newest page of 50 (${via})`, via, Array.from({ length: queries }, () => q(pick(), 1))],
        [
          `paging back ${backPages} pages (${via})`,
          via,
          Array.from({ length: Math.min(backConvs, convs.length) }, () => q(pick(), backPages)),
        ],
      );
    for (const [name, via, qs] of runs) {
      const meter = new CpuMeter(srv.pid, () => gens.map((g) => g.pid));
      const r = await gens[0]!.call<HistResult>({ t: 'hist', queries: qs, inflight, via });
      const cpu = meter.read();
      const lat = name.startsWith('newest') ? r.newest : r.back;
      const s = summary(lat);
      rows.push({
        query: name,
        requests: s.n,
        errors: r.errors,
        events_per_page: r.events / Math.max(1, r.pages),
        p50_ms: s.p50,
        p90_ms: s.p90,
        p99_ms: s.p99,
        max_ms: s.max,
        server_cores: cpu.server_cores,
        client_cores: cpu.client_cores,
        // What a page costs the server, whatever the machine's load did to the latencies.
        server_us_per_page: (cpu.server_cores * cpu.secs * 1e6) / Math.max(1, s.n),
      });
      log(
        `history ${name}: ${s.n} requests, p50 ${f(s.p50, 2)} p99 ${f(s.p99, 2)} max ${f(s.max, 1)} ms, errors ${r.errors}, server ${f((cpu.server_cores * cpu.secs * 1e6) / Math.max(1, s.n), 0)} µs CPU per page`,
      );
      if (r.errors) problems.push(`history ${name}: ${r.errors} errors (${r.firstError})`);
      if (r.pages && r.events / r.pages < Math.min(50, total / C) - 1e-9)
        problems.push(`history ${name}: short pages (${f(r.events / r.pages)} events per page)`);
    }
  } finally {
    await stopGens(gens);
    await srv.stop();
    await t.drop();
  }
  const text = [
    `### (d) History: \`conversation.events\` (before=<seq>, limit 50) over the asking user's socket, and as REST GET …/events, ${inflight} in flight; ${total.toLocaleString('en')} messages in ${convs.length} conversations`,
    '',
    table(
      [
        'query',
        'requests',
        'errors',
        'events/page',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'server cores',
        'client cores',
        'server µs/page',
      ],
      rows.map((r) => [
        r.query!,
        r.requests!,
        r.errors!,
        f(r.events_per_page as number),
        f(r.p50_ms as number, 2),
        f(r.p90_ms as number, 2),
        f(r.p99_ms as number, 2),
        f(r.max_ms as number, 1),
        f(r.server_cores as number, 2),
        f(r.client_cores as number, 2),
        f(r.server_us_per_page as number, 0),
      ]),
    ),
    '',
    `Seeding: ${f(seedSecs)} s. Server ready in ${f(srv.readyMs, 0)} ms on this store.`,
  ].join('\n');
  return {
    scenario: 'history',
    params: { messages: total, convs: convs.length, queries, inflight, backConvs, backPages },
    result: { seed_secs: seedSecs, ready_ms: srv.readyMs, rows },
    text,
    problems,
  };
}

/* ================================================================ (e) search */

/**
 * Chinese keyword search over `--messages` (1,000,000) messages of the search corpus in `--groups`
 * (1,000) groups, through the server: each query `--runs` times (after 3 to warm) over the viewer's
 * signed-in socket, one at a time, for a viewer in every group and one in 50; then every query of
 * both viewers mixed, `--inflight` (4) at a time.
 */
async function searchScenario(fl: Flags): Promise<Outcome> {
  const total = num('messages', 1_000_000, fl);
  const groups = num('groups', 1000, fl);
  const runs = num('runs', 40, fl);
  const inflight = num('inflight', 4, fl);
  const t = await freshTarget();
  const seeder = await openSeeder(t.seedUrl);
  const s0 = nowMs();
  let lastLog = nowMs();
  const seeded = await seedSearchCorpus(seeder, {
    messages: total,
    groups,
    progress: (done) => {
      if (nowMs() - lastLog > 10_000) {
        lastLog = nowMs();
        log(`seeded ${done} of ${total} messages`);
      }
    },
  });
  await seeder.close();
  const seedSecs = (nowMs() - s0) / 1000;
  log(
    `seeded ${total} messages in ${groups} groups and indexed them in ${f(seedSecs)} s (rows ${f(seeded.storeMs / 1000)} s, index ${f(seeded.indexMs / 1000)} s, optimize ${f(seeded.optimizeMs / 1000)} s)`,
  );
  const srv = await startServer(t, 'search');
  const gens = await startGens(1, MAX_SECS);
  const problems: string[] = [];
  const rows: Record<string, number | string>[] = [];
  try {
    // Each viewer signs in SOCKETS sockets and its queries take them in turn (a socket takes 50
    // requests a second; the generator spaces its requests on each to stay under that).
    const SOCKETS = 4;
    const viewers = [
      { name: `member of all ${groups} groups`, token: seeded.all.token, base: 0 },
      { name: `member of ${Math.min(50, groups)} groups`, token: seeded.typical.token, base: SOCKETS },
    ];
    const genUsers = viewers.flatMap((v) =>
      Array.from({ length: SOCKETS }, (_, k) => ({ i: v.base + k, token: v.token })),
    );
    // A viewer in 1,000 groups signs in without each group's newest events (as the muc scenario).
    await initGens(gens, srv, genUsers, { eventsPerConversation: 0 });
    const lr = await loginAll(gens, genUsers.length, genUsers.length);
    if (lr.failed) problems.push(`search: ${lr.failed} logins failed (${lr.firstError})`);
    const asked = (v: (typeof viewers)[number], q: BenchQuery, j: number): SearchQuery => ({
      user: v.base + (j % SOCKETS),
      q: q.q,
      ...(q.order ? { order: q.order } : {}),
    });
    const queries = benchQueries(seeded.others[0].username);
    const ok = (lat: Float64Array) => [...lat].filter((x) => !Number.isNaN(x));
    const ask = async (qs: SearchQuery[], n: number) => {
      const meter = new CpuMeter(srv.pid, () => gens.map((g) => g.pid));
      const r = await gens[0]!.call<SearchResult>({ t: 'search', queries: qs, inflight: n });
      return { r, cpu: meter.read() };
    };
    const row = (
      viewer: string,
      label: string,
      q: string,
      hits: number,
      lat: number[],
      cpu: ReturnType<CpuMeter['read']>,
    ) => {
      const sm = summary(lat);
      return {
        viewer,
        query: label,
        q,
        hits,
        requests: sm.n,
        p50_ms: sm.p50,
        p90_ms: sm.p90,
        p99_ms: sm.p99,
        max_ms: sm.max,
        server_cores: cpu.server_cores,
        server_us_per_query: (cpu.server_cores * cpu.secs * 1e6) / Math.max(1, sm.n),
      };
    };
    for (const v of viewers)
      for (const q of queries) {
        await ask(
          [0, 1, 2].map((j) => asked(v, q, j)),
          1,
        ); // warm, as the in-process benchmark
        const { r, cpu } = await ask(
          Array.from({ length: runs }, (_, j) => asked(v, q, j)),
          1,
        );
        if (r.errors) problems.push(`search ${v.name} · ${q.label}: ${r.errors} errors (${r.firstError})`);
        // The corpus has these words everywhere: no hit for them means a broken index or search.
        if (v === viewers[0] && q.label.startsWith('common') && !r.errors && Math.max(...r.hits) === 0)
          problems.push(`search ${v.name} · ${q.label}: no hits`);
        const rw = row(v.name, q.label, q.q, Math.max(...r.hits), ok(r.lat), cpu);
        rows.push(rw);
        log(
          `search ${v.name} · ${q.label}: p50 ${f(rw.p50_ms, 1)} p99 ${f(rw.p99_ms, 1)} ms, ${rw.hits} hits, server ${f(rw.server_us_per_query, 0)} µs CPU per query`,
        );
      }
    // Every query of both viewers, mixed and `inflight` at a time: what several people searching at once see.
    const mixed: SearchQuery[] = [];
    for (let k = 0; k < Math.max(1, Math.round(runs / 4)); k++)
      for (const v of viewers) for (const q of queries) mixed.push(asked(v, q, mixed.length));
    for (let i = mixed.length - 1; i > 0; i--) {
      const j = (Math.random() * (i + 1)) | 0;
      [mixed[i], mixed[j]] = [mixed[j]!, mixed[i]!];
    }
    const t0 = nowMs();
    const { r, cpu } = await ask(mixed, inflight);
    const secs = (nowMs() - t0) / 1000;
    if (r.errors) problems.push(`search mixed: ${r.errors} errors (${r.firstError})`);
    const mixedRow = {
      ...row('both, mixed', `all ${queries.length} queries, ${inflight} in flight`, '', -1, ok(r.lat), cpu),
      queries_per_sec: mixed.length / secs,
    };
    rows.push(mixedRow);
    log(
      `search mixed, ${inflight} in flight: ${mixed.length} queries, ${f(mixedRow.queries_per_sec, 0)}/s, p50 ${f(mixedRow.p50_ms, 1)} p99 ${f(mixedRow.p99_ms, 1)} ms`,
    );
  } finally {
    await stopGens(gens);
    await srv.stop();
    await t.drop();
  }
  const text = [
    `### (e) Chinese search: \`search.messages\` (limit 20) over the viewer's socket; ${total.toLocaleString('en')} messages (avg ${f(seeded.chars / Math.max(1, total), 1)} characters) in ${groups} groups; each query ${runs} times one at a time (after 3 to warm), then all mixed ${inflight} in flight`,
    '',
    table(
      ['viewer', 'query', 'q', 'hits', 'requests', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'server µs/query'],
      rows.map((r) => [
        r.viewer!,
        r.query!,
        r.q ? `\`${r.q}\`` : '',
        (r.hits as number) < 0 ? '' : r.hits!,
        r.requests!,
        f(r.p50_ms as number, 1),
        f(r.p90_ms as number, 1),
        f(r.p99_ms as number, 1),
        f(r.max_ms as number, 1),
        f(r.server_us_per_query as number, 0),
      ]),
    ),
    '',
    `Seeding and indexing: ${f(seedSecs)} s (message rows ${f(seeded.storeMs / 1000)} s, index bulk load ${f(seeded.indexMs / 1000)} s, optimize ${f(seeded.optimizeMs / 1000)} s). Server ready in ${f(srv.readyMs, 0)} ms on this store.`,
  ].join('\n');
  return {
    scenario: 'search',
    params: { messages: total, groups, runs, inflight },
    result: { seed_secs: seedSecs, ready_ms: srv.readyMs, rows },
    text,
    problems,
  };
}

/* ================================================================ (f) cold start */

async function coldstart(fl: Flags): Promise<Outcome> {
  const runs = Math.max(1, num('runs', 5, fl));
  const messages = num('messages', 0, fl);
  const t = await freshTarget();
  const problems: string[] = [];
  const rows: Record<string, number | string>[] = [];
  try {
    if (messages > 0) await seedHistory(t, messages, num('convs', 1000, fl));
    for (let r = 0; r < runs; r++) {
      const srv = await startServer(t, `coldstart-${r}`);
      const rss = procRssMB(srv.pid);
      rows.push({
        run: r + 1,
        store: r === 0 && messages === 0 ? 'empty: first start (migrations, admin)' : 'existing store: restart',
        ready_ms: srv.readyMs,
        rss_mb_at_ready: rss,
      });
      await srv.stop();
    }
  } catch (e) {
    problems.push(`coldstart: ${(e as Error).message}`);
  } finally {
    await t.drop();
  }
  const restarts = rows.filter((r) => String(r.store).startsWith('existing')).map((r) => r.ready_ms as number);
  const text = [
    `### (f) Cold start: process spawn → first 200 from /readyz (${DATABASE_URL ? 'DATABASE_URL store' : 'SQLite'}${messages ? `, ${messages.toLocaleString('en')} messages` : ''}; OS page cache warm)`,
    '',
    table(
      ['run', 'store', 'ready ms', 'RSS MB at ready'],
      rows.map((r) => [r.run!, r.store!, f(r.ready_ms as number, 0), f(r.rss_mb_at_ready as number)]),
    ),
    '',
    restarts.length ? `Restarts: median ${f(pct(Float64Array.from(restarts).sort(), 50), 0)} ms.` : '',
  ].join('\n');
  return { scenario: 'coldstart', params: { runs, messages }, result: { rows }, text, problems };
}

/* ================================================================ slow consumers */

/** Connect with a token, answer hello with a sync, resolve with the sync reply's data. */
function slowConnect(port: number, token: string): Promise<{ ws: WebSocket; sync: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${HOST}:${port}/api/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      handshakeTimeout: 30_000,
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('login timeout (30 s)'));
    }, 30_000);
    const onMessage = (d: Buffer) => {
      const text = d.toString();
      if (text.includes('"ev":"hello"'))
        ws.send(JSON.stringify({ op: 'sync', ref: 's', data: { eventsPerConversation: 0 } }));
      else if (text.startsWith('{"ref":"s"')) {
        clearTimeout(timer);
        ws.off('message', onMessage);
        const r = JSON.parse(text) as { ok: boolean; data: Record<string, unknown> };
        if (r.ok) resolve({ ws, sync: r.data });
        else reject(new Error(`sync refused: ${text.slice(0, 200)}`));
      }
    };
    ws.on('message', onMessage);
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Slow consumers: `readers` members of one group stop reading their sockets while a sender floods
 * the group. The server must not grow without bound: each socket's queue is capped
 * (ENCLAVE_SOCKET_QUEUE_MAX_MB → close 4008 after what is queued) and all queues together
 * (ENCLAVE_OUTBOUND_BUDGET_MB → the largest are terminated). Then the readers come back: each
 * reconnects with its token and its sync reports the group's last seq — nothing durable lost.
 */
async function slow(fl: Flags): Promise<Outcome> {
  const N = num('readers', 1000, fl);
  const secs = num('secs', 20, fl);
  const bytes = Math.min(9_000, num('bytes', 4000, fl));
  const inflight = num('inflight', 8, fl);
  const returnSecs = num('return-secs', 120, fl);
  const t = await freshTarget();
  const seeder = await openSeeder(t.seedUrl);
  const S = num('senders', 10, fl);
  const users = await seedUsers(seeder, N + 1 + S, 'slow');
  const conv = await seedGroup(seeder, users);
  await seeder.close();
  const srv = await startServer(t, 'slow');
  const problems: string[] = [];
  const readers: WebSocket[] = [];
  const rss: { t: number; mb: number }[] = [];
  let sent = 0;
  let lastSeq = 0;
  let resynced = 0;
  let resyncFailed = 0;
  let firstResyncError: string | null = null;
  const t0 = nowMs();
  const sampler = setInterval(() => rss.push({ t: (nowMs() - t0) / 1000, mb: procRssMB(srv.pid) }), 250);
  try {
    const baseMB = procRssMB(srv.pid);
    for (let i = 1; i <= N; i += 100)
      await Promise.all(
        users.slice(i, Math.min(N + 1, i + 100)).map(async (u) => {
          const { ws } = await slowConnect(srv.port, u.token);
          ws.on('error', () => undefined);
          // Stop reading (ws's own pause: a paused raw socket would be resumed by ws): the kernel
          // buffers fill, then the server's queue for this socket.
          ws.pause();
          readers.push(ws);
        }),
      );
    const onlineMB = procRssMB(srv.pid);
    log(`slow: ${readers.length} readers online and not reading; server RSS ${f(baseMB)} → ${f(onlineMB)} MB`);

    // Senders are group members of their own (they read what they get); each stays under the
    // per-socket frame rate (50/s) at 40 messages/s.
    const senders = await Promise.all(
      users.slice(N + 1).map(async (u) => ({ ws: (await slowConnect(srv.port, u.token)).ws, inFlight: 0 })),
    );
    const body = 'S'.repeat(bytes);
    let sendError: string | null = null;
    await new Promise<void>((resolve) => {
      const deadline = nowMs() + secs * 1000;
      for (const sd of senders)
        sd.ws.on('message', (d: Buffer) => {
          const text = d.toString('utf8', 0, 300);
          if (!text.startsWith('{"ref":')) return;
          sd.inFlight--;
          const m = /"seq":(\d+)/.exec(text);
          if (m) lastSeq = Math.max(lastSeq, Number(m[1]));
          else sendError ??= text;
        });
      const tick = setInterval(() => {
        const open = nowMs() < deadline && !sendError;
        for (const sd of senders) {
          if (!open || sd.inFlight >= inflight) continue;
          sd.inFlight++;
          const n = ++sent;
          sd.ws.send(
            JSON.stringify({
              op: 'message.send',
              ref: n,
              data: {
                conversationId: conv,
                clientMsgId: `slow-${n}`,
                content: { text: `${n} ${body}`, format: 'plain' },
              },
            }),
          );
        }
        if (!open && senders.every((sd) => sd.inFlight === 0)) {
          clearInterval(tick);
          resolve();
        }
      }, 25);
    });
    if (sendError) problems.push(`slow: a send failed: ${sendError}`);
    await sleep(2000); // the budget sweep runs every second
    const afterMB = procRssMB(srv.pid);
    // What the server did to the slow readers (a paused client cannot see its own close).
    const metrics = await (await fetch(`http://${HOST}:${srv.port}/metrics`)).text();
    const counter = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const closedOverflow = counter('enclave_slow_readers_closed_total');
    const cutByBudget = counter('enclave_slow_readers_cut_total');
    log(
      `slow: ${sent} messages of ${bytes} B sent (last seq ${lastSeq}); the server closed ${closedOverflow} (4008) and cut ${cutByBudget} (budget)`,
    );

    // The readers come back: every one reconnects with its token and syncs.
    const back0 = nowMs();
    for (const r of readers) r.terminate();
    for (let i = 1; i <= N; i += 100)
      await Promise.all(
        users.slice(i, Math.min(N + 1, i + 100)).map(async (u) => {
          try {
            const { ws, sync } = await slowConnect(srv.port, u.token);
            const convs = (sync.conversations ?? []) as { conversation: { id: string; lastSeq: number } }[];
            const g = convs.find((c) => c.conversation.id === conv);
            if (g && g.conversation.lastSeq >= lastSeq) resynced++;
            else {
              resyncFailed++;
              firstResyncError ??= `group lastSeq ${g?.conversation.lastSeq ?? 'missing'} < ${lastSeq}`;
            }
            ws.close();
          } catch (e) {
            resyncFailed++;
            firstResyncError ??= (e as Error).message;
          }
          if (nowMs() - back0 > returnSecs * 1000) throw new Error('readers did not come back in time');
        }),
      );
    const backSecs = (nowMs() - back0) / 1000;
    for (const sd of senders) sd.ws.close();
    clearInterval(sampler);
    const peakMB = Math.max(...rss.map((r) => r.mb));
    if (resyncFailed) problems.push(`slow: ${resyncFailed} readers did not resync (${firstResyncError})`);
    const row = {
      readers: N,
      messages: sent,
      message_bytes: bytes,
      offered_mb: (sent * bytes * N) / 1024 / 1024,
      rss_base_mb: baseMB,
      rss_online_mb: onlineMB,
      rss_peak_mb: peakMB,
      rss_after_mb: afterMB,
      closed_overflow: closedOverflow,
      cut_by_budget: cutByBudget,
      resynced,
      back_secs: backSecs,
    };
    const text = [
      `### Slow consumers: ${N} group members stop reading while ${S} senders flood the group (${secs} s, ${bytes}-byte messages, 40 msg/s per sender)`,
      '',
      table(
        [
          'readers',
          'messages',
          'offered to readers MB',
          'RSS before MB',
          'RSS online MB',
          'RSS peak MB',
          'RSS after MB',
          'closed 4008',
          'cut by budget',
          'not dropped',
          'resynced on return',
          'return s',
        ],
        [
          [
            N,
            sent,
            f(row.offered_mb, 0),
            f(baseMB),
            f(onlineMB),
            f(peakMB),
            f(afterMB),
            row.closed_overflow,
            row.cut_by_budget,
            N - row.closed_overflow - row.cut_by_budget,
            `${resynced}/${N}`,
            f(backSecs),
          ],
        ],
      ),
      '',
      'Server limits: ENCLAVE_SOCKET_QUEUE_MAX_MB (default 8) per socket, ENCLAVE_OUTBOUND_BUDGET_MB (default 256) for all; "closed 4008" and "cut by budget" are the server’s own counters (`/metrics`: enclave_slow_readers_closed_total, enclave_slow_readers_cut_total) — a reader that does not read cannot see its close. "Resynced on return": every reader reconnected with its token and its sync showed the group at the last seq sent.',
    ].join('\n');
    return {
      scenario: 'slow',
      params: { readers: N, senders: S, secs, bytes, inflight },
      result: { ...row, rss },
      text,
      problems,
    };
  } finally {
    clearInterval(sampler);
    for (const r of readers) r.terminate();
    await srv.stop();
    await t.drop();
  }
}

/* ================================================================ main */

const RUNNERS: Record<Scenario, (fl: Flags) => Promise<Outcome>> = {
  idle,
  p2p,
  muc,
  history,
  search: searchScenario,
  coldstart,
  slow,
};

/** The same code paths at tiny scale (bench:smoke). */
const SMOKE: Record<Scenario, Flags> = {
  // Two generator processes where the full runs may use several: the cross-process paths are covered.
  idle: { steps: '100,200', settle: '0', 'idle-secs': '1', 'rss-interval-ms': '100', 'per-worker': '100' },
  p2p: { users: '100', partners: '4', rates: '100,200', 'step-secs': '2', drain: '5', workers: '2', delivered: true },
  muc: { sizes: '20,50', msgs: '3', 'pause-ms': '50', workers: '2' },
  history: { messages: '10000', convs: '100', queries: '50', 'back-convs': '5', 'back-pages': '5' },
  search: { messages: '5000', groups: '60', runs: '4', inflight: '2' },
  coldstart: { runs: '2' },
  slow: { readers: '20', secs: '4', 'return-secs': '20' },
};

async function main(): Promise<number> {
  const names: Scenario[] =
    scenario === 'all' || scenario === 'smoke'
      ? [...SCENARIOS]
      : (SCENARIOS as readonly string[]).includes(scenario)
        ? [scenario as Scenario]
        : [];
  if (!names.length) {
    console.error(
      `usage: npm run bench -- <${[...SCENARIOS, 'all', 'smoke'].join('|')}> [--flags]\n` +
        "see docs/benchmarks.md for each scenario's flags and defaults",
    );
    return 2;
  }
  const env = machine();
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  runDir = path.join(RESULTS, `${stamp}-${scenario}`);
  fs.mkdirSync(runDir, { recursive: true });
  log(`${scenario}: ${env.cpu}, ${env.mem_gib} GiB, load average ${env.loadavg_at_start.join(' ')}; logs in ${runDir}`);
  if (!FROM_SOURCE && !freshBundle()) log(`server bundle built in ${await buildBundle()} ms`);
  log(`server runs from ${FROM_SOURCE ? 'the sources (tsx)' : 'the bundle'}`);
  const problems: string[] = [];
  const texts: string[] = [];
  for (const name of names) {
    const fl = scenario === 'smoke' ? { ...SMOKE[name], ...flags } : flags;
    log(`== ${name}`);
    try {
      const o = await RUNNERS[name](fl);
      if (scenario !== 'smoke') log(`results: ${save(o, env, stamp)}`);
      texts.push(o.text);
      problems.push(...o.problems);
      console.log(`\n${o.text}\n`);
    } catch (e) {
      problems.push(`${name}: ${(e as Error).stack ?? String(e)}`);
      log(`${name} failed: ${(e as Error).message}`);
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      children.clear();
      for (const t of [...liveTargets]) await t.drop().catch(() => undefined);
    }
  }
  if (scenario === 'smoke' && !problems.length) fs.rmSync(runDir, { recursive: true, force: true });
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
    return 1;
  }
  if (scenario === 'smoke') console.log('bench smoke: generator and protocol OK (no speed assertions)');
  return 0;
}

main().then(
  (code) => {
    clearTimeout(hardStop);
    process.exit(code);
  },
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
