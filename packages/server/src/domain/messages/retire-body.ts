import type { Deps } from '../deps.ts';
import type { Trx } from '../../store/dialect.ts';
import type { MessageRecord } from '../records.ts';

/**
 * The one place a message body leaves the live tables (recall now; retention and purge later).
 * With the compliance archive on (config.archiveRecalled, ENCLAVE_ARCHIVE_RECALLED=true) the stored body moves to
 * message_archive; otherwise it is erased. Mentions of the message stop counting in the same commit.
 */
export async function retireBody(
  deps: Deps,
  trx: Trx,
  rec: MessageRecord,
  reason: 'recall',
  actorId: number,
  now: number,
): Promise<void> {
  if (deps.config.archiveRecalled && rec.text !== null) {
    await trx
      .insertInto('message_archive')
      .values({
        conversation_id: rec.conversationId,
        seq: rec.seq,
        content: deps.codec.encode(rec.text),
        reason,
        archived_at: now,
      })
      .execute();
  }
  await trx
    .updateTable('messages')
    .set({ content: null, recalled_at: now, recalled_by: actorId })
    .where('conversation_id', '=', rec.conversationId)
    .where('seq', '=', rec.seq)
    .execute();
  // Unread counts subtract it from here on (store/migrations.ts, 0007_recalls).
  await trx
    .insertInto('recalls')
    .values({ conversation_id: rec.conversationId, seq: rec.seq, sender_id: rec.senderId })
    .execute();
  await deps.search.remove(trx, rec.conversationId, rec.seq);
  await trx
    .deleteFrom('mentions')
    .where('conversation_id', '=', rec.conversationId)
    .where('seq', '=', rec.seq)
    .execute();
  await trx
    .deleteFrom('mention_all')
    .where('conversation_id', '=', rec.conversationId)
    .where('seq', '=', rec.seq)
    .execute();
}
