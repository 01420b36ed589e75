import { attachmentOfColumns } from './file-rows.ts';
import { EnclaveError, type GroupFile, type OpOutput, type OpParsedInput } from '@enclave/protocol';
import { sql } from 'kysely';
import type { Deps, Viewer } from '../deps.ts';
import { loadAccess, requireGroupAdmin, visible } from '../access.ts';
import { uidFromDb } from '../../store/dialect.ts';

const escapeLike = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`);

/**
 * The group file space: files sent in the conversation that this viewer may see (their member
 * ranges), not recalled, not removed, not expired; searched by name, sorted by time, name or size.
 */
export async function listGroupFiles(
  deps: Deps,
  viewer: Viewer,
  i: OpParsedInput<'group.files'>,
): Promise<OpOutput<'group.files'>> {
  const a = await loadAccess(deps, deps.store.reader, viewer, i.conversationId);
  const now = deps.now();
  // A name search or a sort by name/size reads every file of the group: a heavy read (SQLite: a worker).
  let q = deps.store.bulk
    .selectFrom('file_refs as r')
    .innerJoin('messages as m', (j) =>
      j.onRef('m.conversation_id', '=', 'r.conversation_id').onRef('m.seq', '=', 'r.seq'),
    )
    .innerJoin('files as f', 'f.id', 'r.file_id')
    .leftJoin('file_blobs as b', 'b.id', 'f.blob_id')
    .where('r.conversation_id', '=', a.conv.id)
    .where('r.deleted_at', 'is', null)
    .where('m.recalled_at', 'is', null)
    .where((eb) => eb.or([eb('f.expires_at', 'is', null), eb('f.expires_at', '>', now)]))
    .where((eb) => eb.or(a.ranges.map((r) => eb.and([eb('r.seq', '>=', r.from), eb('r.seq', '<=', r.to)]))));
  if (i.q) q = q.where(sql<boolean>`lower(r.name) like ${'%' + escapeLike(i.q.toLowerCase()) + '%'} escape '!'`);
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const col = i.sort === 'name' ? 'r.name' : i.sort === 'size' ? 'r.size' : 'r.seq';
  const rows = await q
    .select([
      'r.seq',
      'r.sender_id',
      'r.created_at',
      'm.uid as message_uid',
      'f.uid',
      'f.name',
      'f.size',
      'f.mime',
      'f.kind',
      'b.has_thumb',
      'b.width',
      'b.height',
    ])
    .orderBy(col, i.order)
    .orderBy('r.seq', i.order)
    .limit(i.limit)
    .offset(i.offset)
    .execute();
  const senders = await deps.directory.uidsOf(rows.map((r) => Number(r.sender_id)));
  const items: GroupFile[] = rows.map((r) => ({
    file: attachmentOfColumns(r),
    seq: Number(r.seq),
    messageId: uidFromDb(r.message_uid) as GroupFile['messageId'],
    senderId: senders.get(Number(r.sender_id)) as GroupFile['senderId'],
    sentAt: Number(r.created_at),
  }));
  return { items, total: Number(total.n) };
}

/**
 * Remove a file from the group file space (owner and admins of the group). Access through that
 * message ends at once; the blob stays while other references exist (retention frees it).
 */
export async function deleteGroupFile(deps: Deps, viewer: Viewer, conversationUid: string, seq: number): Promise<void> {
  const a = await loadAccess(deps, deps.store.db, viewer, conversationUid);
  requireGroupAdmin(a);
  if (!visible(a, seq)) throw new EnclaveError('file_not_found');
  const r = await deps.store.db
    .updateTable('file_refs')
    .set({ deleted_at: deps.now() })
    .where('conversation_id', '=', a.conv.id)
    .where('seq', '=', seq)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!Number(r.numUpdatedRows)) throw new EnclaveError('file_not_found');
  deps.log.info({ conversationId: a.conv.id, seq, by: viewer.userId }, 'group file removed');
}
