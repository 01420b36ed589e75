import { EnclaveError, type ConversationId, type ErrorBody, type OpInput } from '@enclave/protocol';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { TypedEmitter } from './emitter.ts';

/** The writes the outbox carries: each has a client-made id, so a resend never duplicates. */
export type OutboxOp = 'message.send' | 'message.edit' | 'message.react' | 'message.recall';

interface EntryBase<N extends OutboxOp> {
  /** `clientMsgId` of a send, `clientOpId` of the others. */
  id: string;
  op: N;
  /** The exact op input, ids included: a resend after a reload sends the same bytes. */
  input: OpInput<N>;
  conversationId: ConversationId;
  createdAt: number;
  attempts: number;
  state: 'queued' | 'failed';
  error: ErrorBody | null;
}
export type OutboxEntry = { [N in OutboxOp]: EntryBase<N> }[OutboxOp];

/** Where the outbox persists; `save` replaces everything (the outbox is small). */
export interface OutboxStore {
  load(): Promise<OutboxEntry[]>;
  save(entries: readonly OutboxEntry[]): Promise<void>;
}

/** Keeps entries in memory only (tests, or environments without storage). */
export class MemoryOutboxStore implements OutboxStore {
  private entries: OutboxEntry[] = [];
  async load(): Promise<OutboxEntry[]> {
    return structuredClone(this.entries);
  }
  async save(entries: readonly OutboxEntry[]): Promise<void> {
    this.entries = structuredClone([...entries]);
  }
}

export interface OutboxEvents {
  /** The entry list changed (queued, sent, failed, retried, discarded). */
  changed: readonly OutboxEntry[];
  sent: { entry: OutboxEntry; result: unknown };
  /** A non-retryable error: the entry stays, marked failed, until `retry` or `discard`. */
  failed: { entry: OutboxEntry; error: EnclaveError };
  /** Persisting failed; the entry is still sent from memory. */
  'store-error': unknown;
}

export interface OutboxOptions {
  store: OutboxStore;
  /** Send one entry (over the socket); rejects with EnclaveError. */
  execute: (entry: OutboxEntry) => Promise<unknown>;
  backoff?: BackoffOptions;
}

function toEnclaveError(err: unknown): EnclaveError {
  if (err instanceof EnclaveError) return err;
  // Anything else (a network failure, a thrown TypeError in a transport) is treated as transient.
  return new EnclaveError('internal_error', err instanceof Error ? err.message : String(err));
}

/**
 * Writes waiting for the server, persisted so they survive a reload or restart. While running
 * (connection ready) each conversation sends its entries in order, one in flight at a time;
 * conversations proceed in parallel. Retryable errors keep the entry and retry with backoff.
 */
export class Outbox extends TypedEmitter<OutboxEvents> {
  private list: OutboxEntry[] = [];
  private running = false;
  private readonly active = new Set<ConversationId>();
  private readonly sleepers = new Map<ConversationId, { timer: ReturnType<typeof setTimeout>; wake: () => void }>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: OutboxOptions) {
    super();
  }

  get entries(): readonly OutboxEntry[] {
    return this.list;
  }

  /** Read persisted entries (call once at start); entries queued meanwhile stay after them. */
  async load(): Promise<readonly OutboxEntry[]> {
    const stored = await this.options.store.load();
    const ids = new Set(this.list.map((e) => e.id));
    this.list = [...stored.filter((e) => !ids.has(e.id)), ...this.list];
    this.emit('changed', this.list);
    this.kick();
    return this.list;
  }

  /**
   * Queue a write and persist it before resolving. Fires `changed`, later `sent` or `failed`.
   * Throws what the store throws (the entry is still queued in memory).
   */
  async enqueue(entry: Omit<OutboxEntry, 'attempts' | 'state' | 'error'>): Promise<void> {
    this.list = [...this.list, { ...entry, attempts: 0, state: 'queued', error: null } as OutboxEntry];
    const saved = this.persist();
    this.kick();
    await saved;
  }

  /** Start sending (the connection is ready). */
  resume(): void {
    this.running = true;
    this.kick();
  }

  /** Stop sending (disconnected); entries in flight come back when their request fails. */
  pause(): void {
    this.running = false;
    for (const s of this.sleepers.values()) s.wake();
  }

  /** Requeue a failed entry. Returns false when no failed entry has that id. Fires `changed`. */
  async retry(id: string): Promise<boolean> {
    const entry = this.list.find((e) => e.id === id);
    if (!entry || entry.state !== 'failed') return false;
    this.replace({ ...entry, state: 'queued', error: null, attempts: 0 });
    const saved = this.persist();
    this.kick();
    await saved;
    return true;
  }

  /** Drop an entry (a failed send the user gave up on). Fires `changed`. */
  async discard(id: string): Promise<boolean> {
    if (!this.list.some((e) => e.id === id)) return false;
    this.list = this.list.filter((e) => e.id !== id);
    await this.persist();
    return true;
  }

  /** Resolves once every persist started so far has finished. */
  flushed(): Promise<void> {
    return this.saving;
  }

  private kick(): void {
    if (!this.running) return;
    for (const e of this.list) {
      if (e.state === 'queued' && !this.active.has(e.conversationId)) void this.drain(e.conversationId);
    }
  }

  /** Send one conversation's queued entries in order; the only loop for that conversation. */
  private async drain(conversationId: ConversationId): Promise<void> {
    this.active.add(conversationId);
    const backoff = new Backoff(this.options.backoff);
    try {
      while (this.running) {
        const entry = this.list.find((e) => e.conversationId === conversationId && e.state === 'queued');
        if (!entry) break;
        try {
          const result = await this.options.execute(entry);
          this.list = this.list.filter((e) => e.id !== entry.id);
          this.persistQuietly();
          backoff.reset();
          this.emit('sent', { entry, result });
        } catch (err) {
          const error = toEnclaveError(err);
          if (error.retryable) {
            this.replace({ ...entry, attempts: entry.attempts + 1 });
            if (this.running) await this.sleep(conversationId, backoff.next());
            continue;
          }
          const failed = { ...entry, state: 'failed', error: error.toBody() } as OutboxEntry;
          this.replace(failed);
          this.persistQuietly();
          this.emit('failed', { entry: failed, error });
        }
      }
    } finally {
      this.active.delete(conversationId);
    }
  }

  private sleep(conversationId: ConversationId, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(conversationId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.set(conversationId, { timer, wake });
    });
  }

  private replace(entry: OutboxEntry): void {
    this.list = this.list.map((e) => (e.id === entry.id ? entry : e));
  }

  /** Persist without waiting: a failure is reported by `store-error` and retried by the next save. */
  private persistQuietly(): void {
    this.persist().catch(() => {});
  }

  /** Save a snapshot after the previous save (saves never interleave) and announce the change. */
  private persist(): Promise<void> {
    const snapshot = this.list;
    this.emit('changed', snapshot);
    this.saving = this.saving.then(
      () => this.options.store.save(snapshot),
      () => this.options.store.save(snapshot),
    );
    return this.saving.catch((err: unknown) => {
      this.emit('store-error', err);
      throw err;
    });
  }
}
