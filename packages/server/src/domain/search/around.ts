import { EnclaveError, type AroundResult } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { loadAccess, visible } from '../access.ts';
import { presentEvents, queryEvents } from '../conversations/read-events.ts';

/**
 * Jump to a message: the events around `seq` in the viewer's visible ranges — up to half the page
 * before it, the event itself and the rest after it — so a search hit opens in context. `hasMore`
 * (older) and `hasMoreAfter` (newer) say where `conversation.events` can continue.
 */
export async function eventsAround(
  deps: Deps,
  viewer: Viewer,
  input: { conversationId: string; seq: number; limit: number },
): Promise<AroundResult> {
  const exec = deps.store.reader;
  const a = await loadAccess(deps, exec, viewer, input.conversationId);
  if (!visible(a, input.seq) || input.seq > a.conv.lastSeq) throw new EnclaveError('message_not_found');
  const before = Math.floor((input.limit - 1) / 2);
  const older = await queryEvents(exec, a.conv.id, a.ranges, { before: input.seq, limit: before + 1, desc: true });
  const hasMore = older.length > before;
  const newer = await queryEvents(exec, a.conv.id, a.ranges, {
    after: input.seq - 1,
    limit: input.limit - Math.min(older.length, before) + 1,
    desc: false,
  });
  const keepNewer = input.limit - Math.min(older.length, before);
  const hasMoreAfter = newer.length > keepNewer;
  const rows = [...older.slice(0, before).reverse(), ...newer.slice(0, keepNewer)];
  return {
    conversationId: a.conv.uid as AroundResult['conversationId'],
    events: await presentEvents(deps, exec, viewer, a, rows),
    headSeq: Math.min(a.conv.lastSeq, a.ranges.at(-1)?.to ?? 0),
    minSeq: a.minSeq,
    hasMore,
    anchorSeq: input.seq,
    hasMoreAfter,
  };
}
