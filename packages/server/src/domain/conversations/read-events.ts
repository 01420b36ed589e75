import type { ConvEvent, EventRange } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import type { Executor } from '../../store/dialect.ts';
import { precompiled } from '../../store/precompiled.ts';
import { loadAccess, NO_END, visible, type Access, type Range } from '../access.ts';
import { presentEvent } from '../present.ts';
import {
  completeRecords,
  messageRecord,
  messageRows,
  recordFromRow,
  signedSeqs,
  type MessageFields,
  type MessageRecord,
} from '../records.ts';

interface EventRowRaw {
  conversation_id: number;
  seq: number;
  type: string;
  actor_id: number;
  ts: number;
  message_seq: number | null;
  data: string | null;
}

/** What presentation reads of an event row. */
type EventFields = Omit<EventRowRaw, 'conversation_id'>;

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
  const records = new Map<number, MessageRecord>();
  const seqs = rows.flatMap((r) => (r.message_seq === null ? [] : [Number(r.message_seq)]));
  for (const row of await messageRows(deps, exec, a.conv.id, seqs)) {
    const rec = recordFromRow(deps, row, a.conv.uid, '');
    records.set(rec.seq, rec);
  }
  return presentWith(deps, exec, viewer, a, rows, records);
}

/**
 * The rest of a page once its own messages are read (`records`, without senders and reactions):
 * quotes from outside the page, reactions, sign-offs and actors, then one `presentEvent` per row.
 */
async function presentWith(
  deps: Deps,
  exec: Executor,
  viewer: Pick<Viewer, 'userId'>,
  a: Access,
  rows: EventFields[],
  records: Map<number, MessageRecord>,
): Promise<ConvEvent[]> {
  const quoteSeqs: number[] = [];
  for (const r of records.values())
    if (r.replyToSeq !== null && !records.has(r.replyToSeq) && visible(a, r.replyToSeq)) quoteSeqs.push(r.replyToSeq);
  const quotes = new Map<number, MessageRecord>();
  for (const row of await messageRows(deps, exec, a.conv.id, quoteSeqs)) {
    const rec = recordFromRow(deps, row, a.conv.uid, '');
    quotes.set(rec.seq, rec);
  }
  const all = [...records.values(), ...quotes.values()];
  await completeRecords(deps, exec, a.conv.id, all);
  const signoffSeqs = all.filter((r) => r.signoff).map((r) => r.seq);
  const signed = await signedSeqs(deps, exec, a.conv.id, viewer.userId, signoffSeqs);
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
 * Events of one seq window with the current state of the message each refers to, in one statement
 * (the message columns are null for events without one). The window is one visible range already
 * cut to the page's bounds, so the statement's text never depends on the viewer's ranges.
 */
function pageStatement(order: 'asc' | 'desc') {
  return precompiled((db, convId: number, from: number, to: number, limit: number) =>
    db
      .selectFrom('events as e')
      .leftJoin('messages as m', (j) =>
        j.onRef('m.conversation_id', '=', 'e.conversation_id').onRef('m.seq', '=', 'e.message_seq'),
      )
      .select([
        'e.seq',
        'e.type',
        'e.actor_id',
        'e.ts',
        'e.message_seq',
        'e.data',
        'm.uid',
        'm.sender_id',
        'm.client_msg_id',
        'm.kind',
        'm.content',
        'm.format',
        'm.meta',
        'm.msg_no',
        'm.ts as message_ts',
        'm.edited_at',
        'm.recalled_at',
        'm.signoff',
      ])
      .where('e.conversation_id', '=', convId)
      .where('e.seq', '>=', from)
      .where('e.seq', '<=', to)
      .orderBy('e.seq', order)
      .limit(limit),
  );
}

const pageNewestFirst = pageStatement('desc');
const pageOldestFirst = pageStatement('asc');

type PageRow = Awaited<ReturnType<typeof pageNewestFirst.rows>>[number];

/**
 * Up to `limit` events in (after, before) within the viewer's ranges, nearest the starting end first:
 * one statement per range reached — one for a member who never left.
 */
async function pageRows(
  deps: Deps,
  exec: Executor,
  convId: number,
  ranges: Range[],
  opts: { after?: number | undefined; before?: number | undefined; limit: number; desc: boolean },
): Promise<PageRow[]> {
  const lo = opts.after === undefined ? -NO_END : opts.after + 1;
  const hi = opts.before === undefined ? NO_END : opts.before - 1;
  const windows = merged(ranges)
    .map((r) => ({ from: Math.max(r.from, lo), to: Math.min(r.to, hi) }))
    .filter((r) => r.from <= r.to);
  if (opts.desc) windows.reverse();
  const statement = opts.desc ? pageNewestFirst : pageOldestFirst;
  let out: PageRow[] = [];
  for (const w of windows) {
    const rows = await statement.rows(deps.store.kind, exec, convId, w.from, w.to, opts.limit - out.length);
    out = out.length ? out.concat(rows) : rows;
    if (out.length >= opts.limit) break;
  }
  return out;
}

/** Ranges in ascending order with overlapping ones joined, so that no event is read twice. */
function merged(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((x, y) => x.from - y.from);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.from <= last.to) out[out.length - 1] = { from: last.from, to: Math.max(last.to, r.to) };
    else out.push(r);
  }
  return out;
}

/**
 * Up to `limit` events in (after, before) the viewer may see, presented and ascending, with whether
 * more lie beyond the far end: with `desc` the newest below `before`, otherwise the oldest above
 * `after`. Events and their messages come from one statement, their reactions from one more; quotes
 * from outside the page and sign-offs add one each only when there are any.
 */
export async function eventPage(
  deps: Deps,
  exec: Executor,
  viewer: Pick<Viewer, 'userId'>,
  a: Access,
  opts: { after?: number | undefined; before?: number | undefined; limit: number; desc: boolean },
): Promise<{ events: ConvEvent[]; hasMore: boolean }> {
  const rows = await pageRows(deps, exec, a.conv.id, a.ranges, { ...opts, limit: opts.limit + 1 });
  const hasMore = rows.length > opts.limit;
  const page = hasMore ? rows.slice(0, opts.limit) : rows;
  if (opts.desc) page.reverse();
  const records = new Map<number, MessageRecord>();
  for (const r of page) {
    if (r.message_seq === null || r.uid === null) continue;
    const seq = Number(r.message_seq);
    if (!records.has(seq))
      records.set(seq, messageRecord(deps, r as MessageFields, a.conv.id, a.conv.uid, seq, Number(r.message_ts), ''));
  }
  return { events: await presentWith(deps, exec, viewer, a, page, records), hasMore };
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
  const { events, hasMore } = await eventPage(deps, exec, viewer, a, {
    after: input.after,
    before: input.before,
    limit: input.limit,
    desc: input.before !== undefined || input.after === undefined,
  });
  return {
    conversationId: a.conv.uid as EventRange['conversationId'],
    events,
    headSeq: Math.min(a.conv.lastSeq, a.ranges.at(-1)?.to ?? 0),
    minSeq: a.minSeq,
    hasMore,
  };
}
