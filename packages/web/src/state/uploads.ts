import { EnclaveError, fileLimits, type ConversationId, type FileId } from '@enclave/protocol';
import { newClientId, type EnclaveClient, type FileUpload, type TransferProgress } from '@enclave/sdk';
import { isRefusal } from './file-errors.ts';

/**
 * PATCH size of uploads from the web client. Smaller than the SDK's default so that a dropped
 * connection loses little and the progress bar moves steadily; tus resumes from the server's offset.
 */
export const UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * checking — asking the server whether the policy allows it; refused — the policy said no (nothing
 * was uploaded); uploading / paused; sending — uploaded, the message is being sent; failed — the
 * network or the server failed, retry continues; interrupted — left unfinished before the page was
 * reloaded: choosing the same file again continues from where it stopped.
 */
export type TransferState = 'checking' | 'refused' | 'uploading' | 'paused' | 'sending' | 'failed' | 'interrupted';

export interface Transfer {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly conversationIds: readonly ConversationId[];
  readonly state: TransferState;
  readonly sent: number;
  readonly bytesPerSecond: number;
  readonly etaSeconds: number | null;
  readonly error: unknown;
  /** Folders: how many files it holds and how many are on the server. */
  readonly folder?: { readonly count: number; readonly done: number };
}

/** A file of a folder being sent: its path inside the folder ("sub/a.txt"). */
export interface FolderFile {
  file: File;
  path: string;
}

/**
 * Why a folder cannot be sent as chosen (too many files, too deep, a path too long, or empty),
 * before anything is uploaded; null when it can. The error names the rule and the limit.
 */
export function folderProblem(parts: readonly FolderFile[]): EnclaveError | null {
  if (parts.length === 0) return new EnclaveError('file_name_invalid', 'The folder is empty.', { rule: 'folderEmpty' });
  if (parts.length > fileLimits.maxFolderEntries)
    return new EnclaveError('file_name_invalid', 'The folder holds too many files.', {
      rule: 'folderEntries',
      max: fileLimits.maxFolderEntries,
      count: parts.length,
    });
  for (const p of parts) {
    if (p.path.split('/').length > fileLimits.maxPathDepth)
      return new EnclaveError('file_name_invalid', 'The folder is nested too deeply.', {
        rule: 'pathDepth',
        max: fileLimits.maxPathDepth,
        path: p.path,
      });
    if (p.path.length > fileLimits.maxPathChars)
      return new EnclaveError('file_name_invalid', 'A path inside the folder is too long.', {
        rule: 'pathChars',
        max: fileLimits.maxPathChars,
        path: p.path,
      });
  }
  return null;
}

type UploadClient = Pick<EnclaveClient, 'call' | 'upload' | 'sendFile'>;

interface Entry {
  t: Transfer;
  file: Blob | null;
  type: string;
  upload: FileUpload | null;
  fileId: FileId | null;
  clientMsgId: string;
  cancelled: boolean;
  /** Bytes the server has confirmed: a pause shows this, and resuming continues from it. */
  confirmed: number;
  /** Folders: the files with their paths, the folder once created, and each file's id once uploaded. */
  parts: FolderFile[] | null;
  folderId: FileId | null;
  partIds: (FileId | null)[];
}

/** A new entry: nothing uploaded or sent yet. */
function newEntry(t: Transfer, file: Blob | null, parts: FolderFile[] | null = null): Entry {
  return {
    t,
    file,
    type: file?.type ?? '',
    upload: null,
    fileId: null,
    clientMsgId: newClientId(),
    cancelled: false,
    confirmed: 0,
    parts,
    folderId: null,
    partIds: parts ? parts.map(() => null) : [],
  };
}

interface Persisted {
  id: string;
  name: string;
  size: number;
  conversationIds: ConversationId[];
}

/**
 * The uploads of one signed-in user: check against the policy, upload with tus (pause, resume,
 * cancel, automatic retries on network errors), then send the message — only once the upload is
 * complete, so recipients never see half a file. Unfinished uploads are remembered across a page
 * reload; choosing the same file again resumes it.
 */
export class Uploads {
  private readonly entries = new Map<string, Entry>();
  private snapshot: readonly Transfer[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly client: UploadClient,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null = null,
    private readonly storageKey = 'enclave.uploads',
    private readonly chunkSize = UPLOAD_CHUNK_BYTES,
  ) {
    for (const p of this.loadPersisted())
      this.entries.set(
        p.id,
        newEntry({ ...p, state: 'interrupted', sent: 0, bytesPerSecond: 0, etaSeconds: null, error: null }, null),
      );
    this.publish(false);
  }

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  readonly getSnapshot = (): readonly Transfer[] => this.snapshot;

