import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { EnclaveError, filePaths, type PreviewInfo, type PreviewKind } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import type { FileRow } from './file-rows.ts';
import { readableFile } from './file-access.ts';
import { ACTIVE_TYPES } from './sniff.ts';

const OFFICE: Record<string, string> = {
  'application/msword': 'doc',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/x-cfb': 'doc',
  'application/rtf': 'rtf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.oasis.opendocument.presentation': 'odp',
};

const TEXTY = new Set(['application/json', 'application/javascript', 'application/x-sh', 'application/x-yaml']);

export function previewKindOf(mime: string): PreviewKind {
  if (ACTIVE_TYPES.has(mime)) return 'none';
  if (mime.startsWith('image/')) return 'image';
  if (mime === 'application/pdf') return 'pdf';
  if (mime.startsWith('text/') || TEXTY.has(mime)) return 'text';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime.startsWith('video/')) return 'video';
  if (mime in OFFICE) return 'office';
  return 'none';
}

/** How the viewer can preview a file: where the bytes are, or why there is no preview. */
export async function getPreview(deps: Deps, viewer: Viewer, fileUid: string): Promise<PreviewInfo> {
  const f = await readableFile(deps, viewer, fileUid);
  if (f.kind === 'folder')
    return { kind: 'none', available: false, reason: 'Folders are downloaded as a zip.', url: null };
  const kind = previewKindOf(f.mime);
  if (kind === 'none')
    return { kind, available: false, reason: `No preview for ${f.mime}; download the file.`, url: null };
  if (kind === 'office') {
    if (!deps.config.files.soffice)
      return {
        kind,
        available: false,
        reason: 'This server has no LibreOffice installed, so Office documents cannot be previewed; download the file.',
        url: null,
      };
    return { kind, available: true, reason: null, url: filePaths.previewPdf(f.uid) };
  }
  return { kind, available: true, reason: null, url: `${filePaths.content(f.uid)}?disposition=inline` };
}

const inFlight = new Map<string, Promise<string>>();

/**
 * The PDF rendering of an Office document: converted once by LibreOffice headless and kept next to
 * the blob (`<key>.pdf`); concurrent requests share one conversion.
 */
export async function officePdf(deps: Deps, f: FileRow): Promise<string> {
  const soffice = deps.config.files.soffice;
  const ext = OFFICE[f.mime];
  if (!soffice || !ext || !f.storageKey) throw new EnclaveError('preview_unavailable');
  const key = `${f.storageKey}.pdf`;
  if (await deps.files.blobs.has(key)) return key;
  let p = inFlight.get(key);
  if (!p) {
    p = convert(deps, soffice, f.storageKey, ext, key).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function convert(deps: Deps, soffice: string, storageKey: string, ext: string, key: string): Promise<string> {
  const dir = path.join(deps.files.workDir, crypto.randomBytes(8).toString('hex'));
  await fsp.mkdir(dir, { recursive: true });
  try {
    const input = path.join(dir, `document.${ext}`);
    await pipeline(await deps.files.blobs.get(storageKey), fs.createWriteStream(input));
    await new Promise<void>((resolve, reject) => {
      execFile(
        soffice,
        [
          `-env:UserInstallation=file://${path.join(dir, 'profile')}`,
          '--headless',
          '--norestore',
          '--convert-to',
          'pdf',
          '--outdir',
          dir,
          input,
        ],
        { timeout: deps.config.files.convertTimeoutMs, env: { ...process.env, HOME: dir } },
        (err) => (err ? reject(err) : resolve()),
      );
    });
    const out = path.join(dir, 'document.pdf');
    const st = await fsp.stat(out).catch(() => null);
    if (!st) throw new EnclaveError('preview_unavailable', 'The document could not be converted.');
    await deps.files.blobs.putFile(key, out, st.size);
    return key;
  } catch (e) {
    deps.log.warn({ err: e }, 'office conversion failed');
    if (e instanceof EnclaveError) throw e;
    throw new EnclaveError('preview_unavailable', 'The document could not be converted.');
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
