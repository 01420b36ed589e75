import type { FileAttachment, FileInfo } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import type { Executor } from '../../store/dialect.ts';
import { uidFromDb, uidToDb } from '../../store/dialect.ts';

export const fileColumns = [
  'f.id',
  'f.uid',
  'f.owner_id',
  'f.blob_id',
  'f.folder_id',
  'f.path',
  'f.name',
  'f.size',
  'f.mime',
  'f.kind',
  'f.created_at',
  'f.expires_at',
  'b.storage_key',
  'b.has_thumb',
  'b.width',
  'b.height',
] as const;

export interface FileRow {
  id: number;
  uid: string;
  ownerId: number;
  blobId: number | null;
  folderId: number | null;
  path: string | null;
  name: string;
  size: number;
  mime: string;
  kind: 'file' | 'image' | 'folder';
  createdAt: number;
  expiresAt: number | null;
  storageKey: string | null;
  hasThumb: boolean;
  width: number | null;
  height: number | null;
}

type Raw = Record<(typeof fileColumns)[number] extends `${string}.${infer C}` ? C : never, unknown>;

function toRow(r: Raw): FileRow {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: Number(r.id),
    uid: uidFromDb(r.uid),
    ownerId: Number(r.owner_id),
    blobId: n(r.blob_id),
    folderId: n(r.folder_id),
    path: (r.path as string | null) ?? null,
    name: r.name as string,
    size: Number(r.size),
    mime: r.mime as string,
    kind: r.kind as FileRow['kind'],
    createdAt: Number(r.created_at),
    expiresAt: n(r.expires_at),
    storageKey: (r.storage_key as string | null) ?? null,
    hasThumb: !!Number(r.has_thumb ?? 0),
    width: n(r.width),
    height: n(r.height),
  };
}

function base(exec: Executor) {
  return exec.selectFrom('files as f').leftJoin('file_blobs as b', 'b.id', 'f.blob_id').select(fileColumns);
}

export async function fileByUid(deps: Pick<Deps, 'store'>, exec: Executor, uid: string): Promise<FileRow | null> {
  const r = await base(exec).where('f.uid', '=', uidToDb(deps.store.kind, uid)).executeTakeFirst();
  return r ? toRow(r as Raw) : null;
}

export async function fileById(exec: Executor, id: number): Promise<FileRow | null> {
  const r = await base(exec).where('f.id', '=', id).executeTakeFirst();
  return r ? toRow(r as Raw) : null;
}

export async function folderEntries(exec: Executor, folderId: number): Promise<FileRow[]> {
  const rows = await base(exec).where('f.folder_id', '=', folderId).orderBy('f.path').execute();
  return rows.map((r) => toRow(r as Raw));
}

/** The attachment of a joined row that selected f.uid, name, size, mime, kind, width, height and b.has_thumb. */
export function attachmentOfColumns(r: {
  uid: unknown;
  name: string;
  size: unknown;
  mime: string;
  kind: FileAttachment['kind'];
  width: unknown;
  height: unknown;
  has_thumb: unknown;
}): FileAttachment {
  return {
    id: uidFromDb(r.uid) as FileAttachment['id'],
    name: r.name,
    size: Number(r.size),
    mime: r.mime,
    kind: r.kind,
    width: r.width === null ? null : Number(r.width),
    height: r.height === null ? null : Number(r.height),
    thumbnail: !!Number(r.has_thumb ?? 0),
  };
}

export function attachmentOf(f: FileRow): FileAttachment {
  return {
    id: f.uid as FileAttachment['id'],
    name: f.name,
    size: f.size,
    mime: f.mime,
    kind: f.kind,
    width: f.width,
    height: f.height,
    thumbnail: f.hasThumb,
  };
}

export function infoOf(f: FileRow, ownerUid: string, entries: FileRow[] | null): FileInfo {
  return {
    ...attachmentOf(f),
    ownerId: ownerUid as FileInfo['ownerId'],
    createdAt: f.createdAt,
    expiresAt: f.expiresAt,
    entries: entries
      ? entries.map((e) => ({ path: e.path ?? e.name, fileId: e.uid as FileInfo['id'], size: e.size, mime: e.mime }))
      : null,
  };
}
