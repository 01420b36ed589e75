import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Deps } from '../domain/deps.ts';

const BATCH = 500;

export interface PurgeFilesResult {
  files: number;
  blobs: number;
}

/**
 * Retention (M1.2, M5.4): remove files past `expires_at` (upload time + ENCLAVE_FILE_RETENTION_DAYS),
 * folders with their entries, then blobs no file references any more — the row first, then the bytes,
 * so a blob is never visible without its bytes. Messages keep their attachment metadata; fetching it
 * answers `file_not_found`. Bounded batches: no long write lock.
 */
export async function purgeFiles(deps: Deps): Promise<PurgeFilesResult> {
  const now = deps.now();
  let files = 0;
  for (;;) {
    const due = await deps.store.db
      .selectFrom('files')
      .select(['id', 'blob_id', 'kind'])
      .where('expires_at', '<=', now)
      .limit(BATCH)
      .execute();
    if (!due.length) break;
    await deps.store.db.transaction().execute(async (trx) => {
      const folders = due.filter((f) => f.kind === 'folder').map((f) => Number(f.id));
      const entries = folders.length
        ? await trx.selectFrom('files').select(['id', 'blob_id']).where('folder_id', 'in', folders).execute()
        : [];
      // A folder's entry may be due itself: count each file once.
      const all = [...new Map([...due, ...entries].map((f) => [Number(f.id), f])).values()];
      const byBlob = new Map<number, number>();
      for (const f of all)
        if (f.blob_id !== null) byBlob.set(Number(f.blob_id), (byBlob.get(Number(f.blob_id)) ?? 0) + 1);
      for (const [blobId, n] of byBlob)
        await trx
          .updateTable('file_blobs')
          .set((eb) => ({ refcount: eb('refcount', '-', n) }))
          .where('id', '=', blobId)
          .execute();
      await trx
        .deleteFrom('files')
        .where(
          'id',
          'in',
          all.map((f) => Number(f.id)),
        )
        .execute();
      files += all.length;
    });
  }
  let blobs = 0;
  for (;;) {
    const dead = await deps.store.db
      .selectFrom('file_blobs')
      .select(['id', 'storage_key'])
      .where('refcount', '<=', 0)
      .limit(BATCH)
      .execute();
    if (!dead.length) break;
    await deps.store.db
      .deleteFrom('file_blobs')
      .where(
        'id',
        'in',
        dead.map((b) => Number(b.id)),
      )
      .where('refcount', '<=', 0)
      .execute();
    for (const b of dead)
      for (const suffix of ['', '.thumb', '.pdf']) await deps.files.blobs.delete(b.storage_key + suffix);
    blobs += dead.length;
  }
  if (files || blobs) deps.log.info({ files, blobs }, 'file retention purged');
  return { files, blobs };
}

/**
 * Unfinished tus uploads whose last byte is older than `ENCLAVE_UPLOAD_EXPIRY_HOURS`: the data file
 * and its `.json` state go. Returns how many uploads were removed.
 */
export async function purgeUploads(deps: Deps): Promise<number> {
  const dir = deps.files.uploadDir;
  const cutoff = deps.now() - deps.config.files.uploadExpiryMs;
  let n = 0;
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{32}$/.test(name)) continue;
    const st = await fsp.stat(path.join(dir, name)).catch(() => null);
    if (!st || st.mtimeMs > cutoff) continue;
    await fsp.rm(path.join(dir, name), { force: true });
    await fsp.rm(path.join(dir, `${name}.json`), { force: true });
    n++;
  }
  if (n) deps.log.info({ uploads: n }, 'expired uploads removed');
  return n;
}

/** Run retention hourly (and abandoned uploads with it); returns the stop function. */
export function startFileRetention(deps: Deps): () => void {
  const t = setInterval(() => {
    purgeFiles(deps)
      .then(() => purgeUploads(deps))
      .catch((err: unknown) => deps.log.error({ err }, 'file retention failed'));
  }, 3_600_000);
  t.unref();
  return () => clearInterval(t);
}
