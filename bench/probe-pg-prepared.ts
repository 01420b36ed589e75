/**
 * Probe: what naming PostgreSQL statements saves (a named prepared statement is parsed and analysed
 * once per connection; an unnamed one on every run). A server on a fresh PostgreSQL schema signs a
 * user in over a socket, syncs and reads a page of history; every statement it sends with parameters
 * is recorded, then replayed on one connection in a tight loop, unnamed and named (plan_cache_mode
 * `auto` and `force_custom_plan`), alternated. Sequential round trips on loopback, so the time per
 * statement is mostly PostgreSQL's own work.
 *
 *   ENCLAVE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/probe-pg-prepared.ts [--rounds 300]
 */
import os from 'node:os';
import pg from 'pg';
import { f, parseArgs } from './lib.ts';
import { clientId, http, makeUser, startServer, WsClient } from '../packages/server/test/harness.ts';
import { postgresTarget } from '../packages/server/test/stores.ts';

const { flags } = parseArgs(process.argv.slice(2));
const ROUNDS = Number(flags.rounds ?? 300);
const target = postgresTarget();
if (target.skipReason) throw new Error(target.skipReason);
const db = await target.create();

// Record what the server sends (text and values), from sign-in to a page of history.
const seen: { text: string; values: unknown[] }[] = [];
const original = pg.Client.prototype.query as (...a: unknown[]) => unknown;
let recording = false;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const [a, b] = args;
  if (recording) {
    const q = (typeof a === 'string' ? { text: a, values: b } : a) as { text?: unknown; values?: unknown };
    if (typeof q.text === 'string' && Array.isArray(q.values) && q.values.length)
      seen.push({ text: q.text, values: q.values });
  }
  return original.apply(this, args);
} as typeof pg.Client.prototype.query;

const srv = await startServer({ databaseUrl: db.url });
const [a, b] = [await makeUser(srv), await makeUser(srv)];
const direct = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
  token: a.token,
  body: { userId: b.id },
});
for (let i = 0; i < 60; i++)
  await http(srv, 'POST', `/api/v1/conversations/${direct.body.id}/messages`, {
    token: a.token,
    body: { clientMsgId: clientId(), content: { text: `消息 ${i}`, format: 'plain' } },
  });
recording = true;
const ws = await WsClient.connect(srv, b.token);
await ws.call('sync', {});
await ws.call('conversation.events', { conversationId: direct.body.id, before: 1_000_000, limit: 50 });
ws.close();
recording = false;
pg.Client.prototype.query = original as typeof pg.Client.prototype.query;
await srv.close();

const statements = [...new Map(seen.map((s) => [s.text, s])).values()];
async function connection(planMode: string) {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(`set plan_cache_mode = ${planMode}`);
  return c;
}
const ways = {
  unnamed: { c: await connection('auto'), named: false },
  'named, auto plans': { c: await connection('auto'), named: true },
  'named, custom plans': { c: await connection('force_custom_plan'), named: true },
};
const spent = new Map<string, number>(Object.keys(ways).map((k) => [k, 0]));
for (let r = 0; r < ROUNDS + 20; r++)
  for (const [k, w] of r % 2 ? Object.entries(ways) : Object.entries(ways).reverse()) {
    const t0 = performance.now();
    for (const [i, s] of statements.entries())
      await (w.named ? w.c.query({ name: `p${i}`, text: s.text, values: s.values }) : w.c.query(s.text, s.values));
    if (r >= 20) spent.set(k, spent.get(k)! + performance.now() - t0);
  }
for (const w of Object.values(ways)) await w.c.end();
await db.drop();
console.log(
  `${statements.length} statements (a socket sign-in, sync and a history page), ${ROUNDS} rounds each way; ` +
    `load average ${os.loadavg()[0]!.toFixed(2)}`,
);
for (const [k, ms] of spent)
  console.log(
    `${k}: ${f((ms * 1000) / ROUNDS / statements.length, 1)} µs per statement, ${f((ms * 1000) / ROUNDS, 0)} µs per round`,
  );
