import fsp from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Server as TusServer, ServerOptions } from '@tus/server';
import yazl from 'yazl';
import { EnclaveError, FILE_ID_HEADER, FileId, filePaths } from '@enclave/protocol';
import type { Deps, Viewer } from '../domain/deps.ts';
import { authenticate } from '../domain/accounts/authenticate.ts';
import { readableFile } from '../domain/files/file-access.ts';
import { folderEntries, type FileRow } from '../domain/files/file-rows.ts';
import { ingestUpload } from '../domain/files/ingest-upload.ts';
import { checkFileName, checkFolderPath } from '../domain/files/names.ts';
import { checkPolicy } from '../domain/files/policy.ts';
import { officePdf, previewKindOf } from '../domain/files/preview.ts';
import { ACTIVE_TYPES } from '../domain/files/sniff.ts';
import { uidFromDb } from '../store/dialect.ts';
import { originAllowed, tokenOf } from './auth.ts';
import { parseWith, toErrorBody } from './errors.ts';
import { contentDisposition, parseRange } from './files-headers.ts';

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Files over plain HTTP (docs/architecture.md, "Files"): tus resumable uploads under
 * /api/v1/uploads, and downloads with Range, thumbnails, folder zips and Office previews. Everything
 * streams.
 */
export async function registerFiles(http: FastifyInstance, deps: Deps): Promise<void> {
  // No tus expiration extension: abandoned uploads are removed by the retention job
  // (jobs/purge-files.ts), and tus would otherwise re-read an upload that became a file on creation.
  const viewers = new WeakMap<IncomingMessage, Viewer>();
  type TusReq = Parameters<NonNullable<ServerOptions['onUploadCreate']>>[0];
  const viewerOf = (req: TusReq): Viewer => {
    const raw = req.runtime?.node?.req as IncomingMessage | undefined;
    const v = raw && viewers.get(raw);
    if (!v) throw tusError(new EnclaveError('unauthenticated'), deps);
    return v;
  };

  // tus (and the web-standard Request/Response it brings in) is loaded with the first upload request.
  let tusReady: Promise<TusServer> | undefined;
  const tusServer = () => (tusReady ??= loadTus());
  const loadTus = async (): Promise<TusServer> => {
    const [{ Server }, { FileStore }] = await Promise.all([import('@tus/server'), import('@tus/file-store')]);
    const tusStore = new FileStore({ directory: deps.files.uploadDir });
    return new Server({
      path: filePaths.uploads,
      datastore: tusStore,
      relativeLocation: true,
      respectForwardedHeaders: deps.config.trustedProxies.length > 0,
      exposedHeaders: [FILE_ID_HEADER],
      maxSize: async () => (await deps.files.policy(deps.now())).maxBytes,
      // tus's own refusals (wrong offset, size over maxSize, unknown id) get our JSON error shape too.
      async onResponseError(_req, err) {
        if ('status_code' in err && err.body.startsWith('{')) return err;
        const status = 'status_code' in err ? err.status_code : 500;
        const message = 'status_code' in err ? err.body.trim() : undefined;
        const e =
          status === 413
            ? new EnclaveError('file_too_large', undefined, {
                rule: 'maxBytes',
                maxBytes: (await deps.files.policy(deps.now())).maxBytes,
              })
            : status === 404 || status === 410
              ? new EnclaveError('upload_not_found')
              : status === 409
                ? new EnclaveError('upload_offset_mismatch')
                : status >= 500
                  ? err
                  : new EnclaveError('bad_request', message);
        return tusError(e, deps);
      },
      async onIncomingRequest(req, uploadId) {
        if (req.method === 'POST' || req.method === 'OPTIONS') return;
        const viewer = viewerOf(req);
        const upload = await tusStore.getUpload(uploadId).catch(() => null);
        // Someone else's upload id is as unknown as a made-up one.
        if (!upload || upload.metadata?.owner !== viewer.uid)
          throw tusError(new EnclaveError('upload_not_found'), deps);
      },
      async onUploadCreate(req, upload) {
        const viewer = viewerOf(req);
        const md = upload.metadata ?? {};
        try {
          checkFileName(md.filename);
          if (md.folderId) {
            parseWith(FileId, md.folderId);
            checkFolderPath(md.path ?? md.filename ?? '');
          }
          checkPolicy(await deps.files.policy(deps.now()), upload.size ?? null, md.filetype ?? null);
        } catch (e) {
          throw tusError(e, deps);
        }
        return { metadata: { ...md, owner: viewer.uid } };
      },
      async onUploadFinish(req, upload) {
        const viewer = viewerOf(req);
        const filePath = path.join(deps.files.uploadDir, upload.id);
        const md = upload.metadata ?? {};
        try {
          const file = await ingestUpload(deps, viewer, {
            uploadId: upload.id,
            filePath,
            size: upload.size ?? upload.offset,
            name: md.filename ?? '',
            folderUid: md.folderId ?? null,
            folderPath: md.path ?? null,
          });
          return { headers: { [FILE_ID_HEADER]: file.id } };
        } catch (e) {
          throw tusError(e, deps);
        } finally {
          // The bytes now live in the blob store (or were refused): nothing of the upload remains.
          await fsp.rm(filePath, { force: true });
          await fsp.rm(`${filePath}.json`, { force: true });
        }
      },
    });
  };

  await http.register(async (scope) => {
    // tus bodies are streamed straight to disk by tus; Fastify must not read them.
    scope.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const id = (req.params as { '*'?: string })['*'] ?? '';
      if (id && !UPLOAD_ID.test(id)) throw new EnclaveError('upload_not_found');
      if (req.method !== 'OPTIONS') {
        const viewer = await viewerOfRequest(deps, req);
        viewers.set(req.raw, viewer);
        if (id && (req.method === 'HEAD' || req.method === 'PATCH') && (await finished(deps, reply, viewer, id)))
          return;
      }
      const tus = await tusServer();
      reply.hijack();
      await tus.handle(req.raw, reply.raw);
    };
    scope.route({ method: ['POST', 'OPTIONS'], url: filePaths.uploads, handler });
    scope.route({ method: ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'], url: `${filePaths.uploads}/*`, handler });
  });

  http.get('/api/v1/files/:fileId/content', async (req, reply) => {
    const { f } = await fileOf(deps, req);
    if (f.kind === 'folder' || !f.storageKey)
      throw new EnclaveError('bad_request', 'A folder is downloaded as a zip.', { zip: filePaths.zip(f.uid) });
    const wantInline = (req.query as { disposition?: string }).disposition === 'inline';
    const inline = wantInline && !ACTIVE_TYPES.has(f.mime) && previewKindOf(f.mime) !== 'none';
    return sendBlob(deps, req, reply, {
      key: f.storageKey,
      size: f.size,
      etag: `"${f.uid}"`,
      // Sniffed text is valid UTF-8 (sniff.ts); say so, or browsers guess the charset.
      type: ACTIVE_TYPES.has(f.mime)
        ? 'application/octet-stream'
        : f.mime === 'text/plain'
          ? 'text/plain; charset=utf-8'
          : f.mime,
      disposition: contentDisposition(inline ? 'inline' : 'attachment', f.name),
    });
  });

  http.get('/api/v1/files/:fileId/thumbnail', async (req, reply) => {
    const { f } = await fileOf(deps, req);
    if (!f.hasThumb || !f.storageKey) throw new EnclaveError('file_not_found', 'This file has no thumbnail.');
    const stream = await deps.files.blobs.get(`${f.storageKey}.thumb`);
    return reply
      .header('Content-Type', 'image/webp')
      .header('Content-Disposition', contentDisposition('inline', `${f.name}.webp`))
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'private, max-age=86400')
      .send(stream);
  });

  http.get('/api/v1/files/:fileId/preview.pdf', async (req, reply) => {
    const { f } = await fileOf(deps, req);
    if (previewKindOf(f.mime) !== 'office') throw new EnclaveError('preview_unavailable', 'Not an Office document.');
    const key = await officePdf(deps, f);
    const stream = await deps.files.blobs.get(key);
    return reply
      .header('Content-Type', 'application/pdf')
      .header('Content-Disposition', contentDisposition('inline', `${f.name}.pdf`))
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'private, max-age=3600')
      .send(stream);
  });

  http.get('/api/v1/files/:fileId/zip', async (req, reply) => {
    const { f } = await fileOf(deps, req);
    if (f.kind !== 'folder') throw new EnclaveError('bad_request', 'Only a folder is downloaded as a zip.');
    const entries = await folderEntries(deps.store.reader, f.id);
    const zip = new yazl.ZipFile();
    for (const e of entries) {
      const key = e.storageKey;
      if (!key) continue;
      // Lazy: one blob stream open at a time, whatever the folder's size.
      zip.addReadStreamLazy(`${f.name}/${e.path ?? e.name}`, { size: e.size }, (cb) => {
        deps.files.blobs.get(key).then(
          (s) => cb(null, s),
          (err: Error) => cb(err, undefined as never),
        );
      });
    }
    zip.end();
    return reply
      .header('Content-Type', 'application/zip')
      .header('Content-Disposition', contentDisposition('attachment', `${f.name}.zip`))
      .header('X-Content-Type-Options', 'nosniff')
      .send(zip.outputStream);
  });
}