  /** Upload files and send each to the conversations once complete; returns the transfers' ids. */
  add(files: readonly File[], conversationIds: readonly ConversationId[]): string[] {
    return files.map((file) => {
      const id = newClientId();
      this.entries.set(
        id,
        newEntry(
          {
            id,
            name: file.name,
            size: file.size,
            conversationIds,
            state: 'checking',
            sent: 0,
            bytesPerSecond: 0,
            etaSeconds: null,
            error: null,
          },
          file,
        ),
      );
      this.publish();
      void this.check(id);
      return id;
    });
  }

  /**
   * Send a folder: one transfer for all its files. Its limits (files, depth, path length) are
   * checked before anything is uploaded; then every file is checked against the policy, the folder
   * is created, each file uploaded into it with its path, and the folder sent once all are done.
   */
  addFolder(name: string, parts: readonly FolderFile[], conversationIds: readonly ConversationId[]): string {
    const id = newClientId();
    const problem = folderProblem(parts);
    this.entries.set(
      id,
      newEntry(
        {
          id,
          name,
          size: parts.reduce((n, p) => n + p.file.size, 0),
          conversationIds,
          state: problem ? 'refused' : 'checking',
          sent: 0,
          bytesPerSecond: 0,
          etaSeconds: null,
          error: problem,
          folder: { count: parts.length, done: 0 },
        },
        null,
        [...parts],
      ),
    );
    this.publish();
    if (!problem) void this.check(id);
    return id;
  }

  pause(id: string): void {
    const e = this.entries.get(id);
    if (!e?.upload || e.t.state !== 'uploading') return;
    this.set(e, { state: 'paused', sent: e.confirmed, bytesPerSecond: 0, etaSeconds: null });
    void e.upload.pause();
  }

  resume(id: string): void {
    const e = this.entries.get(id);
    if (!e?.upload || e.t.state !== 'paused') return;
    this.set(e, { state: 'uploading' });
    e.upload.start().catch((err: unknown) => this.fail(e, err));
  }

  cancel(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.cancelled = true;
    this.entries.delete(id);
    this.publish();
    if (e.upload && !e.fileId) void e.upload.cancel().catch(() => undefined);
  }

  /** After a failure: send again when the file is on the server, otherwise continue the upload. */
  retry(id: string): void {
    const e = this.entries.get(id);
    if (!e || e.t.state !== 'failed') return;
    if (e.fileId) void this.send(e);
    else void this.check(id);
  }

  /** When the network is back: retry every failed transfer (refusals stay refused). */
  retryFailed(): void {
    for (const e of [...this.entries.values()]) if (e.t.state === 'failed') this.retry(e.t.id);
  }

  /** Continue an upload interrupted by a page reload with the file chosen again. */
  resumeWith(id: string, file: File): void {
    const e = this.entries.get(id);
    if (!e || e.t.state !== 'interrupted') return;
    e.file = file;
    e.type = file.type;
    this.set(e, { name: file.name, size: file.size, state: 'checking', error: null });
    void this.check(id);
  }

  /** Remove a refused or interrupted transfer from the list. */
  dismiss(id: string): void {
    if (this.entries.delete(id)) this.publish();
  }

  private async check(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (e?.parts) return this.uploadFolder(e, e.parts);
    if (!e?.file) return;
    this.set(e, { state: 'checking', error: null });
    try {
      await this.client.call('file.check', { name: e.t.name, size: e.t.size, type: e.type });
    } catch (err) {
      this.fail(e, err);
      return;
    }
    if (e.cancelled) return;
    const upload = this.client.upload({
      file: e.file,
      name: e.t.name,
      ...(e.type ? { type: e.type } : {}),
      chunkSize: this.chunkSize,
      onProgress: (p: TransferProgress) => {
        if (e.cancelled || e.t.state !== 'uploading') return;
        this.set(e, { sent: p.sent, bytesPerSecond: p.bytesPerSecond, etaSeconds: p.etaSeconds }, false);
      },
      onChunkComplete: (confirmed: number) => {
        e.confirmed = confirmed;
      },
    });
    e.upload = upload;
    this.set(e, { state: 'uploading' });
    try {
      await upload.start();
      e.fileId = await upload.done;
    } catch (err) {
      if (!e.cancelled) this.fail(e, err);
      return;
    }
    if (e.cancelled) return;
    this.set(e, { sent: e.t.size });
    await this.send(e);
  }

