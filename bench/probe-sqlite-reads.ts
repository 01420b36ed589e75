/**
 * Probe: one indexed read (the session lookup every socket does on connect, a three-table join by
 * token hash) through the worker-thread reader versus the inline reader, and the Kysely builder's
 * share. Sequential, one at a time; ratios matter, absolute numbers depend on the machine's load.
 *
 *   node --import tsx bench/probe-sqlite-reads.ts [--n 20000]
 */
import os from 'node:os';
import { sql } from 'kysely';
import { startServer, makeUser } from '../packages/server/test/harness.ts';
import { hashToken } from '../packages/server/src/lib/ids.ts';
import { nowMs, parseArgs, summary, f } from './lib.ts';

const { flags } = parseArgs(process.argv.slice(2));
const n = Number(flags.n ?? 20_000);
const srv = await startServer();
const u = await makeUser(srv);
const { store } = srv.app.deps;
const hash = hashToken(u.token);

const build = (db: typeof store.reader) =>
  db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .innerJoin('devices as d', 'd.id', 's.device_id')
    .select(['s.id as session_id', 's.revoked_at', 'u.id as user_id', 'u.role', 'u.disabled', 'd.id as device_id'])
    .where('s.token_hash', '=', hash);

async function measure(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 500; i++) await fn();
  const per: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    await fn();
    per.push((nowMs() - t0) * 1000);
  }
  const s = summary(per);
  console.log(`${label}: mean ${f(per.reduce((a, b) => a + b, 0) / n, 1)} µs, p50 ${f(s.p50, 1)}, p99 ${f(s.p99, 1)}`);
}

console.log(`${n} sequential reads, load average ${os.loadavg()[0]!.toFixed(2)}`);
const compiled = build(store.reader).compile();
await measure('builder only (build + compile)', async () => build(store.reader).compile());
await measure('worker reader, built each time', () => build(store.bulk).executeTakeFirst());
await measure('inline reader, built each time', () => build(store.reader).executeTakeFirst());
await measure('inline reader, precompiled', () => store.reader.executeQuery(compiled));
void sql;
await srv.close();
