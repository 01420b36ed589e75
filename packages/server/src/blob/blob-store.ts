import type { Readable } from 'node:stream';

/** A byte range, both ends inclusive (as in HTTP `Range: bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The blob storage port: opaque keys (made by the server, never from user input) to immutable
 * bytes. Implementations: local disk under the data dir (local-store.ts) and S3-compatible object
 * storage (s3-store.ts). Everything streams; nothing holds a whole blob in memory.
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Store a finished local file under `key`; the file may be moved away (it is the caller's temp file). */
  putFile(key: string, filePath: string, size: number): Promise<void>;
  /** Store small bytes (thumbnails, converted previews). */
  putBuffer(key: string, bytes: Buffer): Promise<void>;
  /** Stream the blob, or a range of it. Rejects with `BlobMissing` when absent. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  has(key: string): Promise<boolean>;
  /** Remove the blob; absent is fine. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

export class BlobMissing extends Error {
  constructor(key: string) {
    super(`blob ${key} is missing`);
    this.name = 'BlobMissing';
  }
}

/** Keys are server-made: lowercase hex segments separated by '/', optional '.suffix'. */
export function checkKey(key: string): string {
  if (!/^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{16,128}(\.[a-z0-9]{1,16})?$/.test(key))
    throw new Error(`bad blob key ${key}`);
  return key;
}
