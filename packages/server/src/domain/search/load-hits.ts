import type { Deps } from '../deps.ts';
import type { Executor } from '../../store/dialect.ts';
import { messageColumns, recordFromRow, type MessageRecord, type MessageRow } from '../records.ts';
import type { IndexHit } from './port.ts';
import type { ScopeConv } from './scope.ts';

/**
 * Load the messages of search hits from any number of conversations in three statements (rows,
 * reactions, sender ids), decoded through the codec like every other read. Keyed "conv:seq".
 */
export async function loadHitRecords(
  deps: Pick<Deps, 'codec' | 'directory'>,
  exec: Executor,
  hits: IndexHit[],
  scope: Map<number, ScopeConv>,
): Promise<Map<string, MessageRecord>> {
  const out = new Map<string, MessageRecord>();
  if (!hits.length) return out;
  const rows = (await exec
    .selectFrom('messages')
    .select(messageColumns)
    .where((eb) =>
      eb.or(hits.map((h) => eb.and([eb('conversation_id', '=', h.conversationId), eb('seq', '=', h.seq)]))),
    )
    .execute()) as unknown as MessageRow[];
  const reactionRows = await exec
    .selectFrom('reactions')
    .select(['conversation_id', 'message_seq', 'user_id', 'emoji'])
    .where((eb) =>
      eb.or(hits.map((h) => eb.and([eb('conversation_id', '=', h.conversationId), eb('message_seq', '=', h.seq)]))),
    )
    .orderBy('created_at')
    .execute();
  const uids = await deps.directory.uidsOf([
    ...rows.map((r) => Number(r.sender_id)),
    ...reactionRows.map((r) => Number(r.user_id)),
  ]);
  const reactions = new Map<string, Map<string, string[]>>();
  for (const r of reactionRows) {
    const key = `${Number(r.conversation_id)}:${Number(r.message_seq)}`;
    const m = reactions.get(key) ?? new Map<string, string[]>();
    m.set(r.emoji, [...(m.get(r.emoji) ?? []), uids.get(Number(r.user_id))!]);
    reactions.set(key, m);
  }
  for (const row of rows) {
    const convId = Number(row.conversation_id);
    const key = `${convId}:${Number(row.seq)}`;
    const conv = scope.get(convId);
    if (!conv) continue;
    const rs = [...(reactions.get(key) ?? new Map<string, string[]>())].map(([emoji, userIds]) => ({ emoji, userIds }));
    out.set(key, recordFromRow(deps, row, conv.uid, uids.get(Number(row.sender_id))!, rs));
  }
  return out;
}
