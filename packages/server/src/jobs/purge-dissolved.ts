import type { Deps } from '../domain/deps.ts';

const SEQ_STEP = 5_000;

/**
 * Dissolving a group makes it read-only at once (an event); this job removes its data later, after
 * `olderThanMs`, in bounded batches so a huge group never holds a long write lock. The conversation
 * then disappears from every list and its id is not found. Returns how many were purged.
 */
export async function purgeDissolved(deps: Deps, olderThanMs: number): Promise<{ conversations: number }> {
  const cutoff = deps.now() - olderThanMs;
  const due = await deps.store.db
    .selectFrom('conversations')
    .select(['id', 'last_seq'])
    .where('dissolved_at', 'is not', null)
    .where('dissolved_at', '<=', cutoff)
    .where('member_count', '>', 0)
    .limit(100)
    .execute();
  for (const c of due) {
    const id = Number(c.id);
    for (let from = 0; from <= Number(c.last_seq); from += SEQ_STEP) {
      const to = from + SEQ_STEP;
      await deps.writer.run(id, async (trx) => {
        for (const table of [
          'messages',
          'events',
          'mentions',
          'mention_all',
          'recalls',
          'signoffs',
          'message_archive',
          'file_refs',
        ] as const)
          await trx
            .deleteFrom(table)
            .where('conversation_id', '=', id)
            .where('seq', '>', from)
            .where('seq', '<=', to)
            .execute();
        await trx
          .deleteFrom('reactions')
          .where('conversation_id', '=', id)
          .where('message_seq', '>', from)
          .where('message_seq', '<=', to)
          .execute();
        await deps.search.removeRange(trx, id, from, to);
      });
    }
    await deps.writer.run(id, async (trx) => {
      await trx.deleteFrom('member_periods').where('conversation_id', '=', id).execute();
      await trx.deleteFrom('members').where('conversation_id', '=', id).execute();
      // The conversation row stays as a tombstone (members' user streams refer to it); with no
      // member rows left it is in nobody's list and its id is not found for anyone.
      await trx
        .updateTable('conversations')
        .set({ name: '', announcement: null, member_count: 0 })
        .where('id', '=', id)
        .execute();
    });
    deps.members.invalidate(id);
    deps.log.info({ conversationId: id }, 'purged dissolved conversation');
  }
  return { conversations: due.length };
}
