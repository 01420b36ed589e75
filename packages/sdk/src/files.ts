import { Upload, type DetailedError, type UploadOptions } from 'tus-js-client';
import { EnclaveError, FILE_ID_HEADER, filePaths, type ErrorBody, type FileId } from '@enclave/protocol';

/** Progress of a transfer, with a speed over the last few seconds and the time left at that speed. */
export interface TransferProgress {
  sent: number;
  total: number;
  /** Bytes per second, averaged over the last ~5 s. */
  bytesPerSecond: number;
  /** Seconds left at the current speed; null until a speed is known. */
  etaSeconds: number | null;
}

export interface UploadFileOptions {
  baseUrl: string;
  /** Session token sent as `Authorization: Bearer`; omit in a browser that uses the session cookie. */
  token?: string;
  /** A browser File/Blob, or bytes in Node. */
  file: Blob | Uint8Array;
  name: string;
  /** The type the client believes (the server decides by content; this only lets it refuse early). */
  type?: string;
  /** Folder uploads: the folder from `folder.create` and the path inside it ("docs/a.txt"). */
  folderId?: FileId;
  path?: string;
  /** PATCH size; smaller chunks lose less on an interruption. Default 8 MiB. */
  chunkSize?: number;
  /** Waits between automatic retries after a network error (ms). */
  retryDelays?: number[];
  onProgress?: (p: TransferProgress) => void;
  /** After each PATCH the server accepted: the bytes it now holds (what a resume continues from). */
  onChunkComplete?: (confirmed: number, total: number) => void;
}

/**
 * A resumable upload (tus). `start()` begins or continues; `pause()` stops after aborting the
 * request in flight (the server keeps what it has); `start()` again asks the server for its offset
 * and continues from there — also after a page reload, through tus-js-client's stored fingerprint.
 * `done` resolves with the new file's id, or rejects with an EnclaveError: `file_too_large`,
 * `file_type_not_allowed` (details.rule names the policy rule), `file_name_invalid`,
 * `upload_not_found`, `unauthenticated`, or `server_busy` when the network keeps failing.
 */
export class FileUpload {
  readonly done: Promise<FileId>;
  private readonly upload: Upload;
  private resolve!: (id: FileId) => void;
  private reject!: (e: EnclaveError) => void;
  private samples: { t: number; sent: number }[] = [];

  constructor(private readonly o: UploadFileOptions) {
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    const metadata: Record<string, string> = { filename: o.name };
    if (o.type) metadata.filetype = o.type;
    if (o.folderId) metadata.folderId = o.folderId;
    if (o.path) metadata.path = o.path;
    const options: UploadOptions = {
      endpoint: o.baseUrl.replace(/\/+$/, '') + filePaths.uploads,
      metadata,
      chunkSize: o.chunkSize ?? 8 * 1024 * 1024,
      retryDelays: o.retryDelays ?? [0, 1000, 3000, 5000, 10000, 20000],
      removeFingerprintOnSuccess: true,
      headers: o.token ? { Authorization: `Bearer ${o.token}` } : {},
      onProgress: (sent, total) => this.progress(sent, total),
      onChunkComplete: (_chunk, accepted, total) => o.onChunkComplete?.(accepted, total),
      onSuccess: ({ lastResponse }) => {
        const id = lastResponse.getHeader(FILE_ID_HEADER);
        if (id) this.resolve(id as FileId);
        else this.reject(new EnclaveError('internal_error', 'The server did not say which file was created.'));
      },
      onError: (err) => this.reject(toEnclaveError(err)),
      // Refusals (policy, name, auth) are final; only network failures and 5xx/409/423 are retried.
      onShouldRetry: (err) => {
        const s = err.originalResponse?.getStatus() ?? 0;
        return s === 0 || s === 409 || s === 423 || s >= 500;
      },
    };
    this.upload = new Upload(o.file as Blob, options);
  }

  /** Begin, or resume a paused or previously interrupted upload of the same file. */
  async start(): Promise<void> {
    const previous = await this.upload.findPreviousUploads();
    if (previous[0]) this.upload.resumeFromPreviousUpload(previous[0]);
    this.upload.start();
  }

  /** Stop sending; the bytes the server has are kept until the upload expires. */
  async pause(): Promise<void> {
    await this.upload.abort(false);
  }

  /** Give up and delete the partial upload on the server. */
  async cancel(): Promise<void> {
    await this.upload.abort(true);
    this.reject(new EnclaveError('bad_request', 'Upload cancelled.'));
  }

  /** The upload's URL once created (persist it to resume in another process). */
  get url(): string | null {
    return this.upload.url;
  }

  private progress(sent: number, total: number) {
    const now = Date.now();
    this.samples.push({ t: now, sent });
    while (this.samples.length > 2 && now - this.samples[0]!.t > 5000) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (now - first.t) / 1000;
    const bytesPerSecond = dt > 0 ? (sent - first.sent) / dt : 0;
    this.o.onProgress?.({
      sent,
      total,
      bytesPerSecond,
      etaSeconds: bytesPerSecond > 0 ? (total - sent) / bytesPerSecond : null,
    });
  }
}

/** Upload a file and wait for its id (see FileUpload for pause/resume and errors). */
export async function uploadFile(o: UploadFileOptions): Promise<FileId> {
  const u = new FileUpload(o);
  await u.start();
  return u.done;
}

function toEnclaveError(err: Error | DetailedError): EnclaveError {
  const res = 'originalResponse' in err ? err.originalResponse : null;
  if (res) {
    try {
      const body = JSON.parse(res.getBody()) as { error?: ErrorBody };
      if (body.error?.code) return EnclaveError.fromBody(body.error);
    } catch {
      /* not our JSON */
    }
    const s = res.getStatus();
    if (s === 401) return new EnclaveError('unauthenticated');
    if (s === 404) return new EnclaveError('upload_not_found');
    if (s === 413) return new EnclaveError('file_too_large');
  }
  return new EnclaveError('server_busy', err.message);
}

/** Where a file's bytes are. Same-origin URLs work with the session cookie; elsewhere send the token. */
export function fileUrls(baseUrl: string, fileId: FileId) {
  const b = baseUrl.replace(/\/+$/, '');
  return {
    /** Download (attachment). */
    download: b + filePaths.content(fileId),
    /** Inline display for previewable types (images, PDF, audio/video, text); HTML/SVG stay attachments. */
    inline: `${b}${filePaths.content(fileId)}?disposition=inline`,
    thumbnail: b + filePaths.thumbnail(fileId),
    zip: b + filePaths.zip(fileId),
    previewPdf: b + filePaths.previewPdf(fileId),
  };
}
