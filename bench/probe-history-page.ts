/**
 * Probe: what SQLite costs for a history page (the newest 50 events of a conversation with their
 * messages), read as the server reads it — events joined with messages, one lookup into `messages`
 * per event — against two range reads (the events, then the messages of the page's seq window)
 * joined in JavaScript. The store is made as `npm run bench -- history` makes it (the server's
 * migrations and domain code), on a fresh file; statements run on a read-only better-sqlite3
 * connection with the server reader's cache size, one page at a time for random conversations.
 *
 *   node --import tsx bench/probe-history-page.ts [--messages 200000 --convs 100 --pages 5000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { f, parseArgs, summary } from './lib.ts';
import { openSeeder, seedDirect, seedMessages, seedUsers, type BulkUser } from './seed.ts';

const { flags } = parseArgs(process.argv.slice(2));
const TOTAL = Number(flags.messages ?? 200_000);
const CONVS = Number(flags.convs ?? 100);
const PAGES = Number(flags.pages ?? 5_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-probe-page-'));
const file = path.join(dir, 'probe.db');

const seeder = await openSeeder(`sqlite:${file}`);
const users = await seedUsers(seeder, CONVS + 1, 'page');
const pairs: [BulkUser, BulkUser][] = [];
for (let c = 0; c < CONVS; c++) pairs.push([users[c]!, users[c + 1]!]);
const convs = await seedDirect(seeder, pairs);
await seedMessages(seeder, convs, TOTAL, () => undefined);
await seeder.close();

const db = new Database(file, { readonly: true });
db.pragma('cache_size = -32000');
const ids = (
  db.prepare('select id, last_seq from conversations where kind = ?').all('direct') as {
    id: number;
    last_seq: number;
  }[]
).filter((c) => c.last_seq > 100);

const MSG_COLS = `m.uid, m.sender_id, m.client_msg_id, m.kind, m.content, m.format, m.meta, m.msg_no, m.ts as message_ts,
  m.edited_at, m.recalled_at, m.signoff`;
const joined = db
  .prepare(
    `select e.seq, e.type, e.actor_id, e.ts, e.message_seq, e.data, ${MSG_COLS}
     from events e left join messages m on m.conversation_id = e.conversation_id and m.seq = e.message_seq
     where e.conversation_id = ? and e.seq >= ? and e.seq <= ? order by e.seq desc limit 50`,
  )
  .raw(true);
const events = db
  .prepare(
    `select seq, type, actor_id, ts, message_seq, data from events
     where conversation_id = ? and seq >= ? and seq <= ? order by seq desc limit 50`,
  )
  .raw(true);
const messages = db
  .prepare(`select m.seq, ${MSG_COLS} from messages m where m.conversation_id = ? and m.seq >= ? and m.seq <= ?`)
  .raw(true);

function viaJoin(convId: number, top: number): number {
  return (joined.all(convId, 1, top) as unknown[][]).length;
}

function viaRanges(convId: number, top: number): number {
  const ev = events.all(convId, 1, top) as unknown[][];
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of ev) {
    const s = r[4] as number | null;
    if (s !== null) {
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  }
  const bySeq = new Map<number, unknown[]>();
  if (lo <= hi) for (const m of messages.all(convId, lo, hi) as unknown[][]) bySeq.set(m[0] as number, m);
  let n = 0;
  for (const r of ev) if (r[4] === null || bySeq.has(r[4] as number)) n++;
  return n;
}

const ways: [string, (c: number, top: number) => number][] = [
  ['join (as the server reads)', viaJoin],
  ['two ranges', viaRanges],
];
const spent = new Map<string, number[]>(ways.map(([k]) => [k, []]));
for (let i = 0; i < PAGES; i++) {
  const c = ids[(Math.random() * ids.length) | 0]!;
  // Alternate which goes first, so neither always finds the other's pages in the cache.
  const order = i % 2 ? ways : [...ways].reverse();
  for (const [k, fn] of order) {
    const t0 = performance.now();
    const n = fn(c.id, c.last_seq);
    spent.get(k)!.push((performance.now() - t0) * 1000);
    if (n !== 50) throw new Error(`${k}: ${n} rows`);
  }
}
db.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(
  `${TOTAL} messages in ${CONVS} conversations; ${PAGES} newest pages of 50; load average ${os.loadavg()[0]!.toFixed(2)}`,
);
for (const [k, v] of spent) {
  const s = summary(v.slice(100));
  console.log(`${k}: mean ${f(v.reduce((a, b) => a + b, 0) / v.length, 1)} µs, p50 ${f(s.p50, 1)}, p99 ${f(s.p99, 1)}`);
}
