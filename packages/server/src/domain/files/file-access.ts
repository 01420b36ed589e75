import { EnclaveError } from '@enclave/protocol';
import { sql } from 'kysely';
import type { Deps, Viewer } from '../deps.ts';
import { fileById, fileByUid, type FileRow } from './file-rows.ts';

/**
 * May this viewer fetch this file? Yes for the uploader; otherwise only through a message that
 * carries it: not recalled, not removed from the group file space, in a conversation whose seq range
 * the viewer may see (member periods; `all`-history conversations from seq 1). A file inside a
 * folder is reachable exactly when its folder is. One statement.
 */
export async function canRead(deps: Deps, viewer: Pick<Viewer, 'userId'>, f: FileRow): Promise<boolean> {
  if (f.ownerId === viewer.userId) return true;
  const target = f.folderId ?? f.id;
  if (f.folderId !== null) {
    const folder = await fileById(deps.store.reader, f.folderId);
    if (folder?.ownerId === viewer.userId) return true;
  }
  const row = await deps.store.reader
    .selectFrom('file_refs as r')
    .innerJoin('messages as m', (j) =>
      j.onRef('m.conversation_id', '=', 'r.conversation_id').onRef('m.seq', '=', 'r.seq'),
    )
    .innerJoin('conversations as c', 'c.id', 'r.conversation_id')
    .innerJoin('member_periods as p', (j) =>
      j.onRef('p.conversation_id', '=', 'r.conversation_id').on('p.user_id', '=', viewer.userId),
    )
    .select(sql<number>`1`.as('one'))
    .where('r.file_id', '=', target)
    .where('r.deleted_at', 'is', null)
    .where('m.recalled_at', 'is', null)
    .where((eb) => eb.or([eb('p.from_seq', '<=', eb.ref('r.seq')), eb('c.history_mode', '=', 'all')]))
    .where((eb) => eb.or([eb('p.to_seq', 'is', null), eb('p.to_seq', '>=', eb.ref('r.seq'))]))
    .limit(1)
    .executeTakeFirst();
  return !!row;
}

/**
 * Load a file the viewer may read. Unknown, expired and not-permitted are the same answer,
 * `file_not_found`, so ids cannot be probed.
 */
export async function readableFile(deps: Deps, viewer: Pick<Viewer, 'userId'>, fileUid: string): Promise<FileRow> {
  const f = await fileByUid(deps, deps.store.reader, fileUid);
  if (!f || (f.expiresAt !== null && f.expiresAt <= deps.now()) || !(await canRead(deps, viewer, f)))
    throw new EnclaveError('file_not_found');
  return f;
}
