/**
 * One load-generator process (forked by bench/run.ts, never the server's process). It holds up to
 * ~19,000 WebSockets (this machine allows 20,000 open files per process) and obeys commands sent
 * over the IPC channel. Per-frame work is kept to what is measured: frames are searched as Buffers
 * for a marker and only the marked slice is decoded — no JSON.parse of live frames.
 *
 * Every wait is bounded; the process exits by itself after --max-secs.
 */
import http from 'node:http';
import { assertLoopback, nowMs, parseArgs, sleep } from './lib.ts';
import { RawWs } from './raw-ws.ts';

export interface GenUser {
  /** Global user index. */
  i: number;
  token: string;
  /** p2p: conversation ids this user sends to (one per partner). */
  convs?: string[];
}

export type Command =
  | { t: 'init'; host: string; port: number; sources: string[]; users: GenUser[]; syncData: Record<string, unknown> }
  | { t: 'login'; upTo: number; concurrency: number }
  | { t: 'p2p'; k: number; rate: number; secs: number; delivered: boolean }
  | { t: 'counts'; k: number }
  | { t: 'take'; k: number }
  | { t: 'muc-arm'; m: number }
  | { t: 'muc-send'; m: number; user: number; conv: string }
  | { t: 'muc-wait'; m: number; expect: number; timeoutMs: number }
  | { t: 'hist'; queries: HistQuery[]; inflight: number; via: 'socket' | 'rest' }
  | { t: 'search'; queries: SearchQuery[]; inflight: number }
  | { t: 'stats' }
  | { t: 'close' };

export interface HistQuery {
  conv: string;
  token: string;
  /** The GenUser whose socket asks (via socket). */
  user: number;
  before: number;
  /** Pages to walk back (1 = the newest page only). */
  pages: number;
}

/** One `search.messages` request, over user `user`'s signed-in socket. */
export interface SearchQuery {
  user: number;
  q: string;
  order?: 'relevance';
}

export interface LoginResult {
  ok: number;
  failed: number;
  secs: number;
  firstError: string | null;
}
export interface StepCounts {
  sent: number;
  recv: number;
  acked: number;
  errors: number;
  echoes: number;
  /** `conversation.delivered` reports sent (with --delivered), and those refused. */
  reports: number;
  reportErrors: number;
  maxLag: number;
  firstError: string | null;
}
export interface StepData {
  lat: Float64Array;
  /** The intended send time of each delivery in `lat` (same clock across processes). */
  at: Float64Array;
  latWrite: Float64Array;
  ack: Float64Array;
}
export interface MucResult {
  got: number;
  lat: Float64Array;
}
export interface HistResult {
  newest: Float64Array;
  back: Float64Array;
  events: number;
  pages: number;
  errors: number;
  firstError: string | null;
}
export interface SearchResult {
  /** Per query, in the order asked: its latency in ms (NaN when it failed) and hits (-1 when it failed). */
  lat: Float64Array;
  hits: Int32Array;
  errors: number;
  firstError: string | null;
}
export interface WorkerStats {
  open: number;
  closes: Record<string, number>;
  rssMB: number;
}

const { flags } = parseArgs(process.argv.slice(2));
const maxSecs = Number(flags['max-secs'] ?? 600);
setTimeout(() => {
  console.error(`[worker ${process.pid}] hard time limit ${maxSecs}s reached, exiting`);
  process.exit(3);
}, maxSecs * 1000).unref();
process.on('disconnect', () => process.exit(0));

let host = '127.0.0.1';
let port = 0;
let sources = ['127.0.0.1'];
let users: GenUser[] = [];
let syncFrame = '';
const socks = new Map<number, Sock>();
let nextLogin = 0; // index into users
const closes: Record<string, number> = {};

/* -------------------------------------------------------------- sockets */

const HELLO = '"ev":"hello"';
const SYNC_OK = '{"ref":"s","ok":true';
const P2P_MARK = '"text":"B|';
const MUC_MARK = '"text":"G|';

class Sock {
  ready = false;
  closed = false;
  settle: ((err: Error | null) => void) | null = null;
  constructor(
    readonly ws: RawWs,
    readonly u: GenUser,
  ) {}
  fail(e: Error) {
    const s = this.settle;
    this.settle = null;
    s?.(e);
  }
}

