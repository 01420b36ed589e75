/**
 * Probe: what SQLite itself costs per message on this machine, apart from the server. The schema
 * comes from the server's own migrations (on a fresh file; 1,000 users, 10,000 1:1 conversations as
 * `npm run bench -- p2p` seeds them); then better-sqlite3 runs the statements of a send — the
 * savepoint, the duplicate check, the seq counter, the sender's membership, the message row, the event
 * row, the search queue row, the sender's read cursor — in a tight loop, `--batch` messages per
 * committed transaction, for random members of random conversations. It prints µs per message for
 * each statement and for the commit, and the WAL frames (pages) written per message, by B-tree.
 *
 *   node --import tsx bench/probe-send-statements.ts [--messages 20000 --batch 2]
 *   node --import tsx bench/probe-send-statements.ts --with-indexes   # as before migration 0006
 *   node --import tsx bench/probe-send-statements.ts --cache-mb 128   # a larger page cache
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { f, parseArgs } from './lib.ts';
import { openSeeder, seedDirect, seedUsers, type BulkUser } from './seed.ts';

const { flags } = parseArgs(process.argv.slice(2));
const N = Number(flags.messages ?? 20_000);
const BATCH = Number(flags.batch ?? 2);
const USERS = 1_000;
const PARTNERS = 20;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-probe-'));
const file = path.join(dir, 'probe.db');

// The p2p scenario's rows, made the way it makes them (the server's migrations and domain code).
const seeder = await openSeeder(`sqlite:${file}`);
const users = await seedUsers(seeder, USERS, 'probe');
const pairs: [BulkUser, BulkUser][] = [];
for (let i = 0; i < USERS; i++)
  for (let d = 1; d <= PARTNERS / 2; d++) pairs.push([users[i]!, users[(i + d) % USERS]!]);
await seedDirect(seeder, pairs);
await seeder.close();

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL'); // as the server's writer: the WAL is fsynced apart from the commit
db.pragma(`cache_size = -${Number(flags['cache-mb'] ?? 32) * 1000}`); // the server's writer: 32 MB
db.pragma('wal_autocheckpoint = 0');
if (flags['with-indexes'] === true) {
  db.exec('create index members_read on members (conversation_id, read_seq)');
  db.exec('create index conversations_last_ts on conversations (last_ts)');
}
db.pragma('wal_checkpoint(TRUNCATE)');

const S = {
  savepoint: db.prepare('savepoint job'),
  duplicate: db.prepare(
    'select conversation_id, uid, seq, ts, payload_hash from messages where sender_id = ? and client_msg_id = ?',
  ),
  counter: db.prepare(`update conversations set last_msg_seq = last_seq + 1, last_seq = last_seq + 1,
    last_msg_no = last_msg_no + 1, last_ts = case when last_ts < ? then ? else last_ts end where id = ?
    returning last_seq, last_msg_no, last_ts, member_version`),
  membership: db.prepare(`select c.id, c.uid, c.kind, c.dissolved_at, c.all_muted, m.active, m.role, m.silenced_until
    from conversations c join members m on m.conversation_id = c.id and m.user_id = ? where c.id = ?`),
  message: db.prepare(`insert into messages (conversation_id, seq, uid, sender_id, client_msg_id, payload_hash, kind,
    content, format, meta, msg_no, ts, edited_at, recalled_at, recalled_by, signoff)
    values (?, ?, ?, ?, ?, ?, 'text', ?, 'markdown', ?, ?, ?, null, null, null, 0)`),
  event: db.prepare(`insert into events (conversation_id, seq, type, actor_id, ts, message_seq, data, member_version)
    values (?, ?, 'message.created', ?, ?, ?, null, ?)`),
  searchQueue: db.prepare(`insert into search_queue (op, conversation_id, seq, to_seq, sender_id, ts, flags, body)
    values (1, ?, ?, null, ?, ?, 0, ?)`),
  readCursor: db.prepare(
    'update members set read_seq = ?, read_msg_no = ? where conversation_id = ? and user_id = ? and read_seq < ?',
  ),
  release: db.prepare('release job'),
};
const begin = db.prepare('begin immediate');
const commit = db.prepare('commit');
const members = db.prepare('select conversation_id, user_id from members').all() as {
  conversation_id: number;
  user_id: number;
}[];
const spent: Record<string, number> = Object.fromEntries([...Object.keys(S), 'begin', 'commit'].map((k) => [k, 0]));
const timed = <T>(k: string, fn: () => T): T => {
  const t0 = performance.now();
  const r = fn();
  spent[k]! += performance.now() - t0;
  return r;
};
const text = 'B|0|1733150000000.000|1733150000000.000|123 — a message of about the bench’s length';
const meta = '{"mentions":[],"mentionAll":false,"replyTo":null}';
const t0 = performance.now();
for (let n = 0; n < N;) {
  timed('begin', () => begin.run());
  for (let j = 0; j < BATCH && n < N; j++, n++) {
    const m = members[(Math.random() * members.length) | 0]!;
    const ts = Date.now();
    const clientMsgId = crypto.randomUUID();
    timed('savepoint', () => S.savepoint.run());
    timed('duplicate', () => S.duplicate.get(m.user_id, clientMsgId));
    const r = timed('counter', () => S.counter.get(ts, ts, m.conversation_id)) as {
      last_seq: number;
      last_msg_no: number;
      member_version: number;
    };
    timed('membership', () => S.membership.get(m.user_id, m.conversation_id));
    const uid = Buffer.alloc(16);
    uid.writeDoubleBE(ts);
    crypto.randomFillSync(uid, 8);
    timed('message', () =>
      S.message.run(
        m.conversation_id,
        r.last_seq,
        uid,
        m.user_id,
        clientMsgId,
        'h'.repeat(64),
        text,
        meta,
        r.last_msg_no,
        ts,
      ),
    );
    timed('event', () => S.event.run(m.conversation_id, r.last_seq, m.user_id, ts, r.last_seq, r.member_version));
    timed('searchQueue', () => S.searchQueue.run(m.conversation_id, r.last_seq, m.user_id, ts, text));
    timed('readCursor', () => S.readCursor.run(r.last_seq, r.last_msg_no, m.conversation_id, m.user_id, r.last_seq));
    timed('release', () => S.release.run());
  }
  timed('commit', () => commit.run());
}
const elapsed = performance.now() - t0;
const frames = (fs.statSync(`${file}-wal`).size - 32) / (4096 + 24);
// Which B-tree each WAL frame belongs to: the page number is the first word of a frame's header.
const wal = fs.readFileSync(`${file}-wal`);
const treeOf = new Map<number, string>();
for (const r of db.prepare('select name, pageno from dbstat').all() as { name: string; pageno: number }[])
  treeOf.set(r.pageno, r.name);
const byTree = new Map<string, number>();
for (let off = 32; off + 24 <= wal.length; off += 4096 + 24) {
  const name = treeOf.get(wal.readUInt32BE(off)) ?? '(free)';
  byTree.set(name, (byTree.get(name) ?? 0) + 1);
}
db.close();
fs.rmSync(dir, { recursive: true, force: true });

console.log(
  `${N} messages, ${BATCH} per transaction${flags['with-indexes'] === true ? ', with the two indexes migration 0006 drops' : ''}; load average ${os.loadavg()[0]!.toFixed(2)}`,
);
console.log(
  `total ${f((elapsed * 1000) / N, 1)} µs per message; WAL frames ${f(frames / N, 2)} per message (${f(frames / Math.ceil(N / BATCH), 1)} per commit)`,
);
console.log(
  Object.entries(spent)
    .map(([k, v]) => `${k} ${f((v * 1000) / N, 1)}`)
    .join(' · '),
  '(µs per message)',
);
console.log(
  'WAL frames per message by B-tree:',
  [...byTree]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${f(v / N, 2)}`)
    .join(' · '),
);
