import type { ByteRange } from '../blob/blob-store.ts';

/**
 * `Content-Disposition` per RFC 6266: an ASCII `filename` fallback (anything else becomes `_`) and
 * the exact name in `filename*` (RFC 8187 UTF-8 percent-encoding). Never lets a quote, backslash,
 * control character or path separator through.
 */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are replaced on purpose
  const ascii = name.replace(/[^\x20-\x7e]|["\\/%;]/g, '_').replace(/[\u0000-\u001f]/g, '_') || 'download';
  const star = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${star}`;
}

export type RangeAnswer = { kind: 'full' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * One `Range: bytes=…` against a size. Several ranges, or a syntax we do not serve, answer the whole
 * body (RFC 9110 lets a server ignore Range); a range starting past the end is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!header) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return { kind: 'unsatisfiable' };
  if (end < start) return { kind: 'full' };
  return { kind: 'partial', range: { start, end } };
}
