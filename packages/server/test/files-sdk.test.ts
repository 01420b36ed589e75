import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeClient, type EnclaveClient, type TransferProgress } from '@enclave/sdk/node';
import { EnclaveError, type ConversationId } from '@enclave/protocol';
import { http, makeUser, startServer, type TestServer, type TestUser } from './harness.ts';
import { tmpDataDir } from './files-support.ts';

async function until(cond: () => boolean, timeoutMs = 15_000, what = 'condition') {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('files through the SDK (tus-js-client end to end)', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const clients: EnclaveClient[] = [];
  beforeAll(async () => {
    srv = await startServer({ config: { dataDir: tmpDataDir() } });
    [alice, bob] = await Promise.all([makeUser(srv), makeUser(srv)]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await srv?.close();
  });

  it('uploads with progress, pauses, resumes from the server offset, sends, and the peer downloads', async () => {
    const conv = (
      await http<{ id: ConversationId }>(srv, 'POST', '/api/v1/conversations/direct', {
        token: alice.token,
        body: { userId: bob.id },
      })
    ).body.id;
    const a = createNodeClient({ baseUrl: srv.url, token: alice.token });
    const b = createNodeClient({ baseUrl: srv.url, token: bob.token });
    clients.push(a, b);
    await b.connect();

    const bytes = crypto.randomBytes(4 * 1024 * 1024);
    const seen: TransferProgress[] = [];
    let paused = false;
    const up = a.upload({
      file: bytes,
      name: '设计稿 v2.bin',
      chunkSize: 256 * 1024,
      onProgress: (p) => {
        seen.push(p);
        if (!paused && p.sent >= 1024 * 1024) {
          paused = true;
          void up.pause();
        }
      },
    });
    await up.start();
    await until(() => paused, 15_000, 'pause');
    await new Promise((r) => setTimeout(r, 300));
    const head = await fetch(srv.url + new URL(up.url!, srv.url).pathname, {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0', authorization: `Bearer ${alice.token}` },
    });
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(bytes.length);

    await up.start(); // resume
    const fileId = await up.done;
    const last = seen[seen.length - 1]!;
    expect(last.sent).toBe(bytes.length);
    expect(last.total).toBe(bytes.length);
    expect(seen.some((p) => p.bytesPerSecond > 0 && p.etaSeconds !== null)).toBe(true);

    const sent = await a.sendFile(fileId, [conv]);
    expect(sent.items[0]!.conversationId).toBe(conv);
    await until(
      () => (b.state.conversations[conv]?.messages ?? []).some((m) => m.kind === 'file' && m.file?.id === fileId),
      15_000,
      'file message at the peer',
    );
    const got = await fetch(b.fileUrls(fileId).download, { headers: { authorization: `Bearer ${bob.token}` } });
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('reports policy and name refusals as EnclaveErrors naming the rule', async () => {
    const a = createNodeClient({ baseUrl: srv.url, token: alice.token });
    clients.push(a);
    const bad = a.upload({ file: Buffer.from('x'), name: '../../etc/passwd' });
    await bad.start();
    await expect(bad.done).rejects.toMatchObject({ code: 'file_name_invalid' });
    const exe = Buffer.alloc(512);
    exe.write('MZ', 0, 'latin1');
    exe.writeUInt32LE(0x80, 0x3c);
    exe.write('PE\0\0', 0x80, 'latin1');
    await http(srv, 'PATCH', '/api/v1/admin/file-policy', {
      token: srv.adminToken,
      body: { blockedTypes: ['application/x-msdownload'] },
    });
    const disguised = a.upload({ file: exe, name: 'photo.jpg', type: 'image/jpeg' });
    await disguised.start();
    const err = await disguised.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnclaveError);
    expect(err).toMatchObject({ code: 'file_type_not_allowed', details: { rule: 'blockedTypes' } });
  });
});
