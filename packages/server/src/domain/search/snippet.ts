/**
 * A snippet of `text` around the first match of any term, with the [start, end) offsets of every
 * match inside it. Matching is case-insensitive on the original text (terms are already lower case).
 */
export function snippetOf(
  text: string,
  terms: string[],
  maxChars = 140,
): { snippet: string; highlights: [number, number][] } {
  const lower = text.toLowerCase();
  // toLowerCase may change the length of a few characters (İ); then offsets would drift: skip marks.
  const aligned = lower.length === text.length;
  const matches: [number, number][] = [];
  if (aligned)
    for (const t of terms) {
      if (!t) continue;
      for (let i = lower.indexOf(t); i >= 0 && matches.length < 50; i = lower.indexOf(t, i + t.length))
        matches.push([i, i + t.length]);
    }
  matches.sort((a, b) => a[0] - b[0]);
  const first = matches[0]?.[0] ?? 0;
  let start = Math.max(0, first - Math.floor(maxChars / 4));
  const end = Math.min(text.length, start + maxChars);
  start = Math.max(0, Math.min(start, end - maxChars));
  // Never cut a surrogate pair.
  if (start > 0 && /[\uDC00-\uDFFF]/.test(text[start]!)) start--;
  const prefix = start > 0 ? '…' : '';
  const body = text.slice(start, end).replace(/\s/g, ' ');
  const snippet = prefix + body + (end < text.length ? '…' : '');
  const highlights: [number, number][] = [];
  let lastEnd = -1;
  for (const [s, e] of matches) {
    if (s < start || e > end || s < lastEnd) continue;
    highlights.push([s - start + prefix.length, e - start + prefix.length]);
    lastEnd = e;
  }
  return { snippet, highlights };
}
