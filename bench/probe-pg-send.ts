/**
 * Probe: where a message's time goes on PostgreSQL. A server on a fresh PostgreSQL schema takes
 * `--messages` sends over REST in 1:1 conversations among 200 users (`--inflight` at a time); every
 * statement the server sends is timed from the driver's call to its answer (so: PostgreSQL's work,
 * the loopback round trip and any wait for a lock), and the totals per statement text are printed,
 * costliest first, with the time per message.
 *
 *   ENCLAVE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/probe-pg-send.ts [--messages 3000 --inflight 8]
 */
import os from 'node:os';
import pg from 'pg';
import { f, parseArgs } from './lib.ts';
import { clientId, http, makeUser, startServer, type TestUser } from '../packages/server/test/harness.ts';
import { postgresTarget } from '../packages/server/test/stores.ts';

const { flags } = parseArgs(process.argv.slice(2));
const MESSAGES = Number(flags.messages ?? 3_000);
const INFLIGHT = Number(flags.inflight ?? 8);
const target = postgresTarget();
if (target.skipReason) throw new Error(target.skipReason);
const db = await target.create();

const spent = new Map<string, { n: number; ms: number }>();
let timing = false;
const original = pg.Client.prototype.query as (...a: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const r = original.apply(this, args);
  if (!timing || !(r instanceof Promise)) return r;
  const a = args[0];
  const text = typeof a === 'string' ? a : String((a as { text?: unknown }).text ?? '?');
  const t0 = performance.now();
  const done = () => {
    const e = spent.get(text) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += performance.now() - t0;
    spent.set(text, e);
  };
  r.then(done, done);
  return r;
} as typeof pg.Client.prototype.query;

const srv = await startServer({ databaseUrl: db.url });
const users: TestUser[] = [];
for (let i = 0; i < 200; i++) users.push(await makeUser(srv));
const convs: { from: TestUser; id: string }[] = [];
for (let i = 0; i < 200; i++) {
  const from = users[i]!;
  const r = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
    token: from.token,
    body: { userId: users[(i + 1) % users.length]!.id },
  });
  convs.push({ from, id: r.body.id });
}
timing = true;
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: INFLIGHT }, async () => {
    while (next < MESSAGES) {
      next++;
      const c = convs[(Math.random() * convs.length) | 0]!;
      const r = await http(srv, 'POST', `/api/v1/conversations/${c.id}/messages`, {
        token: c.from.token,
        body: { clientMsgId: clientId(), content: { text: `性能探针 message ${next}`, format: 'plain' } },
      });
      if (r.status !== 200) throw new Error(`send: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }),
);
const wall = performance.now() - t0;
timing = false;
await srv.close();
await db.drop();
pg.Client.prototype.query = original as typeof pg.Client.prototype.query;

console.log(
  `${MESSAGES} sends, ${INFLIGHT} in flight: ${f(MESSAGES / (wall / 1000), 0)} msg/s; load average ${os.loadavg()[0]!.toFixed(2)}`,
);
const rows = [...spent].sort((x, y) => y[1].ms - x[1].ms).slice(0, 14);
for (const [text, e] of rows)
  console.log(
    `${f((e.ms * 1000) / MESSAGES, 0).padStart(6)} µs/msg ${String(e.n).padStart(6)} runs ${f((e.ms * 1000) / e.n, 0).padStart(6)} µs/run  ${text.replace(/\s+/g, ' ').slice(0, 110)}`,
  );
