import type { SeqCursor } from './state.ts';

/** Was `seq` applied already? */
export function cursorHas(c: SeqCursor, seq: number): boolean {
  return seq <= c.head || c.ahead.includes(seq);
}

/** The highest seq applied. */
export function cursorMax(c: SeqCursor): number {
  return c.ahead.length > 0 ? c.ahead[c.ahead.length - 1]! : c.head;
}

/** True when a seq between head and the highest applied one is missing. */
export function cursorHasGap(c: SeqCursor): boolean {
  return c.ahead.length > 0;
}

function compact(head: number, ahead: readonly number[]): SeqCursor {
  let h = head;
  let i = 0;
  while (i < ahead.length && ahead[i]! <= h + 1) {
    h = Math.max(h, ahead[i]!);
    i++;
  }
  return { head: h, ahead: i === 0 ? ahead : ahead.slice(i) };
}

/** Mark `seq` applied; returns the same object when it already was. */
export function cursorAdd(c: SeqCursor, seq: number): SeqCursor {
  if (cursorHas(c, seq)) return c;
  if (seq === c.head + 1) return compact(seq, c.ahead);
  const ahead = [...c.ahead, seq].sort((a, b) => a - b);
  return { head: c.head, ahead };
}

/** Treat everything up to `floor` as applied (a final gap below minSeq, or a server snapshot). */
export function cursorRaise(c: SeqCursor, floor: number): SeqCursor {
  if (floor <= c.head) return c;
  return compact(
    floor,
    c.ahead.filter((s) => s > floor),
  );
}