function onFrame(s: Sock, d: Buffer): void {
  if (!s.ready) {
    if (d.indexOf(HELLO) >= 0) s.ws.send(syncFrame);
    else if (d.indexOf(SYNC_OK) === 0) {
      s.ready = true;
      const settle = s.settle;
      s.settle = null;
      settle?.(null);
    } else if (d.indexOf('"ok":false') >= 0) s.fail(new Error(`login refused: ${d.toString('utf8', 0, 200)}`));
    return;
  }
  if (d.length > REQ_REF.length && REQ_REF.compare(d, 0, REQ_REF.length) === 0) onReqReply(d);
  else if (p2p) onP2P(s, d);
  else if (muc) onMuc(d);
}

function connect(u: GenUser): Promise<Sock> {
  return new Promise<Sock>((resolve, reject) => {
    const ws = new RawWs({
      host,
      port,
      path: '/api/v1/ws',
      headers: { authorization: `Bearer ${u.token}` },
      localAddress: sources[u.i % sources.length]!,
    });
    const s = new Sock(ws, u);
    const timer = setTimeout(() => {
      s.fail(new Error('login timeout (30 s)'));
      ws.terminate();
    }, 30_000);
    s.settle = (err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(s);
    };
    ws.onmessage = (d) => onFrame(s, d);
    ws.onerror = (e) => s.fail(e);
    ws.onclose = (code) => {
      if (!s.closed) {
        s.closed = true;
        closes[code] = (closes[code] ?? 0) + 1;
        socks.delete(u.i);
      }
      s.fail(new Error(`closed with ${code} during login`));
    };
  });
}

async function login(upTo: number, concurrency: number): Promise<LoginResult> {
  const todo: GenUser[] = [];
  while (nextLogin < users.length && users[nextLogin]!.i < upTo) todo.push(users[nextLogin++]!);
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const t0 = nowMs();
  const lane = async () => {
    while (next < todo.length) {
      const u = todo[next++]!;
      try {
        socks.set(u.i, await connect(u));
        ok++;
      } catch (e) {
        failed++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, todo.length)) }, lane));
  return { ok, failed, secs: (nowMs() - t0) / 1000, firstError };
}

/* -------------------------------------------------------------- 1:1 */

interface Step extends StepCounts {
  lat: number[];
  at: number[];
  latWrite: number[];
  ack: number[];
}
const steps = new Map<number, Step>();
let p2p = false;
let seq = 0;

function stepOf(k: number): Step {
  let st = steps.get(k);
  if (!st) {
    st = {
      sent: 0,
      recv: 0,
      acked: 0,
      errors: 0,
      echoes: 0,
      reports: 0,
      reportErrors: 0,
      maxLag: 0,
      firstError: null,
      lat: [],
      at: [],
      latWrite: [],
      ack: [],
    };
    steps.set(k, st);
  }
  return st;
}

/** Live frames: `"text":"B|k|intended|written|sender"` (a delivery) or `{"ref":"k|intended|n","ok":…` (an ack). */
function onP2P(s: Sock, d: Buffer): void {
  const t = nowMs();
  const j = d.indexOf(P2P_MARK);
  if (j >= 0) {
    const a = j + P2P_MARK.length;
    const parts = d.toString('latin1', a, d.indexOf(34, a)).split('|');
    const st = steps.get(Number(parts[0]));
    if (!st) return;
    if (Number(parts[3]) === s.u.i) {
      st.echoes++; // the sender's own copy (its other devices would need it)
      return;
    }
    st.recv++;
    st.lat.push(t - Number(parts[1]));
    st.at.push(Number(parts[1]));
    st.latWrite.push(t - Number(parts[2]));
    if (reportDelivered) noteDelivered(s, d, st, Number(parts[0]));
    return;
  }
  if (d.indexOf(DELIVERED_REF) === 0) {
    const st = steps.get(Number(d.toString('latin1', DELIVERED_REF.length, d.indexOf(34, DELIVERED_REF.length))));
    if (st && d.indexOf('"ok":true') < 0) {
      st.reportErrors++;
      st.firstError ??= d.toString('utf8', 0, 300);
    }
    return;
  }
  if (d.indexOf('{"ref":"') === 0) {
    const end = d.indexOf(34, 8);
    const parts = d.toString('latin1', 8, end).split('|');
    const st = steps.get(Number(parts[0]));
    if (!st) return;
    if (d[end + 7] === 116 /* t of true */) {
      st.acked++;
      st.ack.push(t - Number(parts[1]));
    } else {
      st.errors++;
      st.firstError ??= d.toString('utf8', 0, 300);
    }
  }
}

