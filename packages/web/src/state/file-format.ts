import type { FileAttachment } from '@enclave/protocol';

/** Human size with binary units, as file managers show it: 0 B, 512 B, 1.5 KB, 34.2 MB, 1.50 GB. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  // Three significant digits at most: 1.50 GB, 34.2 MB, 512 KB.
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : i >= 1 ? 2 : 1;
  return `${v.toFixed(digits)} ${units[i]}`;
}

/** Transfer speed: "3.4 MB/s"; an empty string while unknown. */
export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '';
  return `${formatSize(bytesPerSecond)}/s`;
}

/** Time left as a clock, "0:07", "12:05", "1:02:03"; null while unknown (no speed yet). */
export function formatEta(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return null;
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Whole percent of a transfer, 0–100. */
export function percent(sent: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor((sent / total) * 100)));
}

/** The type families a file card shows an icon for. */
export type FileFamily =
  'image' | 'pdf' | 'doc' | 'sheet' | 'slides' | 'archive' | 'audio' | 'video' | 'code' | 'text' | 'folder' | 'other';

const EXT_FAMILY: Record<string, FileFamily> = {
  pdf: 'pdf',
  doc: 'doc',
  docx: 'doc',
  odt: 'doc',
  rtf: 'doc',
  wps: 'doc',
  xls: 'sheet',
  xlsx: 'sheet',
  ods: 'sheet',
  csv: 'sheet',
  et: 'sheet',
  ppt: 'slides',
  pptx: 'slides',
  odp: 'slides',
  dps: 'slides',
  zip: 'archive',
  rar: 'archive',
  '7z': 'archive',
  gz: 'archive',
  tgz: 'archive',
  tar: 'archive',
  bz2: 'archive',
  xz: 'archive',
  txt: 'text',
  md: 'text',
  log: 'text',
};

/** The extension of a file name, lower-case, without the dot ('' when there is none). */
export function extensionOf(name: string): string {
  const base = name.split('/').pop() ?? name;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** Which icon a file gets, from its kind, sniffed type and name. */
export function fileFamily(f: Pick<FileAttachment, 'kind' | 'mime' | 'name'>): FileFamily {
  if (f.kind === 'folder') return 'folder';
  if (f.kind === 'image' || f.mime.startsWith('image/')) return 'image';
  const ext = extensionOf(f.name);
  if (f.mime === 'application/pdf') return 'pdf';
  if (f.mime.startsWith('audio/')) return 'audio';
  if (f.mime.startsWith('video/')) return 'video';
  if (EXT_FAMILY[ext]) return EXT_FAMILY[ext];
  if (CODE_LANG[ext]) return 'code';
  if (f.mime.startsWith('text/')) return 'text';
  if (/zip|compressed|x-tar|gzip|x-7z|x-rar/.test(f.mime)) return 'archive';
  return 'other';
}

/** The short label on a file icon: the extension (at most 4 letters), or the family. */
export function iconLabel(f: Pick<FileAttachment, 'kind' | 'mime' | 'name'>): string {
  if (f.kind === 'folder') return '';
  const ext = extensionOf(f.name);
  return ext && ext.length <= 4 ? ext.toUpperCase() : fileFamily(f) === 'image' ? 'IMG' : 'FILE';
}

/** highlight.js language names by extension (those the client bundles). */
const CODE_LANG: Record<string, string> = {
  sh: 'bash',
  bash: 'bash',
  c: 'c',
  h: 'c',
  cpp: 'cpp',
  cc: 'cpp',
  hpp: 'cpp',
  cs: 'csharp',
  css: 'css',
  go: 'go',
  java: 'java',
  js: 'javascript',
  mjs: 'javascript',
  jsx: 'javascript',
  json: 'json',
  py: 'python',
  rs: 'rust',
  sql: 'sql',
  ts: 'typescript',
  tsx: 'typescript',
  xml: 'xml',
  html: 'xml',
  yml: 'yaml',
  yaml: 'yaml',
};

/** The highlight.js language for a file name, or null to let highlight.js guess (or show plain). */
export function codeLanguage(name: string): string | null {
  return CODE_LANG[extensionOf(name)] ?? null;
}

/** Whether the client offers a preview button; the server's `file.preview` has the final word. */
export function looksPreviewable(f: Pick<FileAttachment, 'kind' | 'mime' | 'name'>): boolean {
  if (f.kind === 'folder') return false;
  const family = fileFamily(f);
  return family !== 'archive' && family !== 'other';
}

/**
 * The box an image message takes before it loads, from the image's pixel size: fits in
 * max × max, never smaller than min on either side, so the history does not jump when it arrives.
 */
export function imageBox(
  width: number | null,
  height: number | null,
  max = 240,
  min = 48,
): { width: number; height: number } {
  if (!width || !height || width <= 0 || height <= 0) return { width: max, height: Math.round((max * 3) / 4) };
  const scale = Math.min(1, max / width, max / height);
  return {
    width: Math.max(min, Math.round(width * scale)),
    height: Math.max(min, Math.round(height * scale)),
  };
}

/** A name for an image pasted from the clipboard (browsers call them all "image.png"). */
export function pastedImageName(type: string, at: Date): string {
  const ext = type === 'image/jpeg' ? 'jpg' : (type.split('/')[1] ?? 'png').replace(/[^a-z0-9]/g, '') || 'png';
  const p = (n: number) => String(n).padStart(2, '0');
  return `screenshot-${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}.${ext}`;
}

/** A file message in the conversation list: "[图片]", "[文件] 报告.pdf", "[文件夹] 设计稿". */
export function fileListLabel(f: Pick<FileAttachment, 'kind' | 'name'>, t: (key: string) => string): string {
  if (f.kind === 'image') return t('list.image');
  return `${t(f.kind === 'folder' ? 'files.listFolder' : 'files.listFile')} ${f.name}`;
}
