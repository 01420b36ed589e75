/**
 * Fast seeding for the benchmark, run in bench/run.ts's own process BEFORE the server under test
 * starts (and closed before it starts): the app is built against the target database with
 * `buildApp`, users/devices/sessions come from the test factories' `bulkUsers` (one shared argon2
 * hash, tokens inserted directly), groups from `bulkGroups`, 1:1 conversations through the domain's
 * `createConversation` in group-committed batches, and history as multi-row inserts of the same
 * `events` + `messages` rows `sendMessage` writes.
 */
import { pino } from 'pino';
import { loadConfig } from '../packages/server/src/config.ts';
import { buildApp, type App } from '../packages/server/src/app.ts';
import { createConversation } from '../packages/server/src/domain/conversations/create-conversation.ts';
import { newUid, sha256 } from '../packages/server/src/lib/ids.ts';
import { searchDocOf } from '../packages/server/src/domain/search/doc.ts';
import { uidToDb } from '../packages/server/src/store/dialect.ts';
import { bulkGroups, bulkUsers, type BulkUser } from '../packages/server/test/factories.ts';
import type { TestServer } from '../packages/server/test/harness.ts';
import { corpus } from './search-corpus.ts';

export type { BulkUser };

export interface Seeder {
  app: App;
  /** What the test factories need of a test server: only `app` is read. */
  srv: TestServer;
  close(): Promise<void>;
}

export async function openSeeder(databaseUrl: string): Promise<Seeder> {
  const config = { ...loadConfig({}), databaseUrl, logLevel: 'silent', port: 0, host: '127.0.0.1' };
  const app = await buildApp(config, { log: pino({ level: 'silent' }) });
  const srv: TestServer = { app, url: '', wsUrl: '', adminToken: '', close: () => app.close() };
  return { app, srv, close: () => app.close() };
}

export const seedUsers = (s: Seeder, n: number, prefix = 'b'): Promise<BulkUser[]> => bulkUsers(s.srv, n, prefix);

export interface SeededConv {
  id: number;
  uid: string;
  a: BulkUser;
  b: BulkUser;
}

/** One 1:1 conversation per pair, created through the domain (same rows as conversation.openDirect). */
export async function seedDirect(s: Seeder, pairs: [BulkUser, BulkUser][]): Promise<SeededConv[]> {
  const { deps } = s.app;
  const out: SeededConv[] = [];
  for (let i = 0; i < pairs.length; i += 100) {
    const chunk = pairs.slice(i, i + 100);
    const made = await deps.writer.run(0, async (trx, outbox) => {
      const list: SeededConv[] = [];
      for (const [x, y] of chunk) {
        const [a, b] = x.userId < y.userId ? [x, y] : [y, x];
        const c = await createConversation(deps, trx, outbox, {
          kind: 'direct',
          name: '',
          directKey: `d:${a.userId}:${b.userId}`,
          historyMode: 'all',
          creatorId: a.userId,
          creatorUid: a.id,
          members: [
            { userId: a.userId, uid: a.id, role: 'member' },
            { userId: b.userId, uid: b.id, role: 'member' },
          ],
        });
        list.push({ id: c.id, uid: c.uid, a, b });
      }
      return list;
    });
    out.push(...made);
  }
  return out;
}

export async function seedGroup(s: Seeder, members: BulkUser[]): Promise<string> {
  const [id] = await bulkGroups(s.srv, members[0]!, members.slice(1), 1);
  return id!;
}

/** What a plain text message's rows say about it (see `messageRowsOf`). */
export interface SeedMessage {
  conversationId: number;
  seq: number;
  senderId: number;
  ts: number;
  text: string;
  clientMsgId: string;
  payloadHash: string;
  format: 'plain' | 'markdown';
}

const PLAIN_META = JSON.stringify({ mentions: [], mentionAll: false, replyTo: null });

