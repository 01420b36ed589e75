/**
 * `node --import tsx bench/search.ts [--messages 1000000] [--groups 1000] [--runs 40]`
 *
 * Message search on SQLite at scale: seeds `--messages` realistic mixed Chinese/English messages
 * (bench/search-corpus.ts) over `--groups` groups directly through the store — the same `events` and
 * `messages` rows sendMessage writes — and indexes them through the Search port (`bulkLoad`, the
 * reindex path). Then, in process through the domain function `searchMessages` (scope, index query,
 * record load, presentation, snippets), measures p50/p99 of common, rare, 2- and 1-character
 * queries for a viewer in every group and one in 50 groups; the index size (dbstat, main and search
 * files); what a bounded scan would cost instead of the bigram table; and the index's write overhead
 * on the send path (its queue row, in group-commit-sized transactions, as sendMessage writes it).
 * Writes bench/results/<stamp>-search.json. Loopback only; no network.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { SearchMessagesInput } from '@enclave/protocol';
import { searchMessages } from '../packages/server/src/domain/search/search-messages.ts';
import { searchDocOf } from '../packages/server/src/domain/search/doc.ts';
import type { Viewer } from '../packages/server/src/domain/deps.ts';
import { sha256 } from '../packages/server/src/lib/ids.ts';
import { parseArgs, summary, table } from './lib.ts';
import { messageRowsOf, openSeeder, seedSearchCorpus } from './seed.ts';
import { benchQueries, corpus } from './search-corpus.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { flags } = parseArgs(process.argv.slice(2));
const num = (k: string, d: number) => (typeof flags[k] === 'string' ? Number(flags[k]) : d);
const MESSAGES = num('messages', 1_000_000);
const GROUPS = num('groups', 1000);
const RUNS = num('runs', 40);
const log = (s: string) => process.stderr.write(s + '\n');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-bench-search-'));
const file = path.join(dir, 'enclave.db');
const s = await openSeeder(`sqlite:${file}`);
const { deps } = s.app;
const db = deps.store.db;
try {
  const seedStart = performance.now();
  const seeded = await seedSearchCorpus(s, {
    messages: MESSAGES,
    groups: GROUPS,
    progress: (done) => {
      if (done % 100_000 === 0 || done === MESSAGES)
        log(`seeded ${done} messages (${((performance.now() - seedStart) / 1000).toFixed(0)} s)`);
    },
  });
  const { all, typical, convs, chars, storeMs, indexMs, optimizeMs } = seeded;
  const u2 = seeded.others[0];
  const next = corpus(8); // new texts for the send-path measurement below
  await sql`pragma wal_checkpoint(truncate)`.execute(db);

  // ---- size (the index is its own file beside the main database: store/search-file.ts)
  const searchFile = deps.store.files!.search.file;
  const sizes = (
    await sql<{
      name: string;
      bytes: number;
    }>`select name, sum(pgsize) as bytes from dbstat group by name`.execute(db)
  ).rows;
  const idx = new Database(searchFile, { readonly: true });
  sizes.push(...(idx.prepare('select name, sum(pgsize) as bytes from dbstat group by name').all() as typeof sizes));
  idx.close();
  const sizeOf = (pred: (n: string) => boolean) =>
    sizes.filter((x) => pred(x.name)).reduce((t, x) => t + Number(x.bytes), 0);
  const MB = (b: number) => (b / 1048576).toFixed(1);
  const size = {
    messagesTableMB: MB(sizeOf((n) => n === 'messages' || n.startsWith('sqlite_autoindex_messages'))),
    trigramMB: MB(sizeOf((n) => n.startsWith('search_fts'))),
    bigramMB: MB(sizeOf((n) => n.startsWith('search_bi'))),
    docsMB: MB(
      sizeOf(
        (n) => n === 'search_docs' || n.startsWith('search_docs_') || n.startsWith('sqlite_autoindex_search_docs'),
      ),
    ),
    fileMB: MB(fs.statSync(file).size + fs.statSync(searchFile).size),
    avgChars: (chars / MESSAGES).toFixed(1),
  };

  // ---- queries
  const viewer = (u: typeof all): Viewer => ({
    userId: u.userId,
    uid: u.id,
    role: 'user',
    sessionId: 0,
    sessionUid: '',
    deviceId: 0,
    deviceUid: '',
    mustChangePassword: false,
  });
  const queries = benchQueries(u2.username);
  const rows: (string | number)[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const [vName, v] of [
    [`member of all ${GROUPS} groups`, viewer(all)],
    ['member of 50 groups', viewer(typical)],
  ] as const) {
    for (const q of queries) {
      const input = SearchMessagesInput.parse({ q: q.q, limit: 20, ...(q.order ? { order: q.order } : {}) });
      let hits = 0;
      for (let i = 0; i < 3; i++) hits = (await searchMessages(deps, v, input)).items.length;
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const a = performance.now();
        await searchMessages(deps, v, input);
        times.push(performance.now() - a);
      }
      const sm = summary(times);
      rows.push([vName, q.label, `\`${q.q}\``, hits, sm.p50.toFixed(1), sm.p99.toFixed(1), sm.max.toFixed(1)]);
      results.push({ viewer: vName, ...q, hits, ...sm });
      log(`${vName} · ${q.label}: p50 ${sm.p50.toFixed(1)} ms, p99 ${sm.p99.toFixed(1)} ms (${hits} hits)`);
    }
  }

  // ---- the alternative for 1–2 characters: a scan of the viewer's messages, newest first, bounded
  const scanRows: (string | number)[][] = [];
  const ids = convs.map((c) => c.id).join(',');
  for (const term of ['会议', '琥珀', '鳄梨']) {
    const a = performance.now();
    const found =
      await sql`select d.id from search_fts f join search_docs d on d.id = f.rowid where instr(f.body, ${term}) > 0 and d.conversation_id in (${sql.raw(ids)}) order by f.rowid desc limit 21`.execute(
        deps.store.bulk,
      );
    scanRows.push([`\`${term}\``, found.rows.length, (performance.now() - a).toFixed(0)]);
  }

  // ---- write overhead on the send path: single-row statements, 20 messages per transaction
  const W = 4000;
  const per = async (withIndex: boolean) => {
    const c = convs[0]!;
    const a = performance.now();
    for (let n = 0; n < W; n += 20)
      await db.transaction().execute(async (trx) => {
        for (let k = 0; k < 20; k++) {
          const seq = ++c.seq;
          const text = next();
          const ts = Date.now();
          const rows = messageRowsOf(s, {
            conversationId: c.id,
            seq,
            senderId: all.userId,
            ts,
            text,
            clientMsgId: `w${seq}`,
            payloadHash: sha256(text),
            format: 'plain',
          });
          await trx.insertInto('events').values(rows.event).execute();
          await trx.insertInto('messages').values(rows.message).execute();
          if (withIndex) await deps.search.add(trx, searchDocOf(c.id, seq, all.userId, ts, text, false));
        }
      });
    return ((performance.now() - a) * 1000) / W;
  };
  await per(true); // warm
  const without = await per(false);
  const withIdx = await per(true);

  const out = [
    `Search benchmark — ${MESSAGES.toLocaleString('en')} messages (avg ${size.avgChars} chars), ${GROUPS} groups, SQLite, ${RUNS} runs per query, limit 20; load average at the end ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')} on ${os.cpus().length} cores`,
    '',
    table(['viewer', 'query', 'q', 'hits', 'p50 ms', 'p99 ms', 'max ms'], rows),
    '',
    table(
      ['messages table MB', 'search_fts (trigram) MB', 'search_bi (bigram) MB', 'search_docs MB', 'database files MB'],
      [[size.messagesTableMB, size.trigramMB, size.bigramMB, size.docsMB, size.fileMB]],
    ),
    '',
    `Seeding: store rows ${(storeMs / 1000).toFixed(0)} s, index bulkLoad ${(indexMs / 1000).toFixed(0)} s, optimize ${(optimizeMs / 1000).toFixed(0)} s`,
    '',
    'Bounded scan instead of the bigram table (viewer in all groups, newest first, stop at 21):',
    table(['term', 'hits', 'ms'], scanRows),
    '',
    `Send path, per message (events + messages rows, 20 per transaction): ${without.toFixed(0)} µs without the index, ${withIdx.toFixed(0)} µs with it (+${(withIdx - without).toFixed(0)} µs: one queue row; the index itself is written by the indexer thread)`,
  ].join('\n');
  console.log(out);
  fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  fs.writeFileSync(
    path.join(ROOT, 'bench', 'results', `${stamp}-search.json`),
    JSON.stringify(
      {
        messages: MESSAGES,
        groups: GROUPS,
        runs: RUNS,
        size,
        storeMs,
        indexMs,
        optimizeMs,
        results,
        scan: scanRows,
        sendUsWithout: without,
        sendUsWith: withIdx,
      },
      null,
      2,
    ),
  );
} finally {
  await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
