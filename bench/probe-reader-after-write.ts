/**
 * Probe: what a point lookup on a read-only SQLite connection costs when another connection commits
 * between lookups (as the server's inline reader works while messages are written), with and without
 * a memory map of the database file. 10,000 rows; per round: a primary-key lookup and a lookup by a
 * unique blob, optionally after one committed update on the writer.
 *
 *   node --import tsx bench/probe-reader-after-write.ts [--n 20000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { f, parseArgs } from './lib.ts';

const { flags } = parseArgs(process.argv.slice(2));
const n = Number(flags.n ?? 20_000);
const ROWS = 10_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-probe-'));
const file = path.join(dir, 'probe.db');
const key = (i: number) => Buffer.from(String(i).padStart(16, '0'));

const w = new Database(file);
w.pragma('journal_mode = WAL');
w.pragma('synchronous = NORMAL');
w.pragma('wal_autocheckpoint = 0');
w.exec('create table c (id integer primary key, uid blob not null unique, v integer not null, pad text)');
const ins = w.prepare('insert into c (uid, v, pad) values (?, 0, ?)');
w.transaction(() => {
  for (let i = 1; i <= ROWS; i++) ins.run(key(i), 'x'.repeat(200));
})();
w.pragma('wal_checkpoint(TRUNCATE)');
const upd = w.prepare('update c set v = v + 1 where id = ?');

function run(mmap: boolean, writes: boolean): number {
  const r = new Database(file, { readonly: true });
  r.pragma('cache_size = -32000');
  if (mmap) r.pragma(`mmap_size = ${1 << 30}`);
  const byId = r.prepare('select v from c where id = ?');
  const byUid = r.prepare('select id from c where uid = ?');
  let ns = 0n;
  for (let i = 0; i < n; i++) {
    if (writes) {
      w.exec('begin immediate');
      upd.run(1 + ((i * 7919) % ROWS));
      w.exec('commit');
    }
    const id = 1 + ((i * 104_729) % ROWS);
    const k = key(id);
    const t0 = process.hrtime.bigint();
    byId.get(id);
    byUid.get(k);
    ns += process.hrtime.bigint() - t0;
  }
  r.close();
  return Number(ns) / n / 2 / 1000;
}

console.log(`${n} rounds of two point lookups on a read-only connection, ${ROWS} rows (µs per lookup)`);
console.log('| reader | nothing written | a commit before each round |');
console.log('|---|---:|---:|');
for (let pass = 0; pass < 2; pass++)
  for (const mmap of [false, true])
    console.log(`| ${mmap ? 'mmap_size 1 GiB' : 'no map'} | ${f(run(mmap, false), 1)} | ${f(run(mmap, true), 1)} |`);
w.close();
fs.rmSync(dir, { recursive: true, force: true });
