import fsp from 'node:fs/promises';

/** file-type is loaded with the first upload, not at start. */
let fileType: Promise<typeof import('file-type')> | undefined;

const HEAD_BYTES = 4096;

/**
 * The type of a file from its bytes, never from its name. Binary formats come from `file-type`'s
 * magic numbers; text formats (which have none) from the first bytes: HTML and SVG are recognised
 * so policy and download headers can treat them as active content; other valid UTF-8 is text/plain.
 */
export async function sniffFile(filePath: string): Promise<string> {
  const { fileTypeFromFile } = await (fileType ??= import('file-type'));
  const ft = await fileTypeFromFile(filePath);
  const head = await readHead(filePath);
  if (ft && ft.mime !== 'application/xml') return ft.mime;
  return sniffText(head) ?? ft?.mime ?? 'application/octet-stream';
}

async function readHead(filePath: string): Promise<Buffer> {
  const fh = await fsp.open(filePath, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export function sniffText(head: Buffer): string | null {
  if (head.includes(0)) return null;
  let text: string;
  try {
    // A cut multi-byte character at the end of the sample is fine; anything else invalid is binary.
    text = new TextDecoder('utf-8', { fatal: true }).decode(trimPartial(head));
  } catch {
    return null;
  }
  const t = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg|<svg[\s>])/.test(t)) return 'image/svg+xml';
  if (/^(<!--[\s\S]*?-->\s*)*(<!doctype html|<html|<head|<body|<script|<iframe|<meta|<title)[\s>]/.test(t))
    return 'text/html';
  if (/<script[\s>]|<html[\s>]|<svg[\s>]/.test(t)) return 'text/html';
  if (t.startsWith('<?xml')) return 'application/xml';
  if (t.startsWith('%pdf')) return 'application/pdf';
  return 'text/plain';
}

function trimPartial(b: Buffer): Buffer {
  // Drop at most 3 trailing bytes of an unfinished UTF-8 sequence.
  let i = b.length - 1;
  let n = 0;
  while (i >= 0 && n < 3 && (b[i]! & 0xc0) === 0x80) {
    i--;
    n++;
  }
  if (i >= 0 && b[i]! >= 0xc0) {
    const need = b[i]! >= 0xf0 ? 4 : b[i]! >= 0xe0 ? 3 : 2;
    if (b.length - i < need) return b.subarray(0, i);
  }
  return b;
}

/** Images the server decodes for thumbnails (SVG is never rendered: it is active content). */
export const THUMBNAIL_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/tiff',
]);

/** Types that are active content in a browser: always served as attachments. */
export const ACTIVE_TYPES = new Set([
  'text/html',
  'image/svg+xml',
  'application/xhtml+xml',
  'application/xml',
  'text/xml',
]);
