import { EnclaveError, type ConversationId } from '@enclave/protocol';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newClientId } from './ids.ts';
import { FileOutboxStore } from './outbox-file.ts';
import { Outbox, type OutboxEntry } from './outbox.ts';
import { C1, C2 } from './test-factories.ts';

function sendEntry(conversationId: ConversationId, text: string) {
  const clientMsgId = newClientId();
  return {
    id: clientMsgId,
    op: 'message.send' as const,
    conversationId,
    createdAt: 1,
    input: { conversationId, clientMsgId, content: { text } },
  };
}

/** An execute function whose calls stay pending until the test settles them. */
function controlledExecute() {
  const calls: { entry: OutboxEntry; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  const execute = (entry: OutboxEntry) =>
    new Promise<unknown>((resolve, reject) => {
      calls.push({ entry, resolve, reject });
    });
  const texts = () => calls.map((c) => (c.entry.op === 'message.send' ? c.entry.input.content.text : c.entry.op));
  return { calls, execute, texts };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await tick();
  expect(cond()).toBe(true);
}

describe('Outbox with FileOutboxStore', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'enclave-outbox-'));
    file = path.join(dir, 'nested', 'outbox.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }); // a write may still be landing
  });

  it('survives a restart with the exact inputs, ids included, and leaves no temp files', async () => {
    const first = new Outbox({ store: new FileOutboxStore(file), execute: async () => ({}) });
    const a = sendEntry(C1, 'one');
    const b = sendEntry(C1, 'two');
    await first.enqueue(a);
    await first.enqueue(b);
    expect(await readdir(path.dirname(file))).toEqual(['outbox.json']);

    const { calls, execute, texts } = controlledExecute();
    const second = new Outbox({ store: new FileOutboxStore(file), execute });
    const loaded = await second.load();
    expect(loaded.map((e) => e.input)).toEqual([a.input, b.input]);
    second.resume();
    await until(() => calls.length === 1);
    expect(calls[0]!.entry.input).toEqual(a.input);
    calls[0]!.resolve({});
    await until(() => calls.length === 2);
    expect(texts()).toEqual(['one', 'two']);
    calls[1]!.resolve({});
    await until(() => second.entries.length === 0);
    await second.flushed();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual([]);
  });

  it('keeps one request in flight per conversation and runs conversations in parallel', async () => {
    const { calls, execute, texts } = controlledExecute();
    const outbox = new Outbox({ store: new FileOutboxStore(file), execute });
    for (const [c, t] of [
      [C1, 'a1'],
      [C1, 'a2'],
      [C2, 'b1'],
      [C1, 'a3'],
    ] as const) {
      await outbox.enqueue(sendEntry(c, t));
    }
    outbox.resume();
    await until(() => calls.length === 2);
    expect(texts()).toEqual(['a1', 'b1']);
    calls[0]!.resolve({});
    await until(() => calls.length === 3);
    expect(texts()).toEqual(['a1', 'b1', 'a2']);
    calls[2]!.resolve({});
    await until(() => calls.length === 4);
    expect(texts()[3]).toBe('a3');
  });

  it('retries a retryable error with the same input, and a disconnect keeps the entry', async () => {
    const { calls, execute } = controlledExecute();
    const outbox = new Outbox({ store: new FileOutboxStore(file), execute, backoff: { baseMs: 20 } });
    const e = sendEntry(C1, 'x');
    await outbox.enqueue(e);
    outbox.resume();
    await until(() => calls.length === 1);
    calls[0]!.reject(new EnclaveError('rate_limited'));
    await until(() => calls.length === 2);
    outbox.pause();
    calls[1]!.reject(new EnclaveError('server_busy', 'connection lost'));
    await tick();
    expect(calls).toHaveLength(2);
    expect(outbox.entries).toHaveLength(1);
    outbox.resume();
    await until(() => calls.length === 3);
    expect(calls.map((c) => c.entry.input)).toEqual([e.input, e.input, e.input]);
  });

  it('marks a non-retryable error failed, moves on, persists it, and retry() resends it', async () => {
    const { calls, execute, texts } = controlledExecute();
    const outbox = new Outbox({ store: new FileOutboxStore(file), execute });
    const failed: string[] = [];
    outbox.on('failed', ({ entry, error }) => failed.push(`${entry.id}:${error.code}`));
    const a = sendEntry(C1, 'a');
    await outbox.enqueue(a);
    await outbox.enqueue(sendEntry(C1, 'b'));
    outbox.resume();
    await until(() => calls.length === 1);
    calls[0]!.reject(new EnclaveError('forbidden'));
    await until(() => calls.length === 2);
    expect(texts()).toEqual(['a', 'b']);
    expect(failed).toEqual([`${a.id}:forbidden`]);
    calls[1]!.resolve({});
    await until(() => outbox.entries.length === 1);
    await outbox.flushed();
    const stored = (await new FileOutboxStore(file).load())[0]!;
    expect(stored).toMatchObject({ id: a.id, state: 'failed', error: { code: 'forbidden' } });

    expect(await outbox.retry(a.id)).toBe(true);
    await until(() => calls.length === 3);
    expect(calls[2]!.entry.input).toEqual(a.input);
    calls[2]!.resolve({});
    await until(() => outbox.entries.length === 0);
  });

  it('does nothing while paused', async () => {
    const { calls, execute } = controlledExecute();
    const outbox = new Outbox({ store: new FileOutboxStore(file), execute });
    await outbox.enqueue(sendEntry(C1, 'a'));
    await tick();
    expect(calls).toHaveLength(0);
  });
});
