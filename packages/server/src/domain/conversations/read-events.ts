import type { ConvEvent, EventRange } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import type { Executor } from '../../store/dialect.ts';
import { loadAccess, visible, type Access, type Range } from '../access.ts';
import { presentEvent } from '../present.ts';
import { loadRecords, signedSeqs } from '../records.ts';

interface EventRowRaw {
  conversation_id: number;
  seq: number;
  type: string;
  actor_id: number;
  ts: number;
  message_seq: number | null;
  data: string | null;
}

/**
 * Present stored events for one viewer: the messages they refer to (current state), reply quotes
 * the viewer may see, and the viewer's sign-offs — a fixed number of statements per page.
 */
export async function presentEvents(
  deps: Deps,
  exec: Executor,
  viewer: Pick<Viewer, 'userId'>,
  a: Access,
  rows: EventRowRaw[],
): Promise<ConvEvent[]> {
  const msgSeqs = rows
    .map((r) => r.message_seq)
    .filter((s): s is number => s !== null)
    .map(Number);
  const records = await loadRecords(deps, exec, a.conv.id, a.conv.uid, msgSeqs);
  const quoteSeqs = [...records.values()]
    .map((r) => r.replyToSeq)
    .filter((s): s is number => s !== null && visible(a, s) && !records.has(s));
  const quotes = quoteSeqs.length ? await loadRecords(deps, exec, a.conv.id, a.conv.uid, quoteSeqs) : new Map();
  const signoffSeqs = [...records.values(), ...quotes.values()].filter((r) => r.signoff).map((r) => r.seq);
  const signed = await signedSeqs(exec, a.conv.id, viewer.userId, signoffSeqs);
  const actors = await deps.directory.uidsOf(rows.map((r) => Number(r.actor_id)));
  const view = { userId: viewer.userId, signed: (s: number) => signed.has(s) };
  return rows.map((r) => {
    const rec = r.message_seq === null ? null : (records.get(Number(r.message_seq)) ?? null);
    const q =
      rec?.replyToSeq != null && visible(a, rec.replyToSeq)
        ? (records.get(rec.replyToSeq) ?? quotes.get(rec.replyToSeq) ?? null)
        : null;
    return presentEvent(
      view,
      {
        conversationUid: a.conv.uid,
        seq: Number(r.seq),
        ts: Number(r.ts),
        type: r.type,
        actorUid: actors.get(Number(r.actor_id)) ?? '',
        data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
      },
      rec,
      q,
    );
  });
}

/** Stored events in (after, before) restricted to the viewer's ranges; newest first when `desc`. */
export async function queryEvents(
  exec: Executor,
  convId: number,
  ranges: Range[],
  opts: { after?: number; before?: number; limit: number; desc: boolean },
): Promise<EventRowRaw[]> {
  if (!ranges.length) return [];
  let q = exec
    .selectFrom('events')
    .select(['conversation_id', 'seq', 'type', 'actor_id', 'ts', 'message_seq', 'data'])
    .where('conversation_id', '=', convId)
    .where((eb) => eb.or(ranges.map((r) => eb.and([eb('seq', '>=', r.from), eb('seq', '<=', r.to)]))));
  if (opts.after !== undefined) q = q.where('seq', '>', opts.after);
  if (opts.before !== undefined) q = q.where('seq', '<', opts.before);
  return q
    .orderBy('seq', opts.desc ? 'desc' : 'asc')
    .limit(opts.limit)
    .execute();
}

/**
 * A page of a conversation's stream. With `before`: the newest `limit` events below it (paging back);
 * otherwise the oldest `limit` events after `after` (catching up). Always ascending in the answer.
 */
export async function readEvents(
  deps: Deps,
  viewer: Viewer,
  input: { conversationId: string; after?: number | undefined; before?: number | undefined; limit: number },
): Promise<EventRange> {
  const exec = deps.store.reader;
  const a = await loadAccess(deps, exec, viewer, input.conversationId);
  const desc = input.before !== undefined || input.after === undefined;
  const rows = await queryEvents(exec, a.conv.id, a.ranges, {
    ...(input.after !== undefined ? { after: input.after } : {}),
    ...(input.before !== undefined ? { before: input.before } : {}),
    limit: input.limit + 1,
    desc,
  });
  const hasMore = rows.length > input.limit;
  const page = rows.slice(0, input.limit);
  if (desc) page.reverse();
  return {
    conversationId: a.conv.uid as EventRange['conversationId'],
    events: await presentEvents(deps, exec, viewer, a, page),
    headSeq: Math.min(a.conv.lastSeq, a.ranges.at(-1)?.to ?? 0),
    minSeq: a.minSeq,
    hasMore,
  };
}