/** One plain text message as the `events` and `messages` rows `sendMessage` writes for it. */
export function messageRowsOf(s: Seeder, m: SeedMessage) {
  const { store, codec } = s.app.deps;
  return {
    event: {
      conversation_id: m.conversationId,
      seq: m.seq,
      type: 'message.created',
      actor_id: m.senderId,
      ts: m.ts,
      message_seq: m.seq,
      data: null,
      member_version: 1,
    },
    message: {
      conversation_id: m.conversationId,
      seq: m.seq,
      uid: uidToDb(store.kind, newUid()),
      sender_id: m.senderId,
      client_msg_id: m.clientMsgId,
      payload_hash: m.payloadHash,
      kind: 'text' as const,
      content: codec.encode(m.text),
      format: m.format,
      meta: PLAIN_META,
      msg_no: m.seq,
      ts: m.ts,
      edited_at: null,
      recalled_at: null,
      recalled_by: null,
      signoff: 0,
    },
  };
}

const WORDS = [
  '你好',
  '明天上午十点开会',
  '请查收附件',
  '项目进度',
  '周报已经提交',
  '收到，谢谢',
  '客户反馈',
  '预算审批',
  '服务器维护通知',
  '下午三点',
  'the release is scheduled for Friday',
  'please review the merge request',
  'OK',
  'lunch?',
  '季度目标',
  '合同已盖章',
  '@张伟 看一下',
  '出差报销',
  'meeting notes attached',
  '数据库迁移',
];

function textOf(n: number): string {
  let x = (n * 2654435761) >>> 0;
  const parts: string[] = [];
  for (let k = 0; k < 1 + (x % 3); k++) {
    parts.push(WORDS[x % WORDS.length]!);
    x = (x * 1103515245 + 12345) >>> 0;
  }
  return `${parts.join('，')} #${n}`;
}

/**
 * `total` text messages spread round-robin over `convs` (interleaved in time, as real traffic is),
 * inserted as multi-row statements: the `events` row and the `messages` row `sendMessage` writes,
 * then each conversation's counters. Returns each conversation's last seq.
 */
export async function seedMessages(
  s: Seeder,
  convs: SeededConv[],
  total: number,
  progress?: (done: number) => void,
): Promise<Map<string, number>> {
  const { store } = s.app.deps;
  const C = convs.length;
  const t0 = Date.now() - total - 1000;
  const ROWS = 500;
  const TX = 20_000;
  for (let start = 0; start < total; start += TX) {
    const end = Math.min(total, start + TX);
    await store.db.transaction().execute(async (trx) => {
      for (let b = start; b < end; b += ROWS) {
        const events = [];
        const messages = [];
        for (let n = b; n < Math.min(end, b + ROWS); n++) {
          const c = convs[n % C]!;
          const seq = Math.floor(n / C) + 1;
          const sender = seq % 2 ? c.a : c.b;
          const ts = t0 + n;
          const text = textOf(n);
          const rows = messageRowsOf(s, {
            conversationId: c.id,
            seq,
            senderId: sender.userId,
            ts,
            text,
            clientMsgId: `h${n}`,
            payloadHash: sha256(`${c.uid}|${text}`),
            format: 'markdown',
          });
          events.push(rows.event);
          messages.push(rows.message);
        }
        await trx.insertInto('events').values(events).execute();
        await trx.insertInto('messages').values(messages).execute();
      }
    });
    progress?.(end);
  }
  const last = new Map<string, number>();
  await store.db.transaction().execute(async (trx) => {
    for (let c = 0; c < C; c++) {
      const conv = convs[c]!;
      const n = Math.floor((total - 1 - c) / C) + 1; // messages in conversation c
      if (n <= 0) continue;
      const lastN = c + (n - 1) * C;
      await trx
        .updateTable('conversations')
        .set({ last_seq: n, last_msg_no: n, last_msg_seq: n, last_ts: t0 + lastN })
        .where('id', '=', conv.id)
        .execute();
      last.set(conv.uid, n);
    }
  });
  return last;
}

/** What `seedSearchCorpus` made: the viewers, the groups and how long each part took. */
export interface SearchCorpus {
  /** A member of every group. */
  all: BulkUser;
  /** A member of the last 50 groups only. */
  typical: BulkUser;
  /** The other senders: `others[0]` and `others[1]` in the first groups, `others[2]` in the last 50. */
  others: [BulkUser, BulkUser, BulkUser];
  convs: { id: number; seq: number }[];
  /** Characters of message text seeded. */
  chars: number;
  storeMs: number;
  indexMs: number;
  optimizeMs: number;
}

