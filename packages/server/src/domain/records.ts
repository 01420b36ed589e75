import type { FileAttachment } from '@enclave/protocol';
import type { Deps } from './deps.ts';
import type { Executor } from '../store/dialect.ts';
import { uidFromDb } from '../store/dialect.ts';

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

export function recordFromRow(
  deps: Pick<Deps, 'codec'>,
  row: MessageRow,
  conversationUid: string,
  senderUid: string,
  reactions: MessageRecord['reactions'] = [],
): MessageRecord {
  const meta = JSON.parse(row.meta) as MessageMeta;
  return {
    conversationId: Number(row.conversation_id),
    conversationUid,
    seq: Number(row.seq),
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
    ts: Number(row.ts),
    editedAt: row.edited_at === null ? null : Number(row.edited_at),
    recalledAt: row.recalled_at === null ? null : Number(row.recalled_at),
    signoff: !!Number(row.signoff),
    reactions,
    ...(meta.file ? { file: meta.file } : {}),
  };
}

/** Load messages of one conversation by seq, with reactions; three statements whatever the count. */
export async function loadRecords(
  deps: Pick<Deps, 'codec' | 'directory'>,
  exec: Executor,
  conversationId: number,
  conversationUid: string,
  seqs: number[],
): Promise<Map<number, MessageRecord>> {
  const out = new Map<number, MessageRecord>();
  const unique = [...new Set(seqs)];
  if (!unique.length) return out;
  const rows = await exec
    .selectFrom('messages')
    .select(messageColumns)
    .where('conversation_id', '=', conversationId)
    .where('seq', 'in', unique)
    .execute();
  if (!rows.length) return out;
  const reactionRows = await exec
    .selectFrom('reactions')
    .select(['message_seq', 'user_id', 'emoji', 'created_at'])
    .where('conversation_id', '=', conversationId)
    .where(
      'message_seq',
      'in',
      rows.map((r) => Number(r.seq)),
    )
    .orderBy('created_at')
    .execute();
  const uids = await deps.directory.uidsOf([
    ...rows.map((r) => Number(r.sender_id)),
    ...reactionRows.map((r) => Number(r.user_id)),
  ]);
  const bySeq = new Map<number, Map<string, string[]>>();
  for (const r of reactionRows) {
    const m = bySeq.get(Number(r.message_seq)) ?? new Map<string, string[]>();
    const list = m.get(r.emoji) ?? [];
    list.push(uids.get(Number(r.user_id))!);
    m.set(r.emoji, list);
    bySeq.set(Number(r.message_seq), m);
  }
  for (const row of rows) {
    const reactions = [...(bySeq.get(Number(row.seq)) ?? new Map<string, string[]>())].map(([emoji, userIds]) => ({
      emoji,
      userIds,
    }));
    const rec = recordFromRow(deps, row, conversationUid, uids.get(Number(row.sender_id))!, reactions);
    out.set(rec.seq, rec);
  }
  return out;
}

/** Seqs of sign-off messages among `seqs` that this user has signed. */
export async function signedSeqs(
  exec: Executor,
  conversationId: number,
  userId: number,
  seqs: number[],
): Promise<Set<number>> {
  if (!seqs.length) return new Set();
  const rows = await exec
    .selectFrom('signoffs')
    .select('seq')
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .where('seq', 'in', [...new Set(seqs)])
    .execute();
  return new Set(rows.map((r) => Number(r.seq)));
}