/** The signed-in viewer of a files request: header token or session cookie (same-origin for writes). */
async function viewerOfRequest(deps: Deps, req: FastifyRequest): Promise<Viewer> {
  const token = tokenOf(req);
  if (!token) throw new EnclaveError('unauthenticated');
  if (!req.headers.authorization && !SAFE_METHODS.has(req.method) && !originAllowed(req, deps.config))
    throw new EnclaveError('origin_not_allowed');
  const viewer = await authenticate(deps, token);
  if (viewer.mustChangePassword) throw new EnclaveError('password_change_required');
  return viewer;
}

async function fileOf(deps: Deps, req: FastifyRequest): Promise<{ f: FileRow; viewer: Viewer }> {
  const viewer = await viewerOfRequest(deps, req);
  const fileId = parseWith(FileId, (req.params as { fileId: string }).fileId);
  return { f: await readableFile(deps, viewer, fileId), viewer };
}

/**
 * HEAD/PATCH on an upload that already became a file (its tus state is gone): report it complete
 * with the file id, so a client that lost the final response still learns where its file is.
 */
async function finished(deps: Deps, reply: FastifyReply, viewer: Viewer, uploadId: string): Promise<boolean> {
  const row = await deps.store.reader
    .selectFrom('files')
    .select(['uid', 'size'])
    .where('upload_id', '=', uploadId)
    .where('owner_id', '=', viewer.userId)
    .executeTakeFirst();
  if (!row) return false;
  await reply
    .status(reply.request.method === 'HEAD' ? 200 : 204)
    .header('Tus-Resumable', '1.0.0')
    .header('Upload-Offset', String(row.size))
    .header('Upload-Length', String(row.size))
    .header('Cache-Control', 'no-store')
    .header(FILE_ID_HEADER, uidFromDb(row.uid))
    .send();
  return true;
}

