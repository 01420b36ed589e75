import crypto from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs';
import type { FilePolicy } from '@enclave/protocol';
import type { BlobStore } from '../../blob/blob-store.ts';
import { LocalBlobStore } from '../../blob/local-store.ts';
import { S3BlobStore } from '../../blob/s3-store.ts';
import type { Config } from '../../config.ts';
import type { Store } from '../../store/store.ts';
import { insertIgnore } from '../../store/dialect.ts';

const POLICY_TTL_MS = 5_000;

/**
 * What the files domain shares: the blob store, the upload and conversion work dirs, the HMAC key
 * (one per installation, kept in the database so every node of a cluster agrees) and the policy.
 */
export class FileService {
  readonly blobs: BlobStore;
  readonly uploadDir: string;
  readonly workDir: string;
  private key: Promise<Buffer> | null = null;
  private policyCache: { at: number; policy: FilePolicy } | null = null;

  constructor(
    private readonly store: Store,
    readonly config: Config,
    blobs?: BlobStore,
  ) {
    const f = config.files;
    this.blobs =
      blobs ??
      (f.blob.kind === 's3' ? new S3BlobStore(f.blob) : new LocalBlobStore(path.join(config.dataDir, 'blobs')));
    this.uploadDir = path.join(config.dataDir, 'uploads');
    this.workDir = path.join(config.dataDir, 'convert');
    fs.mkdirSync(this.uploadDir, { recursive: true });
    fs.mkdirSync(this.workDir, { recursive: true });
  }

  /** HMAC(server key, SHA-256 hex): the dedup key; equal content is not provable without the key. */
  async blobKey(sha256Hex: string): Promise<string> {
    const key = await this.hmacKey();
    return crypto.createHmac('sha256', key).update(sha256Hex).digest('hex');
  }

  private hmacKey(): Promise<Buffer> {
    this.key ??= (async () => {
      await insertIgnore(this.store.kind, this.store.db, 'file_settings', [
        { name: 'hmac_key', value: crypto.randomBytes(32).toString('base64') },
      ]);
      const row = await this.store.db
        .selectFrom('file_settings')
        .select('value')
        .where('name', '=', 'hmac_key')
        .executeTakeFirstOrThrow();
      return Buffer.from(row.value, 'base64');
    })().catch((e: unknown) => {
      this.key = null;
      throw e;
    });
    return this.key;
  }

  async policy(now: number): Promise<FilePolicy> {
    if (this.policyCache && now - this.policyCache.at < POLICY_TTL_MS) return this.policyCache.policy;
    const row = await this.store.reader
      .selectFrom('file_settings')
      .select('value')
      .where('name', '=', 'policy')
      .executeTakeFirst();
    const stored = row ? (JSON.parse(row.value) as Partial<FilePolicy>) : {};
    const policy: FilePolicy = {
      maxBytes: stored.maxBytes ?? this.config.files.defaultMaxBytes,
      allowedTypes: stored.allowedTypes ?? [],
      blockedTypes: stored.blockedTypes ?? [],
    };
    this.policyCache = { at: now, policy };
    return policy;
  }

  forgetPolicy(): void {
    this.policyCache = null;
  }

  /** A fresh storage key for a blob row: random, so a re-created blob never collides with one being deleted. */
  newStorageKey(): string {
    const r = crypto.randomBytes(20).toString('hex');
    return `${r.slice(0, 2)}/${r.slice(2, 4)}/${r}`;
  }
}
