import { EnclaveError } from '@enclave/protocol';
import type { Deps, Outbox, Viewer } from '../deps.ts';
import type { Trx } from '../../store/dialect.ts';
import { insertIgnore, lockConversation } from '../../store/dialect.ts';
import { sha256 } from '../../lib/ids.ts';
import { convColumns, loadAccessById, requireWritable, toConvRow, visible, type Access } from '../access.ts';
import { appendEvent, loadQuote } from '../append.ts';
import { convIdOf } from '../conv-ids.ts';
import { loadRecords, type MessageRecord } from '../records.ts';
import { priorResult, recordResult } from './op-log.ts';
import { retireBody } from './retire-body.ts';
import { searchDocOf } from '../search/doc.ts';

interface Target {
  conversationId: string;
  seq: number;
  clientOpId: string;
}

/** Shared frame of edit/react/recall: idempotency, access, the target message, the op log. */
async function mutate<T>(
  deps: Deps,
  viewer: Viewer,
  op: string,
  t: Target,
  fn: (trx: Trx, out: Outbox, a: Access, rec: MessageRecord) => Promise<T>,
): Promise<T> {
  const convId = await convIdOf(deps, t.conversationId);
  // The op and a digest of its input: the same clientOpId with another input is a conflict.
  const opKey = `${op}#${sha256(JSON.stringify(t)).slice(0, 16)}`;
  return deps.writer.run(convId, async (trx, out) => {
    await lockConversation(deps.store.kind, trx, convId);
    const prior = await priorResult<T>(trx, viewer.userId, t.clientOpId, opKey);
    if (prior !== undefined) return prior;
    const row = await trx
      .selectFrom('conversations')
      .select(convColumns)
      .where('id', '=', convId)
      .executeTakeFirstOrThrow();
    const a = await loadAccessById(trx, viewer, toConvRow(row));
    requireWritable(a);
    if (!visible(a, t.seq)) throw new EnclaveError('message_not_found');
    const rec = (await loadRecords(deps, trx, convId, a.conv.uid, [t.seq])).get(t.seq);
    if (!rec) throw new EnclaveError('message_not_found');
    const result = await fn(trx, out, a, rec);
    await recordResult(trx, viewer.userId, t.clientOpId, opKey, result, deps.now());
    return result;
  });
}

async function signedUsers(trx: Trx, rec: MessageRecord): Promise<number[] | undefined> {
  if (!rec.signoff) return undefined;
  const rows = await trx
    .selectFrom('signoffs')
    .select('user_id')
    .where('conversation_id', '=', rec.conversationId)
    .where('seq', '=', rec.seq)
    .execute();
  return rows.map((r) => Number(r.user_id));
}

async function reload(deps: Deps, trx: Trx, rec: MessageRecord): Promise<MessageRecord> {
  return (await loadRecords(deps, trx, rec.conversationId, rec.conversationUid, [rec.seq])).get(rec.seq)!;
}

export async function editMessage(
  deps: Deps,
  viewer: Viewer,
  input: Target & { content: { text: string; format: 'markdown' | 'plain' } },
): Promise<{ seq: number }> {
  return mutate(deps, viewer, 'message.edit', input, async (trx, out, a, rec) => {
    if (rec.senderId !== viewer.userId) throw new EnclaveError('forbidden', 'Only the sender may edit a message.');
    if (rec.recalledAt !== null) throw new EnclaveError('message_recalled');
    if (rec.kind === 'file') throw new EnclaveError('bad_request', 'A file message cannot be edited.');
    const now = deps.now();
    await trx
      .updateTable('messages')
      .set({ content: deps.codec.encode(input.content.text), format: input.content.format, edited_at: now })
      .where('conversation_id', '=', rec.conversationId)
      .where('seq', '=', rec.seq)
      .execute();
    await deps.search.update(
      trx,
      searchDocOf(rec.conversationId, rec.seq, rec.senderId, rec.ts, input.content.text, rec.signoff),
    );
    const updated = await reload(deps, trx, rec);
    const signed = await signedUsers(trx, rec);
    const quote = await loadQuote(deps, trx, a.conv, rec.replyToSeq);
    const { seq } = await appendEvent(deps, trx, out, a.conv, {
      type: 'message.edited',
      quote: () => quote,
      actorId: viewer.userId,
      actorUid: viewer.uid,
      messageSeq: rec.seq,
      message: () => updated,
      ...(signed ? { signedUserIds: signed } : {}),
    });
    return { seq };
  });
}

export async function reactToMessage(
  deps: Deps,
  viewer: Viewer,
  input: Target & { emoji: string; on: boolean },
): Promise<{ seq: number | null }> {
  return mutate(deps, viewer, 'message.react', input, async (trx, out, a, rec) => {
    if (rec.recalledAt !== null) throw new EnclaveError('message_recalled');
    const key = {
      conversation_id: rec.conversationId,
      message_seq: rec.seq,
      user_id: viewer.userId,
      emoji: input.emoji,
    };
    let changed: number;
    if (input.on) {
      changed = await insertIgnore(deps.store.kind, trx, 'reactions', [{ ...key, created_at: deps.now() }]);
    } else {
      const r = await trx
        .deleteFrom('reactions')
        .where('conversation_id', '=', key.conversation_id)
        .where('message_seq', '=', key.message_seq)
        .where('user_id', '=', key.user_id)
        .where('emoji', '=', key.emoji)
        .executeTakeFirst();
      changed = Number(r.numDeletedRows);
    }
    // Set twice is set once: no change, no event.
    if (!changed) return { seq: null };
    const updated = await reload(deps, trx, rec);
    const signed = await signedUsers(trx, rec);
    const quote = await loadQuote(deps, trx, a.conv, rec.replyToSeq);
    const { seq } = await appendEvent(deps, trx, out, a.conv, {
      type: 'reaction.changed',
      quote: () => quote,
      actorId: viewer.userId,
      actorUid: viewer.uid,
      messageSeq: rec.seq,
      data: { emoji: input.emoji, on: input.on, userId: viewer.uid },
      message: () => updated,
      ...(signed ? { signedUserIds: signed } : {}),
    });
    return { seq };
  });
}

/**
 * Recall: a tombstone event; in the same commit the body leaves the message (through retireBody, the
 * one place bodies are erased or archived) and its mentions stop counting.
 */
export async function recallMessage(deps: Deps, viewer: Viewer, input: Target): Promise<{ seq: number }> {
  return mutate(deps, viewer, 'message.recall', input, async (trx, out, a, rec) => {
    if (rec.recalledAt !== null) throw new EnclaveError('message_recalled');
    const own = rec.senderId === viewer.userId;
    const moderator = a.conv.kind === 'group' && a.member.role !== 'member' && deps.config.adminsMayRecall;
    if (!own && !moderator) throw new EnclaveError('forbidden', 'You may only recall your own messages.');
    const now = deps.now();
    if (own && !moderator && now - rec.ts > deps.config.recallWindowMs)
      throw new EnclaveError('recall_window_passed', undefined, { windowMs: deps.config.recallWindowMs });
    await retireBody(deps, trx, rec, 'recall', viewer.userId, now);
    const updated = await reload(deps, trx, rec);
    const { seq } = await appendEvent(deps, trx, out, a.conv, {
      type: 'message.recalled',
      actorId: viewer.userId,
      actorUid: viewer.uid,
      messageSeq: rec.seq,
      message: () => updated,
    });
    return { seq };
  });
}
