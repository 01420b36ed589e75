/**
 * The S3 blob store against a real S3-compatible server on loopback: s3rver, an S3 implementation
 * in JavaScript installed from npm (a dev dependency), so CI needs no binary download and no extra
 * service. It speaks the S3 REST API with SigV4, path-style buckets, Range GETs and HEAD.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- s3rver ships no type declarations
import S3rver from 's3rver';
import { clientId, http, makeUser, startServer, type TestServer, type TestUser } from './harness.ts';
import { download, group, png, tmpDataDir, upload } from './files-support.ts';
import { loadFilesConfig } from '../src/domain/files/files-config.ts';
import { purgeFiles } from '../src/jobs/purge-files.ts';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

describe('files on S3-compatible storage', () => {
  let s3: S3rverInstance;
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let clock = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-s3-'));

  beforeAll(async () => {
    s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: dir,
      configureBuckets: [{ name: 'enclave-files', configs: [] }],
    }) as S3rverInstance;
    const addr = await s3.run();
    const files = loadFilesConfig({
      ENCLAVE_BLOB_STORE: 's3',
      ENCLAVE_S3_ENDPOINT: `http://127.0.0.1:${addr.port}`,
      ENCLAVE_S3_BUCKET: 'enclave-files',
      ENCLAVE_S3_ACCESS_KEY: 'S3RVER',
      ENCLAVE_S3_SECRET_KEY: 'S3RVER',
      ENCLAVE_S3_PREFIX: 'blobs/',
      ENCLAVE_SOFFICE: 'off',
    });
    srv = await startServer({ now: () => clock, config: { dataDir: tmpDataDir(), files } });
    [alice, bob] = await Promise.all([makeUser(srv), makeUser(srv)]);
  });
  afterAll(async () => {
    await srv?.close();
    await s3?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores, dedups, serves ranges and thumbnails, and deletes through S3', async () => {
    expect(srv.app.deps.files.blobs.kind).toBe('s3');
    const bytes = crypto.randomBytes(300_000);
    const a = await upload(srv, alice, 'a.bin', bytes);
    const b = await upload(srv, bob, 'b.bin', bytes);
    const blobs = await srv.app.deps.store.db.selectFrom('file_blobs').selectAll().execute();
    expect(blobs).toHaveLength(1);
    expect(Number(blobs[0]!.refcount)).toBe(2);
    const key = blobs[0]!.storage_key;
    expect(fs.readdirSync(path.join(dir, 'enclave-files'), { recursive: true }).join('\n')).toContain(
      key.split('/')[2],
    );

    const g = await group(srv, alice, [bob]);
    const sent = await http(srv, 'POST', `/api/v1/files/${a}/send`, {
      token: alice.token,
      body: { conversationIds: [g], clientMsgId: clientId('s3') },
    });
    expect(sent.status).toBe(200);
    const full = await download(srv, bob.token, `/api/v1/files/${a}/content`);
    expect(full.bytes.equals(bytes)).toBe(true);
    const part = await download(srv, bob.token, `/api/v1/files/${a}/content`, { range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.bytes.equals(bytes.subarray(1000, 2000))).toBe(true);

    const img = await upload(srv, alice, 'pic.png', await png(500, 400, 3));
    const thumb = await download(srv, alice.token, `/api/v1/files/${img}/thumbnail`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');

    clock += 31 * 86_400_000;
    const r = await purgeFiles(srv.app.deps);
    expect(r.files).toBe(3);
    expect(r.blobs).toBe(2);
    expect(await srv.app.deps.files.blobs.has(key)).toBe(false);
    expect((await download(srv, bob.token, `/api/v1/files/${b}/content`)).status).toBe(404);
  });
});
