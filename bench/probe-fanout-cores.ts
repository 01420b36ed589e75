/**
 * Does spreading sockets over both cores shorten a large fan-out on this machine? A bare `ws`
 * server holds 5,000 sockets in one process, then in two (Node's `cluster`, connections handed out
 * round-robin); on each round every process writes one pre-serialised ~300-byte text frame to each
 * of its sockets, and a generator process (its own client, bench/raw-ws.ts) records when the last
 * socket has it. The server's own fan-out spends ~85 % of its time in `writev` (profile of
 * `npm run bench -- muc`), so this isolates the floor the 5,000-member target sits on.
 *
 *   node --import tsx bench/probe-fanout-cores.ts [--sockets 5000 --rounds 20 --procs 1,2]
 */
import cluster from 'node:cluster';
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseArgs, sleep } from './lib.ts';
import { RawWs } from './raw-ws.ts';

const { flags } = parseArgs(process.argv.slice(2));
const SOCKETS = Number(flags.sockets ?? 5000);
const ROUNDS = Number(flags.rounds ?? 20);
const PROCS = String(flags.procs ?? '1,2')
  .split(',')
  .map(Number);
const PAD = 'x'.repeat(230);
const wallMs = () => performance.timeOrigin + performance.now();

type ToWorker = { t: 'go'; round: number };
type FromWorker = { t: 'count'; n: number } | { t: 'sent'; round: number; loopMs: number };

if (process.env.PROBE_ROLE === 'client') {
  // The generator: SOCKETS connections; for each round, the latest arrival time.
  const port = Number(process.env.PROBE_PORT);
  const last = new Map<number, { at: number; sent: number; n: number }>();
  let open = 0;
  for (let i = 0; i < SOCKETS; i++) {
    const ws = new RawWs({ host: '127.0.0.1', port, path: '/', headers: {}, localAddress: `127.0.0.${1 + (i % 4)}` });
    ws.onerror = (e) => {
      console.error(`client socket ${i}: ${e.message}`);
      process.exit(1);
    };
    ws.onmessage = (d) => {
      const at = wallMs();
      const s = d.toString('latin1', 0, 60);
      const round = Number(/"r":(\d+)/.exec(s)![1]);
      const sent = Number(/"t":([\d.]+)/.exec(s)![1]);
      const e = last.get(round) ?? { at: 0, sent, n: 0 };
      e.at = Math.max(e.at, at);
      e.n++;
      last.set(round, e);
      if (e.n === SOCKETS) process.send!({ t: 'round', round, ms: e.at - e.sent });
    };
    open++;
    if (open % 500 === 0) await sleep(20);
  }
  process.on('message', (m: { t: string }) => {
    if (m.t === 'exit') process.exit(0);
  });
} else if (cluster.isWorker) {
  const wss = new WebSocketServer({ port: Number(process.env.PROBE_PORT), perMessageDeflate: false });
  const socks = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    socks.add(ws);
    ws.on('close', () => socks.delete(ws));
    process.send!({ t: 'count', n: socks.size } satisfies FromWorker);
  });
  process.on('message', (m: ToWorker) => {
    if (m.t !== 'go') return;
    const t0 = performance.now();
    const frame = `{"ev":"conv","r":${m.round},"t":${wallMs().toFixed(3)},"data":{"pad":"${PAD}"}}`;
    for (const ws of socks) ws.send(frame);
    process.send!({ t: 'sent', round: m.round, loopMs: performance.now() - t0 } satisfies FromWorker);
  });
} else {
  const quantile = (xs: number[], q: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  const rows: string[] = [];
  for (const procs of PROCS) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const workers = Array.from({ length: procs }, () => cluster.fork({ PROBE_PORT: String(port) }));
    const counts = new Map<number, number>();
    const loops: number[] = [];
    for (const w of workers)
      w.on('message', (m: FromWorker) => {
        if (m.t === 'count') counts.set(w.id, m.n);
        else loops.push(m.loopMs);
      });
    await Promise.all(workers.map((w) => new Promise((r) => w.once('listening', r))));
    const client: ChildProcess = fork(process.argv[1]!, process.argv.slice(2), {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, PROBE_ROLE: 'client', PROBE_PORT: String(port) },
    });
    const t0 = performance.now();
    while ([...counts.values()].reduce((a, b) => a + b, 0) < SOCKETS) {
      if (performance.now() - t0 > 60_000) throw new Error('sockets did not connect within 60 s');
      await sleep(50);
    }
    const perProc = [...counts.values()].join(' + ');
    await sleep(1000);
    const lastMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const done = new Promise<number>((resolve) => {
        const on = (m: { t: string; round: number; ms: number }) => {
          if (m.t === 'round' && m.round === round) {
            client.off('message', on);
            resolve(m.ms);
          }
        };
        client.on('message', on);
      });
      for (const w of workers) w.send({ t: 'go', round } satisfies ToWorker);
      lastMs.push(await Promise.race([done, sleep(10_000).then(() => NaN)]));
      await sleep(200);
    }
    client.send({ t: 'exit' });
    for (const w of workers) w.kill();
    await sleep(500);
    const ok = lastMs.filter(Number.isFinite);
    rows.push(
      `| ${procs} | ${perProc} | ${quantile(loops, 0.5).toFixed(1)} | ${quantile(ok, 0.5).toFixed(1)} | ${quantile(ok, 0.99).toFixed(1)} | ${ok.length}/${ROUNDS} |`,
    );
  }
  console.log(
    `\n${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`${SOCKETS} sockets, ${ROUNDS} rounds of one ~300-byte frame to every socket\n`);
  console.log(
    '| server processes | sockets each | write loop p50 ms (per process) | last socket p50 ms | last socket p99 ms | rounds complete |',
  );
  console.log('|---:|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  process.exit(0);
}