/**
 * The search corpus (bench/search-corpus.ts, seeded PRNG): `messages` mixed Chinese/English messages
 * over `groups` groups of three (some far busier than others, power-law), stored as the `events` +
 * `messages` rows `sendMessage` writes and indexed through the Search port's bulk load (the reindex
 * path). Used by `npm run bench -- search` (through the server) and `npm run bench:search` (in
 * process).
 */
export async function seedSearchCorpus(
  s: Seeder,
  opts: { messages: number; groups: number; progress?: (done: number) => void },
): Promise<SearchCorpus> {
  const { deps } = s.app;
  const db = deps.store.db;
  const { messages: total, groups } = opts;
  const [all, typical, u2, u3, u4] = (await seedUsers(s, 5, 'srch')) as [
    BulkUser,
    BulkUser,
    BulkUser,
    BulkUser,
    BulkUser,
  ];
  const typicalGroups = Math.min(50, groups);
  const uids = [
    ...(await bulkGroups(s.srv, all, [u2, u3], groups - typicalGroups)),
    ...(await bulkGroups(s.srv, all, [typical, u4], typicalGroups)),
  ];
  const convRows = await db
    .selectFrom('conversations')
    .select(['id', 'last_seq'])
    .where('kind', '=', 'group')
    .orderBy('id')
    .execute();
  const convs = convRows.map((r) => ({ id: Number(r.id), seq: Number(r.last_seq) }));
  if (convs.length !== uids.length) throw new Error('group count mismatch');
  const membersOf = (i: number) => (i >= groups - typicalGroups ? [all, typical, u4] : [all, u2, u3]);

  const next = corpus(7);
  const t0 = Date.now() - total * 50;
  let r = 12345;
  const rand = () => (r = (Math.imul(r, 1103515245) + 12345) >>> 0) / 4294967296;
  let chars = 0;
  let storeMs = 0;
  let indexMs = 0;
  const TX = 10_000;
  await deps.search.clear(db); // the reindex path: bulkLoad writes straight into the index
  for (let start = 0; start < total; start += TX) {
    const end = Math.min(total, start + TX);
    await db.transaction().execute(async (trx) => {
      const events = [];
      const messages = [];
      const docs = [];
      for (let n = start; n < end; n++) {
        const ci = Math.floor(Math.pow(rand(), 1.6) * convs.length); // some groups far busier than others
        const c = convs[ci]!;
        const seq = ++c.seq;
        const sender = membersOf(ci)[n % 3]!;
        const ts = t0 + n * 50;
        const text = next();
        chars += text.length;
        const rows = messageRowsOf(s, {
          conversationId: c.id,
          seq,
          senderId: sender.userId,
          ts,
          text,
          clientMsgId: `s${n}`,
          payloadHash: sha256(text),
          format: 'plain',
        });
        events.push(rows.event);
        messages.push(rows.message);
        docs.push({ id: n + 1, ...searchDocOf(c.id, seq, sender.userId, ts, text, false) });
      }
      const a = performance.now();
      for (let i = 0; i < events.length; i += 500) {
        await trx
          .insertInto('events')
          .values(events.slice(i, i + 500))
          .execute();
        await trx
          .insertInto('messages')
          .values(messages.slice(i, i + 500))
          .execute();
      }
      const b = performance.now();
      await deps.search.bulkLoad(trx, docs);
      indexMs += performance.now() - b;
      storeMs += b - a;
    });
    opts.progress?.(end);
  }
  await db.transaction().execute(async (trx) => {
    for (const c of convs)
      await trx
        .updateTable('conversations')
        .set({ last_seq: c.seq, last_msg_no: c.seq, last_msg_seq: c.seq, last_ts: t0 + total * 50 })
        .where('id', '=', c.id)
        .execute();
  });
  const optimizeStart = performance.now();
  await deps.search.finishLoad(db);
  const optimizeMs = performance.now() - optimizeStart;
  return { all, typical, others: [u2, u3, u4], convs, chars, storeMs, indexMs, optimizeMs };
}