/*
 * With --delivered, each recipient reports what it received as the SDK does (sdk/src/delivered.ts):
 * `conversation.delivered` at most once a second per conversation, with the newest seq.
 */
let reportDelivered = false;
const DELIVERED_REF = '{"ref":"d';
const CONV_ID = Buffer.from('"conversationId":"');
const SEQ = Buffer.from('"seq":');
const reportedAt = new Map<string, number>();
const reportDue = new Map<string, { s: Sock; conv: string; seq: number; st: Step; k: number }>();
let reportTimer: NodeJS.Timeout | null = null;

function report(s: Sock, conv: string, seq: number, st: Step, k: number): void {
  if (s.closed) return;
  reportedAt.set(`${s.u.i}|${conv}`, nowMs());
  s.ws.send(`{"op":"conversation.delivered","ref":"d${k}","data":{"conversationId":"${conv}","seq":${seq}}}`);
  st.reports++;
}

function noteDelivered(s: Sock, d: Buffer, st: Step, k: number): void {
  const c = d.indexOf(CONV_ID);
  const q = d.indexOf(SEQ, c);
  if (c < 0 || q < 0) return;
  const conv = d.toString('latin1', c + CONV_ID.length, d.indexOf(34, c + CONV_ID.length));
  const seq = parseInt(d.toString('latin1', q + SEQ.length, q + SEQ.length + 12), 10);
  const key = `${s.u.i}|${conv}`;
  const last = reportedAt.get(key);
  if (last === undefined || nowMs() - last >= 1000) return report(s, conv, seq, st, k);
  const due = reportDue.get(key);
  if (!due || due.seq < seq) reportDue.set(key, { s, conv, seq, st, k });
  reportTimer ??= setInterval(() => {
    const t = nowMs();
    for (const [dueKey, r] of reportDue)
      if (t - (reportedAt.get(dueKey) ?? 0) >= 1000) {
        reportDue.delete(dueKey);
        report(r.s, r.conv, r.seq, r.st, r.k);
      }
  }, 50).unref();
}

/**
 * Open loop: messages are due at fixed intervals from the step's start; each carries its intended
 * send time, and latency is measured from it (a stalled sender does not hide queueing delay).
 */
async function runStep(k: number, rate: number, secs: number): Promise<{ sent: number; maxLag: number }> {
  p2p = true;
  const st = stepOf(k);
  const senders = users.filter((u) => socks.has(u.i) && u.convs?.length);
  if (!senders.length) throw new Error('no connected senders');
  const interval = 1000 / rate;
  const t0 = nowMs();
  const end = t0 + secs * 1000;
  let due = t0;
  while (due < end) {
    const tnow = nowMs();
    let burst = 0;
    while (due <= tnow && due < end && burst < 4000) {
      const u = senders[(Math.random() * senders.length) | 0]!;
      const conv = u.convs![(Math.random() * u.convs!.length) | 0]!;
      const sock = socks.get(u.i);
      const ta = nowMs();
      const ti = due.toFixed(3);
      const n = seq++;
      if (sock && !sock.closed) {
        sock.ws.send(
          `{"op":"message.send","ref":"${k}|${ti}|${n}","data":{"conversationId":"${conv}","clientMsgId":"b${process.pid}-${n}","content":{"text":"B|${k}|${ti}|${ta.toFixed(3)}|${u.i}","format":"markdown"}}}`,
        );
        st.sent++;
      } else {
        st.errors++;
        st.firstError ??= 'sender socket closed';
      }
      st.maxLag = Math.max(st.maxLag, ta - due);
      due += interval;
      burst++;
    }
    await sleep(Math.max(0, Math.min(5, due - nowMs())));
  }
  return { sent: st.sent, maxLag: st.maxLag };
}

/* -------------------------------------------------------------- group fan-out */

let muc: { m: number; mark: string; lat: number[] } | null = null;
let mucWake: (() => void) | null = null;
let mucExpect = Infinity;

function onMuc(d: Buffer): void {
  const cur = muc;
  if (!cur) return;
  const j = d.indexOf(cur.mark);
  if (j < 0) return;
  const a = j + cur.mark.length;
  const tSend = Number(d.toString('latin1', a, d.indexOf(34, a)));
  cur.lat.push(nowMs() - tSend);
  if (cur.lat.length >= mucExpect) mucWake?.();
}

