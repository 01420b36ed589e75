/** One piece of a snippet: plain text, or a match to show in a <mark>. */
export interface Segment {
  text: string;
  match: boolean;
}

/**
 * Split a snippet at its highlight ranges ([start, end) UTF-16 offsets from the server). Ranges are
 * clamped to the text, sorted and merged, so overlapping or out-of-range ones never duplicate or
 * lose text; the pieces always join back to `text`.
 */
export function segments(text: string, ranges: readonly (readonly [number, number])[]): Segment[] {
  const sorted = ranges
    .map(([s, e]) => [Math.max(0, Math.min(s, text.length)), Math.max(0, Math.min(e, text.length))] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  const out: Segment[] = [];
  let at = 0;
  for (const [s, e] of sorted) {
    if (e <= at) continue;
    const start = Math.max(s, at);
    if (start > at) out.push({ text: text.slice(at, start), match: false });
    const last = out.at(-1);
    if (last?.match && start === at) last.text += text.slice(start, e);
    else out.push({ text: text.slice(start, e), match: true });
    at = e;
  }
  if (at < text.length) out.push({ text: text.slice(at), match: false });
  return out;
}
