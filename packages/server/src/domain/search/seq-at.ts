import type { Deps, Viewer } from '../deps.ts';
import { loadAccess } from '../access.ts';
import type { Executor } from '../../store/dialect.ts';

/** The first event of the conversation with seq ≥ `from` (one primary-key seek), or null. */
async function firstFrom(exec: Executor, convId: number, from: number): Promise<{ seq: number; ts: number } | null> {
  const r = await exec
    .selectFrom('events')
    .select(['seq', 'ts'])
    .where('conversation_id', '=', convId)
    .where('seq', '>=', from)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return r ? { seq: Number(r.seq), ts: Number(r.ts) } : null;
}

/**
 * Jump to a date (the history calendar): the first event at or after `ts` within the viewer's
 * visible ranges, or null. An event's ts never decreases with its seq (the counter row keeps
 * `last_ts = max(now, last_ts)`), so a binary search over seq finds it with about log2(lastSeq)
 * primary-key seeks, and no index on ts is needed.
 */
export async function seqAt(
  deps: Deps,
  viewer: Viewer,
  input: { conversationId: string; ts: number },
): Promise<{ seq: number | null }> {
  const exec = deps.store.reader;
  const a = await loadAccess(deps, exec, viewer, input.conversationId);
  const last = Math.min(a.conv.lastSeq, a.ranges.at(-1)?.to ?? 0);
  // Invariant: every event below `lo` is before ts; the answer, if any, is at or below `hi`.
  let lo = 1;
  let hi = last;
  let found: number | null = null;
  while (lo <= hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const ev = await firstFrom(exec, a.conv.id, mid);
    if (!ev || ev.seq > hi) {
      hi = mid - 1;
    } else if (ev.ts >= input.ts) {
      found = ev.seq;
      hi = mid - 1;
    } else {
      lo = ev.seq + 1;
    }
  }
  if (found === null) return { seq: null };
  // The first visible seq at or after it: inside a membership range, or the start of the next one.
  for (const r of a.ranges) {
    if (found > r.to) continue;
    const seq = Math.max(found, r.from);
    if (seq > last) break;
    const ev = await firstFrom(exec, a.conv.id, seq);
    if (ev && ev.seq <= Math.min(r.to, last)) return { seq: ev.seq };
  }
  return { seq: null };
}