/* -------------------------------------------------------------- history */

/** Replies to requests a scenario sends over a signed-in socket (history, search): refs `r<n>`. */
const REQ_REF = Buffer.from('{"ref":"r');
const reqWaiting = new Map<string, (body: string) => void>();
let reqRef = 0;

function onReqReply(d: Buffer): void {
  const ref = d.toString('latin1', 8, d.indexOf(34, 8));
  const done = reqWaiting.get(ref);
  reqWaiting.delete(ref);
  done?.(d.toString('utf8'));
}

/** One request over user `user`'s socket: its reply frame as text (refused after 30 s). */
function request(user: number, op: string, data: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = socks.get(user);
    if (!s || s.closed) return reject(new Error(`socket of user ${user} is not open`));
    const ref = `r${reqRef++}`;
    const timer = setTimeout(() => {
      reqWaiting.delete(ref);
      reject(new Error(`${op} request timeout`));
    }, 30_000);
    reqWaiting.set(ref, (body) => {
      clearTimeout(timer);
      resolve(body);
    });
    s.ws.send(`{"op":"${op}","ref":"${ref}","data":${data}}`);
  });
}

/**
 * Pages of `conversation.events`, `inflight` at a time, over each query user's signed-in socket (as
 * the SDK asks while connected; the peer's MAM query also travels on its XMPP stream) or as REST
 * GETs on keep-alive connections (as the SDK asks while disconnected).
 */
async function history(queries: HistQuery[], inflight: number, via: 'socket' | 'rest'): Promise<HistResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inflight, localAddress: sources[0]! });
  const newest: number[] = [];
  const back: number[] = [];
  let events = 0;
  let pages = 0;
  let errors = 0;
  let firstError: string | null = null;
  const get = (path: string, token: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host, port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error('history request timeout')));
      req.on('error', reject);
    });
  const ask = (q: HistQuery, before: number) =>
    request(q.user, 'conversation.events', `{"conversationId":"${q.conv}","before":${before},"limit":50}`);
  let next = 0;
  const lane = async () => {
    while (next < queries.length) {
      const q = queries[next++]!;
      let before = q.before;
      for (let p = 0; p < q.pages && before > 1; p++) {
        const t0 = nowMs();
        try {
          let body: string;
          if (via === 'socket') body = await ask(q, before);
          else {
            const r = await get(`/api/v1/conversations/${q.conv}/events?before=${before}&limit=50`, q.token);
            if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
            body = r.body;
          }
          const ms = nowMs() - t0;
          // The generator parses the page (it must find the next `before`); the time is taken first.
          const parsed = JSON.parse(body) as { ok?: boolean; data?: unknown; events?: unknown };
          if (via === 'socket' && parsed.ok !== true) throw new Error(`refused: ${body.slice(0, 200)}`);
          const page = (via === 'socket' ? parsed.data : parsed) as { events: { seq: number }[] };
          if (!page.events.length) throw new Error(`empty page before ${before}`);
          (p === 0 ? newest : back).push(ms);
          events += page.events.length;
          pages++;
          before = Math.min(...page.events.map((e) => e.seq));
        } catch (e) {
          errors++;
          firstError ??= (e as Error).message;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inflight, queries.length)) }, lane));
  agent.destroy();
  return { newest: Float64Array.from(newest), back: Float64Array.from(back), events, pages, errors, firstError };
}

/* -------------------------------------------------------------- search */

/**
 * A socket takes 50 requests a second after a burst of 100 (gateway/connection.ts, `rate_limited`
 * beyond): requests on one socket here leave at least this far apart.
 */
const REQUEST_SPACING_MS = 25;

/**
 * `search.messages` (limit 20, as the web client asks), `inflight` at a time, each over its user's
 * socket, no two on one socket closer than REQUEST_SPACING_MS. A failed query has no latency (NaN).
 */
