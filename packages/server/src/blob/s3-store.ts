import fs from 'node:fs';
import { Readable } from 'node:stream';
// The AWS SDK is loaded only when S3 storage is configured: importing it costs ~1 s of cold start.
import type * as S3 from '@aws-sdk/client-s3';
import { BlobMissing, checkKey, type BlobStore, type ByteRange } from './blob-store.ts';

export interface S3Options {
  endpoint: string | null;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most self-hosted S3-compatible servers need. */
  forcePathStyle: boolean;
  /** Key prefix inside the bucket. */
  prefix: string;
}

/** Blobs as objects in an S3-compatible bucket (inside the organisation's network). */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly ready: Promise<{ sdk: typeof S3; client: S3.S3Client }>;

  constructor(private readonly o: S3Options) {
    this.ready = import('@aws-sdk/client-s3').then((sdk) => ({ sdk, client: this.newClient(sdk) }));
    this.ready.catch(() => undefined); // reported by the first call that needs it
  }

  private newClient(sdk: typeof S3): S3.S3Client {
    const o = this.o;
    return new sdk.S3Client({
      region: o.region,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      forcePathStyle: o.forcePathStyle,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
      // Checksums on every request are an AWS default some S3-compatible servers reject.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private keyOf(key: string): string {
    return this.o.prefix + checkKey(key);
  }

  async putFile(key: string, filePath: string, size: number): Promise<void> {
    const { sdk, client } = await this.ready;
    await client.send(
      new sdk.PutObjectCommand({
        Bucket: this.o.bucket,
        Key: this.keyOf(key),
        Body: fs.createReadStream(filePath),
        ContentLength: size,
      }),
    );
  }

  async putBuffer(key: string, bytes: Buffer): Promise<void> {
    const { sdk, client } = await this.ready;
    await client.send(new sdk.PutObjectCommand({ Bucket: this.o.bucket, Key: this.keyOf(key), Body: bytes }));
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const { sdk, client } = await this.ready;
    try {
      const r = await client.send(
        new sdk.GetObjectCommand({
          Bucket: this.o.bucket,
          Key: this.keyOf(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(r.Body instanceof Readable)) throw new Error('S3 body is not a Node stream');
      return r.Body;
    } catch (e) {
      if (missing(sdk, e)) throw new BlobMissing(key);
      throw e;
    }
  }

  async has(key: string): Promise<boolean> {
    const { sdk, client } = await this.ready;
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.o.bucket, Key: this.keyOf(key) }));
      return true;
    } catch (e) {
      if (missing(sdk, e)) return false;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    const { sdk, client } = await this.ready;
    await client.send(new sdk.DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.keyOf(key) }));
  }

  async close(): Promise<void> {
    const r = await this.ready.catch(() => null);
    r?.client.destroy();
  }
}

function missing(sdk: typeof S3, e: unknown): boolean {
  return (
    e instanceof sdk.S3ServiceException &&
    (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata.httpStatusCode === 404)
  );
}