  private async uploadFolder(e: Entry, parts: FolderFile[]): Promise<void> {
    this.set(e, { state: 'checking', error: null });
    try {
      // The policy first, for every file not yet uploaded: a refusal stops the folder before a byte moves.
      const todo = parts.filter((_, i) => !e.partIds[i]);
      for (let i = 0; i < todo.length; i += 8)
        await Promise.all(
          todo
            .slice(i, i + 8)
            .map((p) => this.client.call('file.check', { name: p.file.name, size: p.file.size, type: p.file.type })),
        );
      if (e.cancelled) return;
      e.folderId ??= (await this.client.call('folder.create', { name: e.t.name })).id;
    } catch (err) {
      this.fail(e, err);
      return;
    }
    const sizeBefore = (n: number) => parts.slice(0, n).reduce((s, p) => s + p.file.size, 0);
    for (let i = 0; i < parts.length; i++) {
      if (e.partIds[i]) continue;
      if (e.cancelled) return;
      const part = parts[i]!;
      const base = sizeBefore(i);
      const upload = this.client.upload({
        file: part.file,
        name: part.file.name,
        ...(part.file.type ? { type: part.file.type } : {}),
        folderId: e.folderId,
        path: part.path,
        chunkSize: this.chunkSize,
        onProgress: (p: TransferProgress) => {
          if (e.cancelled || e.t.state !== 'uploading') return;
          const sent = base + p.sent;
          const rate = p.bytesPerSecond;
          this.set(e, { sent, bytesPerSecond: rate, etaSeconds: rate > 0 ? (e.t.size - sent) / rate : null }, false);
        },
        onChunkComplete: (confirmed: number) => {
          e.confirmed = base + confirmed;
        },
      });
      e.upload = upload;
      if (e.t.state !== 'paused') this.set(e, { state: 'uploading', sent: base });
      try {
        if (e.t.state === 'uploading') await upload.start();
        e.partIds[i] = await upload.done;
      } catch (err) {
        if (!e.cancelled) this.fail(e, err);
        return;
      }
      e.confirmed = base + part.file.size;
      this.set(e, { sent: e.confirmed, folder: { count: parts.length, done: e.partIds.filter(Boolean).length } });
    }
    if (e.cancelled) return;
    e.fileId = e.folderId;
    await this.send(e);
  }

  private async send(e: Entry): Promise<void> {
    if (!e.fileId) return;
    this.set(e, { state: 'sending', error: null, bytesPerSecond: 0, etaSeconds: null });
    try {
      await this.client.sendFile(e.fileId, [...e.t.conversationIds], e.clientMsgId);
    } catch (err) {
      this.fail(e, err);
      return;
    }
    this.entries.delete(e.t.id);
    this.publish();
  }

  private fail(e: Entry, err: unknown): void {
    if (e.cancelled || !this.entries.has(e.t.id)) return;
    this.set(e, { state: isRefusal(err) ? 'refused' : 'failed', error: err, bytesPerSecond: 0, etaSeconds: null });
  }

  private set(e: Entry, patch: Partial<Transfer>, persist = true): void {
    e.t = { ...e.t, ...patch };
    if (this.entries.has(e.t.id)) this.publish(persist);
  }

  private publish(persist = true): void {
    this.snapshot = [...this.entries.values()].map((e) => e.t);
    if (persist) this.persist();
    for (const fn of this.listeners) fn();
  }

  private persist(): void {
    if (!this.storage) return;
    // A folder's files cannot be chosen again one by one after a reload: folders are not remembered.
    const open: Persisted[] = [...this.entries.values()]
      .filter((e) => e.t.state !== 'refused' && !e.fileId && !e.parts)
      .map((e) => ({ id: e.t.id, name: e.t.name, size: e.t.size, conversationIds: [...e.t.conversationIds] }));
    try {
      if (open.length) this.storage.setItem(this.storageKey, JSON.stringify(open));
      else this.storage.removeItem(this.storageKey);
    } catch {
      /* storage full or blocked: only the reload case is lost */
    }
  }

  private loadPersisted(): Persisted[] {
    try {
      const raw = this.storage?.getItem(this.storageKey);
      const list = raw ? (JSON.parse(raw) as unknown) : [];
      if (!Array.isArray(list)) return [];
      return list.filter(
        (p): p is Persisted =>
          typeof p === 'object' &&
          p !== null &&
          typeof (p as Persisted).id === 'string' &&
          typeof (p as Persisted).name === 'string' &&
          typeof (p as Persisted).size === 'number' &&
          Array.isArray((p as Persisted).conversationIds),
      );
    } catch {
      return [];
    }
  }
}