async function search(queries: SearchQuery[], inflight: number): Promise<SearchResult> {
  const lat = new Float64Array(queries.length).fill(NaN);
  const hits = new Int32Array(queries.length).fill(-1);
  const nextFree = new Map<number, number>();
  let errors = 0;
  let firstError: string | null = null;
  let next = 0;
  const lane = async () => {
    while (next < queries.length) {
      const i = next++;
      const q = queries[i]!;
      const wait = (nextFree.get(q.user) ?? 0) - nowMs();
      nextFree.set(q.user, Math.max(nowMs(), nextFree.get(q.user) ?? 0) + REQUEST_SPACING_MS);
      if (wait > 0) await sleep(wait);
      const t0 = nowMs();
      try {
        const body = await request(
          q.user,
          'search.messages',
          JSON.stringify({ q: q.q, limit: 20, ...(q.order ? { order: q.order } : {}) }),
        );
        const ms = nowMs() - t0;
        const parsed = JSON.parse(body) as { ok?: boolean; data?: { items: unknown[] } };
        if (parsed.ok !== true || !parsed.data) throw new Error(`refused: ${body.slice(0, 200)}`);
        lat[i] = ms;
        hits[i] = parsed.data.items.length;
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inflight, queries.length)) }, lane));
  return { lat, hits, errors, firstError };
}

/* -------------------------------------------------------------- command loop */

async function handle(c: Command): Promise<unknown> {
  switch (c.t) {
    case 'init':
      for (const h of [c.host, ...c.sources]) assertLoopback(h);
      host = c.host;
      port = c.port;
      sources = c.sources;
      users = c.users;
      syncFrame = JSON.stringify({ op: 'sync', ref: 's', data: c.syncData });
      return { ok: true };
    case 'login':
      return login(c.upTo, c.concurrency);
    case 'p2p':
      reportDelivered = c.delivered;
      return runStep(c.k, c.rate, c.secs);
    case 'counts': {
      const st = stepOf(c.k);
      return {
        sent: st.sent,
        recv: st.recv,
        acked: st.acked,
        errors: st.errors,
        echoes: st.echoes,
        reports: st.reports,
        reportErrors: st.reportErrors,
        maxLag: st.maxLag,
        firstError: st.firstError,
      } satisfies StepCounts;
    }
    case 'take': {
      const st = stepOf(c.k);
      steps.delete(c.k);
      return {
        lat: Float64Array.from(st.lat),
        at: Float64Array.from(st.at),
        latWrite: Float64Array.from(st.latWrite),
        ack: Float64Array.from(st.ack),
      } satisfies StepData;
    }
    case 'muc-arm':
      muc = { m: c.m, mark: `${MUC_MARK}${c.m}|`, lat: [] };
      mucExpect = Infinity;
      return { ok: true };
    case 'muc-send': {
      const s = socks.get(c.user);
      if (!s) throw new Error(`sender ${c.user} is not connected here`);
      s.ws.send(
        JSON.stringify({
          op: 'message.send',
          ref: `g${c.m}`,
          data: {
            conversationId: c.conv,
            clientMsgId: `g${process.pid}-${c.m}-${Date.now()}`,
            content: { text: `G|${c.m}|${nowMs().toFixed(3)}`, format: 'markdown' },
          },
        }),
      );
      return { ok: true };
    }
    case 'muc-wait': {
      const cur = muc;
      if (!cur || cur.m !== c.m) throw new Error('muc-wait without muc-arm');
      mucExpect = c.expect;
      if (cur.lat.length < c.expect)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, c.timeoutMs);
          mucWake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      mucWake = null;
      muc = null;
      return { got: cur.lat.length, lat: Float64Array.from(cur.lat) } satisfies MucResult;
    }
    case 'hist':
      return history(c.queries, c.inflight, c.via);
    case 'search':
      return search(c.queries, c.inflight);
    case 'stats':
      return {
        open: [...socks.values()].filter((s) => !s.closed).length,
        closes,
        rssMB: process.memoryUsage().rss / 1048576,
      } satisfies WorkerStats;
    case 'close': {
      for (const s of socks.values()) {
        s.closed = true;
        s.ws.close(1000);
      }
      const t0 = nowMs();
      while (nowMs() - t0 < 3_000 && [...socks.values()].some((s) => !s.ws.closed)) await sleep(50);
      for (const s of socks.values()) s.ws.terminate();
      socks.clear();
      return { ok: true };
    }
  }
}

process.on('message', (msg: { id: number; cmd: Command }) => {
  handle(msg.cmd).then(
    (result) => process.send!({ id: msg.id, result }),
    (e: unknown) => process.send!({ id: msg.id, error: (e as Error).stack ?? String(e) }),
  );
});
process.send!({ id: 0, result: 'up' });
