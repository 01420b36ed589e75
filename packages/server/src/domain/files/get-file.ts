import type { FileInfo } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { newUid } from '../../lib/ids.ts';
import { uidToDb } from '../../store/dialect.ts';
import { fileById, folderEntries, infoOf } from './file-rows.ts';
import { readableFile } from './file-access.ts';
import { insertId } from './ingest-upload.ts';
import { checkFileName } from './names.ts';

/** A file I may read, with its folder entries when it is a folder. */
export async function getFile(deps: Deps, viewer: Viewer, fileUid: string): Promise<FileInfo> {
  const f = await readableFile(deps, viewer, fileUid);
  const entries = f.kind === 'folder' ? await folderEntries(deps.store.reader, f.id) : null;
  const owner = (await deps.directory.uidsOf([f.ownerId])).get(f.ownerId)!;
  return infoOf(f, owner, entries);
}

/** An empty folder of mine; its files are uploaded with `folderId` and `path` in the tus metadata. */
export async function createFolder(deps: Deps, viewer: Viewer, name: string): Promise<FileInfo> {
  const now = deps.now();
  const id = await insertId(deps, deps.store.db, 'files', {
    uid: uidToDb(deps.store.kind, newUid()),
    owner_id: viewer.userId,
    blob_id: null,
    folder_id: null,
    path: null,
    name: checkFileName(name),
    size: 0,
    mime: 'inode/directory',
    kind: 'folder',
    created_at: now,
    expires_at: now + deps.config.files.retentionMs,
    upload_id: null,
  });
  return infoOf((await fileById(deps.store.db, id))!, viewer.uid, []);
}
