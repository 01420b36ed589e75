import { describe, expect, it, vi } from 'vitest';
import { EnclaveError, type ConversationId, type FileId } from '@enclave/protocol';
import type { TransferProgress } from '@enclave/sdk';
import { Uploads } from './uploads.ts';

const conv = 'c_1' as ConversationId;

/** A stand-in for the client: file.check, a controllable upload, and sendFile. */
function fakeClient(opts: { refuse?: EnclaveError; sendFails?: number } = {}) {
  let sendFails = opts.sendFails ?? 0;
  const uploads: {
    finish: (id: string) => void;
    fail: (e: unknown) => void;
    progress: (p: TransferProgress) => void;
    chunk: (confirmed: number) => void;
    started: number;
    paused: number;
  }[] = [];
  const client = {
    call: vi.fn(async () => {
      if (opts.refuse) throw opts.refuse;
      return { ok: true };
    }),
    upload: vi.fn((o: { onProgress?: (p: TransferProgress) => void; onChunkComplete?: (n: number) => void }) => {
      let resolve!: (id: FileId) => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<FileId>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const u = {
        finish: (id: string) => resolve(id as FileId),
        fail: (e: unknown) => reject(e),
        progress: (p: TransferProgress) => o.onProgress?.(p),
        chunk: (confirmed: number) => o.onChunkComplete?.(confirmed),
        started: 0,
        paused: 0,
      };
      uploads.push(u);
      return {
        done,
        start: async () => void u.started++,
        pause: async () => void u.paused++,
        cancel: async () => reject(new EnclaveError('bad_request', 'cancelled')),
      };
    }),
    sendFile: vi.fn(async () => {
      if (sendFails-- > 0) throw new EnclaveError('server_busy');
      return { items: [] };
    }),
  };
  return { client, uploads };
}

const file = (size = 10) => new File([new Uint8Array(size)], 'a.bin', { type: 'application/octet-stream' });
const tick = () => new Promise((r) => setTimeout(r, 0));

function memoryStorage() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

describe('uploads', () => {
  it('checks, uploads, then sends once complete, and leaves the list', async () => {
    const { client, uploads } = fakeClient();
    const u = new Uploads(client as never);
    const [id] = u.add([file()], [conv]);
    expect(u.getSnapshot()[0]!.state).toBe('checking');
    await tick();
    expect(u.getSnapshot()[0]!.state).toBe('uploading');
    uploads[0]!.progress({ sent: 5, total: 10, bytesPerSecond: 5, etaSeconds: 1 });
    expect(u.getSnapshot()[0]).toMatchObject({ id, sent: 5, etaSeconds: 1 });
    expect(client.sendFile).not.toHaveBeenCalled();
    uploads[0]!.finish('f_1');
    await tick();
    expect(client.sendFile).toHaveBeenCalledWith('f_1', [conv], expect.any(String));
    expect(u.getSnapshot()).toEqual([]);
  });

  it('shows a policy refusal and never uploads', async () => {
    const refusal = new EnclaveError('file_too_large', 'big', { rule: 'maxBytes', maxBytes: 5 });
    const { client } = fakeClient({ refuse: refusal });
    const u = new Uploads(client as never);
    u.add([file()], [conv]);
    await tick();
    expect(u.getSnapshot()[0]).toMatchObject({ state: 'refused', error: refusal });
    expect(client.upload).not.toHaveBeenCalled();
  });

  it('pauses at what the server holds and resumes from there', async () => {
    const { client, uploads } = fakeClient();
    const u = new Uploads(client as never);
    const [id] = u.add([file()], [conv]);
    await tick();
    uploads[0]!.chunk(4);
    uploads[0]!.progress({ sent: 6, total: 10, bytesPerSecond: 4, etaSeconds: 1 });
    u.pause(id!);
    expect(u.getSnapshot()[0]).toMatchObject({ state: 'paused', sent: 4 });
    expect(uploads[0]!.paused).toBe(1);
    u.resume(id!);
    expect(u.getSnapshot()[0]).toMatchObject({ state: 'uploading', sent: 4 });
    expect(uploads[0]!.started).toBe(2);
  });

  it('retries a failed send without uploading again', async () => {
    const { client, uploads } = fakeClient({ sendFails: 1 });
    const u = new Uploads(client as never);
    const [id] = u.add([file()], [conv]);
    await tick();
    uploads[0]!.finish('f_2');
    await tick();
    expect(u.getSnapshot()[0]!.state).toBe('failed');
    u.retry(id!);
    await tick();
    expect(client.upload).toHaveBeenCalledTimes(1);
    expect(client.sendFile).toHaveBeenCalledTimes(2);
    expect(u.getSnapshot()).toEqual([]);
  });

  it('retries failed transfers when the network is back', async () => {
    const { client, uploads } = fakeClient();
    const u = new Uploads(client as never);
    u.add([file()], [conv]);
    await tick();
    uploads[0]!.fail(new EnclaveError('server_busy', 'offline'));
    await tick();
    expect(u.getSnapshot()[0]!.state).toBe('failed');
    u.retryFailed();
    await tick();
    expect(u.getSnapshot()[0]!.state).toBe('uploading');
    expect(client.upload).toHaveBeenCalledTimes(2);
  });

  it('cancel removes the transfer and sends nothing', async () => {
    const { client } = fakeClient();
    const u = new Uploads(client as never);
    const [id] = u.add([file()], [conv]);
    await tick();
    u.cancel(id!);
    await tick();
    expect(u.getSnapshot()).toEqual([]);
    expect(client.sendFile).not.toHaveBeenCalled();
  });

  it('remembers unfinished uploads across a reload and resumes with the file chosen again', async () => {
    const storage = memoryStorage();
    const first = fakeClient();
    const u1 = new Uploads(first.client as never, storage, 'k');
    u1.add([file(10)], [conv]);
    await tick();
    const second = fakeClient();
    const u2 = new Uploads(second.client as never, storage, 'k');
    const t = u2.getSnapshot()[0]!;
    expect(t).toMatchObject({ state: 'interrupted', name: 'a.bin', size: 10, conversationIds: [conv] });
    u2.resumeWith(t.id, file(10));
    await tick();
    expect(u2.getSnapshot()[0]!.state).toBe('uploading');
    second.uploads[0]!.finish('f_3');
    await tick();
    expect(second.client.sendFile).toHaveBeenCalledWith('f_3', [conv], expect.any(String));
    expect(storage.getItem('k')).toBeNull();
  });
});