async function sendBlob(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  b: { key: string; size: number; etag: string; type: string; disposition: string },
) {
  const ifRange = req.headers['if-range'];
  const r = ifRange && ifRange !== b.etag ? ({ kind: 'full' } as const) : parseRange(req.headers.range, b.size);
  void reply
    .header('Accept-Ranges', 'bytes')
    .header('ETag', b.etag)
    .header('Content-Type', b.type)
    .header('Content-Disposition', b.disposition)
    .header('X-Content-Type-Options', 'nosniff')
    .header(
      'Content-Security-Policy',
      "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
    )
    .header('Cache-Control', 'private, max-age=3600');
  if (r.kind === 'unsatisfiable')
    return reply
      .status(416)
      .header('Content-Range', `bytes */${b.size}`)
      .header('Content-Type', 'application/json')
      .send({ error: new EnclaveError('bad_request', 'The requested range is outside the file.').toBody() });
  if (r.kind === 'partial') {
    const stream = await deps.files.blobs.get(b.key, r.range);
    return reply
      .status(206)
      .header('Content-Range', `bytes ${r.range.start}-${r.range.end}/${b.size}`)
      .header('Content-Length', String(r.range.end - r.range.start + 1))
      .send(stream);
  }
  if (b.size === 0) return reply.header('Content-Length', '0').send('');
  const stream = await deps.files.blobs.get(b.key);
  return reply.header('Content-Length', String(b.size)).send(stream);
}

/** An error in tus's shape, carrying our JSON error body. */
function tusError(e: unknown, deps: Deps): { status_code: number; body: string } {
  const { status, body } = toErrorBody(e, deps.log);
  return { status_code: status, body: JSON.stringify({ error: body }) };
}
