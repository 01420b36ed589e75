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
import { uidToDb } from '../packages/server/src/store/dialect.ts';
import { bulkGroups, bulkUsers, type BulkUser } from '../packages/server/test/factories.ts';
import type { TestServer } from '../packages/server/test/harness.ts';

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
  const { store, codec } = s.app.deps;
  const kind = store.kind;
  const C = convs.length;
  const t0 = Date.now() - total - 1000;
  const meta = JSON.stringify({ mentions: [], mentionAll: false, replyTo: null });
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
          events.push({
            conversation_id: c.id,
            seq,
            type: 'message.created',
            actor_id: sender.userId,
            ts,
            message_seq: seq,
            data: null,
            member_version: 1,
          });
          messages.push({
            conversation_id: c.id,
            seq,
            uid: uidToDb(kind, newUid()),
            sender_id: sender.userId,
            client_msg_id: `h${n}`,
            payload_hash: sha256(`${c.uid}|${text}`),
            kind: 'text' as const,
            content: codec.encode(text),
            format: 'markdown',
            meta,
            msg_no: seq,
            ts,
            edited_at: null,
            recalled_at: null,
            recalled_by: null,
            signoff: 0,
          });
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
