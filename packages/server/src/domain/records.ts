import type { FileAttachment } from '@enclave/protocol';
import type { Deps } from './deps.ts';
import type { Executor } from '../store/dialect.ts';
import { uidFromDb } from '../store/dialect.ts';
import { precompiled } from '../store/precompiled.ts';
import { precompiledIn } from '../store/precompiled-in.ts';

/** A stored message in decoded form: what presentMessage turns into what a viewer sees. */
export interface MessageRecord {
  conversationId: number;
  conversationUid: string;
  seq: number;
  uid: string;
  senderId: number;
  senderUid: string;
  clientMsgId: string;
  kind: 'text' | 'system' | 'file';
  text: string | null;
  format: 'markdown' | 'plain';
  mentions: string[];
  mentionAll: boolean;
  replyToSeq: number | null;
  msgNo: number;
  ts: number;
  editedAt: number | null;
  recalledAt: number | null;
  signoff: boolean;
  reactions: { emoji: string; userIds: string[] }[];
  /** File messages: the attachment (from `meta`). */
  file?: FileAttachment | null;
}

export interface MessageMeta {
  mentions: string[];
  mentionAll: boolean;
  replyTo: number | null;
  file?: FileAttachment;
}

export interface MessageRow {
  conversation_id: number;
  seq: number;
  uid: unknown;
  sender_id: number;
  client_msg_id: string;
  kind: 'text' | 'system' | 'file';
  content: string | null;
  format: string;
  meta: string;
  msg_no: number;
  ts: number;
  edited_at: number | null;
  recalled_at: number | null;
  signoff: number;
}

export const messageColumns = [
  'conversation_id',
  'seq',
  'uid',
  'sender_id',
  'client_msg_id',
  'kind',
  'content',
  'format',
  'meta',
  'msg_no',
  'ts',
  'edited_at',
  'recalled_at',
  'signoff',
] as const;

/** A message row without the columns a caller may already know (conversation, seq, time). */
export type MessageFields = Omit<MessageRow, 'conversation_id' | 'seq' | 'ts'>;

export function recordFromRow(
  deps: Pick<Deps, 'codec'>,
  row: MessageRow,
  conversationUid: string,
  senderUid: string,
  reactions: MessageRecord['reactions'] = [],
): MessageRecord {
  return messageRecord(
    deps,
    row,
    Number(row.conversation_id),
    conversationUid,
    Number(row.seq),
    Number(row.ts),
    senderUid,
    reactions,
  );
}

/** `recordFromRow` for a row read with other columns (a history page joins events and messages). */
export function messageRecord(
  deps: Pick<Deps, 'codec'>,
  row: MessageFields,
  conversationId: number,
  conversationUid: string,
  seq: number,
  ts: number,
  senderUid: string,
  reactions: MessageRecord['reactions'] = [],
): MessageRecord {
  const meta = parseMeta(row.meta);
  const rec: MessageRecord = {
    conversationId,
    conversationUid,
    seq,
    uid: uidFromDb(row.uid),
    senderId: Number(row.sender_id),
    senderUid,
    clientMsgId: row.client_msg_id,
    kind: row.kind,
    text: row.content === null ? null : deps.codec.decode(row.content),
    format: row.format === 'plain' ? 'plain' : 'markdown',
    mentions: meta.mentions,
    mentionAll: meta.mentionAll,
    replyToSeq: meta.replyTo,
    msgNo: Number(row.msg_no),
    ts,
    editedAt: row.edited_at === null ? null : Number(row.edited_at),
    recalledAt: row.recalled_at === null ? null : Number(row.recalled_at),
    signoff: !!Number(row.signoff),
    reactions,
  };
  // Added after, not spread in: see presentMessage.
  if (meta.file) rec.file = meta.file;
  return rec;
}

/** The meta of most messages (no mention, reply or file): recognised by its text, not parsed 50 times a page. */
const PLAIN_META = JSON.stringify({ mentions: [], mentionAll: false, replyTo: null } satisfies MessageMeta);

function parseMeta(meta: string): MessageMeta {
  // A fresh object each time: records are handed on and their arrays must not be shared.
  if (meta === PLAIN_META) return { mentions: [], mentionAll: false, replyTo: null };
  return JSON.parse(meta) as MessageMeta;
}

const messagesBySeq = precompiledIn((db, seqs: number[], conversationId: number) =>
  db
    .selectFrom('messages')
    .select(messageColumns)
    .where('conversation_id', '=', conversationId)
    .where('seq', 'in', seqs),
);

const reactionsBySeq = precompiledIn((db, seqs: number[], conversationId: number) =>
  db
    .selectFrom('reactions')
    .select(['message_seq', 'user_id', 'emoji'])
    .where('conversation_id', '=', conversationId)
    .where('message_seq', 'in', seqs)
    .orderBy('created_at'),
);

