/**
 * Probe: what one statement costs through the server's SQLite driver (a Kysely dialect whose
 * statements each make a round trip to a worker thread) versus better-sqlite3 called directly on
 * the same thread. Sequential statements, as the writer issues them inside a batch.
 *
 *   node --import tsx bench/probe-sqlite-hop.ts [--n 20000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { WorkerSqliteDialect } from '../packages/server/src/store/sqlite-driver.ts';
import { nowMs, parseArgs, summary, f } from './lib.ts';

const { flags } = parseArgs(process.argv.slice(2));
const n = Number(flags.n ?? 20_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-probe-'));
const file = path.join(dir, 'probe.db');

const direct = new Database(file);
direct.pragma('journal_mode = WAL');
direct.pragma('synchronous = FULL');
direct.exec('create table t (id integer primary key, v integer not null)');
direct.exec('insert into t (id, v) values (1, 0)');

function time(label: string, fn: () => void) {
  const t0 = nowMs();
  fn();
  return { label, us: ((nowMs() - t0) * 1000) / n };
}

const upd = direct.prepare('update t set v = v + 1 where id = 1 returning v');
const sel = direct.prepare('select v from t where id = 1');
direct.exec('begin immediate');
const a = time('better-sqlite3 direct, update … returning', () => {
  for (let i = 0; i < n; i++) upd.get();
});
const b = time('better-sqlite3 direct, select by pk', () => {
  for (let i = 0; i < n; i++) sel.get();
});
direct.exec('commit');
direct.close();

const db = new Kysely<{ t: { id: number; v: number } }>({
  dialect: new WorkerSqliteDialect({ file, readonly: false, connections: 1 }),
});
const per: number[] = [];
await db.transaction().execute(async (trx) => {
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    await sql`update t set v = v + 1 where id = 1 returning v`.execute(trx);
    per.push((nowMs() - t0) * 1000);
  }
});
await db.destroy();
fs.rmSync(dir, { recursive: true, force: true });
const s = summary(per);
console.log(`${n} sequential statements in one transaction, load average ${os.loadavg()[0]!.toFixed(2)}`);
console.log(`${a.label}: ${f(a.us, 1)} µs/statement`);
console.log(`${b.label}: ${f(b.us, 1)} µs/statement`);
console.log(
  `server driver (worker-thread round trip), update … returning: mean ${f(per.reduce((x, y) => x + y, 0) / n, 1)} µs, p50 ${f(s.p50, 1)} µs, p99 ${f(s.p99, 1)} µs`,
);
