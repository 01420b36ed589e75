import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
// sharp (libvips) is loaded with the first image, not at start (~1 s of cold start).
import type sharpModule from 'sharp';
let sharpLoaded: Promise<typeof sharpModule> | null = null;
const loadSharp = () => (sharpLoaded ??= import('sharp').then((m) => m.default));
import { EnclaveError, fileLimits, type FileAttachment } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { isUniqueViolation, uidToDb, type Executor } from '../../store/dialect.ts';
import { newUid } from '../../lib/ids.ts';
import { checkFileName, checkFolderPath } from './names.ts';
import { checkPolicy } from './policy.ts';
import { sniffFile, THUMBNAIL_TYPES } from './sniff.ts';
import { attachmentOf, fileById, fileByUid } from './file-rows.ts';

export interface FinishedUpload {
  uploadId: string;
  /** The complete bytes on local disk (the tus upload file). */
  filePath: string;
  size: number;
  name: string;
  /** Folder uploads: the folder's id and the path inside it. */
  folderUid: string | null;
  folderPath: string | null;
}

/** Insert a row into `files` or `file_blobs` and return its id, on every store. */
export async function insertId(
  deps: Pick<Deps, 'store'>,
  exec: Executor,
  table: 'files' | 'file_blobs',
  values: Record<string, unknown>,
): Promise<number> {
  const q = exec.insertInto(table).values(values as never);
  if (deps.store.kind === 'postgres')
    return Number(((await q.returning('id').executeTakeFirstOrThrow()) as { id: number }).id);
  return Number((await q.executeTakeFirstOrThrow()).insertId);
}

/**
 * A finished upload becomes a file: sniff the type from the bytes and check the policy, hash it,
 * store the bytes once per content (HMAC(server key, SHA-256), reference counted), make a thumbnail
 * for images, then create the file row. Until this returns nobody can see anything of the upload.
 */
export async function ingestUpload(deps: Deps, viewer: Viewer, u: FinishedUpload): Promise<FileAttachment> {
  const name = checkFileName(u.name);
  const folder = u.folderUid ? await ownFolder(deps, viewer, u.folderUid) : null;
  const path = folder ? checkFolderPath(u.folderPath ?? name) : null;
  const mime = await sniffFile(u.filePath);
  checkPolicy(await deps.files.policy(deps.now()), u.size, mime);

  const sha = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(u.filePath), sha);
  const hkey = await deps.files.blobKey(sha.digest('hex'));
  const image = THUMBNAIL_TYPES.has(mime) ? await imageInfo(u.filePath) : null;

  const blobId = await storeBlob(deps, hkey, mime, u, image);
  const now = deps.now();
  const uid = newUid();
  const id = await insertFile().catch(async (e: unknown) => {
    // The blob reference taken above belongs to this file: give it back, or the blob would never be freed.
    await deps.store.db
      .updateTable('file_blobs')
      .set((eb) => ({ refcount: eb('refcount', '-', 1) }))
      .where('id', '=', blobId)
      .execute();
    throw e;
  });
  const row = await fileById(deps.store.db, id);
  return attachmentOf(row!);

  function insertFile() {
    return deps.store.db.transaction().execute(async (trx) => {
      const fileId = await insertId(deps, trx, 'files', {
        uid: uidToDb(deps.store.kind, uid),
        owner_id: viewer.userId,
        blob_id: blobId,
        folder_id: folder?.id ?? null,
        path,
        name: path ? path.split('/').pop()! : name,
        size: u.size,
        mime,
        kind: image?.thumb ? 'image' : 'file',
        created_at: now,
        expires_at: now + deps.config.files.retentionMs,
        upload_id: u.uploadId,
      });
      if (folder)
        await trx
          .updateTable('files')
          .set((eb) => ({ size: eb('size', '+', u.size) }))
          .where('id', '=', folder.id)
          .execute();
      return fileId;
    });
  }
}

async function ownFolder(deps: Deps, viewer: Viewer, folderUid: string) {
  const f = await fileByUid(deps, deps.store.db, folderUid);
  if (!f || f.kind !== 'folder' || f.ownerId !== viewer.userId)
    throw new EnclaveError('file_not_found', 'No such folder.');
  const n = await deps.store.db
    .selectFrom('files')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('folder_id', '=', f.id)
    .executeTakeFirstOrThrow();
  if (Number(n.n) >= fileLimits.maxFolderEntries)
    throw new EnclaveError('bad_request', `A folder holds at most ${fileLimits.maxFolderEntries} files.`);
  return f;
}

interface ImageInfo {
  width: number;
  height: number;
  thumb: Buffer | null;
}

/** Dimensions and a WebP thumbnail; a decompression bomb or a broken image just gets no thumbnail. */
async function imageInfo(filePath: string): Promise<ImageInfo | null> {
  try {
    const sharp = await loadSharp();
    const img = sharp(filePath, { limitInputPixels: fileLimits.maxImagePixels, failOn: 'error' });
    const meta = await img.metadata();
    if (!meta.width || !meta.height) return null;
    const thumb = await sharp(filePath, { limitInputPixels: fileLimits.maxImagePixels })
      .rotate()
      .resize(fileLimits.thumbnailPx, fileLimits.thumbnailPx, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75 })
      .toBuffer();
    return { width: meta.width, height: meta.height, thumb };
  } catch {
    return null;
  }
}

/**
 * The blob for this content: an existing one gains a reference (the upload's bytes are dropped),
 * or the bytes are stored under a fresh key and a row inserted. Two uploads of the same content
 * racing: the loser of the unique key takes a reference on the winner's row and drops its copy.
 */
async function storeBlob(
  deps: Deps,
  hkey: string,
  mime: string,
  u: FinishedUpload,
  image: ImageInfo | null,
): Promise<number> {
  const takeRef = async (): Promise<number | null> =>
    deps.store.db.transaction().execute(async (trx) => {
      const b = await trx.selectFrom('file_blobs').select('id').where('hkey', '=', hkey).executeTakeFirst();
      if (!b) return null;
      const r = await trx
        .updateTable('file_blobs')
        .set((eb) => ({ refcount: eb('refcount', '+', 1) }))
        .where('id', '=', b.id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) ? Number(b.id) : null;
    });
  const existing = await takeRef();
  if (existing !== null) {
    await fsp.rm(u.filePath, { force: true });
    return existing;
  }
  const storageKey = deps.files.newStorageKey();
  await deps.files.blobs.putFile(storageKey, u.filePath, u.size);
  if (image?.thumb) await deps.files.blobs.putBuffer(`${storageKey}.thumb`, image.thumb);
  try {
    return await insertId(deps, deps.store.db, 'file_blobs', {
      hkey,
      size: u.size,
      mime,
      storage_key: storageKey,
      enc_key: null,
      refcount: 1,
      has_thumb: image?.thumb ? 1 : 0,
      width: image?.width ?? null,
      height: image?.height ?? null,
      created_at: deps.now(),
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    await deps.files.blobs.delete(storageKey);
    await deps.files.blobs.delete(`${storageKey}.thumb`);
    const id = await takeRef();
    if (id === null) throw new EnclaveError('server_busy');
    return id;
  }
}