const reactionsInRange = precompiled((db, conversationId: number, from: number, to: number) =>
  db
    .selectFrom('reactions')
    .select(['message_seq', 'user_id', 'emoji'])
    .where('conversation_id', '=', conversationId)
    .where('message_seq', '>=', from)
    .where('message_seq', '<=', to)
    .orderBy('created_at'),
);

/**
 * Reactions to these messages, oldest first. Messages that lie close together (a history page) are
 * read as one range of the key, one seek: on SQLite an `in` list of a page's 50 seqs is made into a
 * table first and then sought once per value, even when nothing matches (a newest page of 1:1
 * messages, 200,000 in the store: 11.9 → 6.4 µs with no reactions, 21.9 → 10.3 µs with one message
 * in ten reacted to).
 */
async function reactionRows(
  deps: Pick<Deps, 'store'>,
  exec: Executor,
  conversationId: number,
  seqs: number[],
): Promise<{ message_seq: number; user_id: number; emoji: string }[]> {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of seqs) {
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  if (seqs.length < RANGE_MIN || hi - lo >= 2 * seqs.length)
    return reactionsBySeq.rows(deps.store.kind, exec, seqs, conversationId);
  const wanted = new Set(seqs);
  const rows = await reactionsInRange.rows(deps.store.kind, exec, conversationId, lo, hi);
  return rows.filter((r) => wanted.has(Number(r.message_seq)));
}

/** Fewer messages than this are looked up one by one (`in`), whatever their spread. */
const RANGE_MIN = 8;

/** Read message rows of one conversation by seq (records are made with `recordFromRow`). */
export function messageRows(
  deps: Pick<Deps, 'store'>,
  exec: Executor,
  conversationId: number,
  seqs: readonly number[],
): Promise<MessageRow[]> {
  return messagesBySeq.rows(deps.store.kind, exec, [...new Set(seqs)], conversationId);
}

/**
 * Fill in the senders' public ids and the reactions of records made without them: one statement for
 * the reactions of all of them, whatever the count.
 */
export async function completeRecords(
  deps: Pick<Deps, 'store' | 'directory'>,
  exec: Executor,
  conversationId: number,
  records: MessageRecord[],
): Promise<void> {
  if (!records.length) return;
  const reactions = await reactionRows(
    deps,
    exec,
    conversationId,
    records.map((r) => r.seq),
  );
  const userIds = records.map((r) => r.senderId);
  for (const r of reactions) userIds.push(Number(r.user_id));
  const uids = await deps.directory.uidsOf(userIds);
  const bySeq = new Map<number, Map<string, string[]>>();
  for (const r of reactions) {
    const seq = Number(r.message_seq);
    let m = bySeq.get(seq);
    if (!m) bySeq.set(seq, (m = new Map()));
    let list = m.get(r.emoji);
    if (!list) m.set(r.emoji, (list = []));
    list.push(uids.get(Number(r.user_id))!);
  }
  for (const rec of records) {
    rec.senderUid = uids.get(rec.senderId)!;
    const m = bySeq.get(rec.seq);
    rec.reactions = m ? [...m].map(([emoji, userIds]) => ({ emoji, userIds })) : [];
  }
}

/** Load messages of one conversation by seq, with reactions; two statements whatever the count. */
export async function loadRecords(
  deps: Pick<Deps, 'codec' | 'directory' | 'store'>,
  exec: Executor,
  conversationId: number,
  conversationUid: string,
  seqs: number[],
): Promise<Map<number, MessageRecord>> {
  const out = new Map<number, MessageRecord>();
  for (const row of await messageRows(deps, exec, conversationId, seqs)) {
    const rec = recordFromRow(deps, row, conversationUid, '');
    out.set(rec.seq, rec);
  }
  await completeRecords(deps, exec, conversationId, [...out.values()]);
  return out;
}

const signoffsBySeq = precompiledIn((db, seqs: number[], conversationId: number, userId: number) =>
  db
    .selectFrom('signoffs')
    .select('seq')
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .where('seq', 'in', seqs),
);

/** Seqs of sign-off messages among `seqs` that this user has signed. */
export async function signedSeqs(
  deps: Pick<Deps, 'store'>,
  exec: Executor,
  conversationId: number,
  userId: number,
  seqs: number[],
): Promise<Set<number>> {
  if (!seqs.length) return new Set();
  const rows = await signoffsBySeq.rows(deps.store.kind, exec, [...new Set(seqs)], conversationId, userId);
  return new Set(rows.map((r) => Number(r.seq)));
}
