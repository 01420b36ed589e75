import type { OutboxEntry, OutboxStore } from './outbox.ts';

const STORE = 'outbox';
const KEY = 'entries';

function promised<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/**
 * The outbox in IndexedDB (browser): one record holding the whole list, written in one
 * readwrite transaction, so a reload sees either the old or the new list.
 */
export class IndexedDbOutboxStore implements OutboxStore {
  private db: Promise<IDBDatabase> | null = null;

  /** `name` separates accounts sharing a browser profile (e.g. `enclave-outbox-<userId>`). */
  constructor(
    private readonly name = 'enclave-outbox',
    private readonly factory: IDBFactory = globalThis.indexedDB,
  ) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = this.factory.open(this.name, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('cannot open IndexedDB'));
    });
    return this.db;
  }

  async load(): Promise<OutboxEntry[]> {
    const db = await this.open();
    const value = await promised(db.transaction(STORE, 'readonly').objectStore(STORE).get(KEY));
    return Array.isArray(value) ? (value as OutboxEntry[]) : [];
  }

  async save(entries: readonly OutboxEntry[]): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put([...entries], KEY);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted'));
    });
  }
}
