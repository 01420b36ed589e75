import { EnclaveError, type SearchHit, type SearchMessagesResult } from '@enclave/protocol';
import type { z } from 'zod';
import type { SearchMessagesInput as InputSchema } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import type { Range } from '../access.ts';
import { presentMessage } from '../present.ts';
import type { MessageRecord } from '../records.ts';
import { loadHitRecords } from './load-hits.ts';
import { parseQuery, type ParsedQuery } from './parse-query.ts';
import type { IndexHit, IndexQuery } from './port.ts';
import { loadScope, type ScopeConv } from './scope.ts';
import { snippetOf } from './snippet.ts';
import { DocFlag } from './text.ts';

type Input = z.output<typeof InputSchema>;

/** Relevance ranks this many newest matches (a bounded, snapshot-stable window). */
const RELEVANCE_WINDOW = 200;

type Cursor = { o: 'n'; b: number } | { o: 'r'; m: number; k: number };

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(s: string, order: Input['order']): Cursor {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>;
    if (order === 'newest' && c.o === 'n' && Number.isSafeInteger(c.b)) return { o: 'n', b: c.b as number };
    if (
      order === 'relevance' &&
      c.o === 'r' &&
      Number.isSafeInteger(c.m) &&
      Number.isSafeInteger(c.k) &&
      (c.k as number) >= 0
    )
      return { o: 'r', m: c.m as number, k: c.k as number };
  } catch {
    /* fall through */
  }
  throw new EnclaveError('search_cursor_invalid');
}

/**
 * Search the messages a viewer may see: conversations they are an active member of now, within their
 * visible seq ranges (join point when history is from_join), sign-off bodies only once signed.
 * Newest first pages by index id (new messages never shift a page); relevance ranks the newest
 * RELEVANCE_WINDOW matches as of the first page. Hits are presented by presentMessage.
 */
export async function searchMessages(deps: Deps, viewer: Viewer, input: Input): Promise<SearchMessagesResult> {
  const p = parseQuery(input.q, input.tzOffsetMinutes);
  const hasFilter =
    p.from.length || p.in.length || p.has.length || p.isMention || p.since !== undefined || p.until !== undefined;
  if (!p.terms.length && !hasFilter && !input.conversationId)
    throw new EnclaveError('search_query_invalid', 'Type something to search for.', { token: '' });
  // The viewer's scope is their membership list, read as sync reads it; index queries can scan (a
  // common word over a million messages): off the event loop (decision 0005).
  const all = await loadScope(deps.store.kind, deps.store.reader, viewer.userId);
  const exec = deps.store.bulk;
  let scope = new Map<number, ScopeConv>(all);
  if (input.conversationId) {
    const uid = input.conversationId.toLowerCase();
    const one = [...all.values()].find((c) => c.uid === uid);
    if (!one) throw new EnclaveError('conversation_not_found');
    scope = new Map([[one.id, one]]);
  }
  if (p.in.length) scope = new Map([...scope].filter(([, c]) => p.in.includes(c.uid)));
  const senders = p.from.length ? await senderIds(deps, viewer, p) : null;
  if (senders) {
    // Their messages can only be where they are or were members (sendMessage requires it): a common
    // word from someone the viewer shares no conversation with is answered without walking its matches.
    const shared = await sharedConversations(deps, viewer.userId, senders);
    scope = new Map([...scope].filter(([id]) => shared.has(id)));
  }

  const q: IndexQuery = {
    terms: p.terms,
    scope: new Map<number, Range[]>([...scope].map(([id, c]) => [id, c.ranges])),
    viewerId: viewer.userId,
    limit: input.limit + 1,
    ...(p.since !== undefined ? { since: p.since } : {}),
    ...(p.until !== undefined ? { until: p.until } : {}),
    ...(p.isMention ? { mentionsViewer: true } : {}),
  };
  if (senders) q.senderIds = senders;
  const flags = p.has.reduce((f, h) => f | DocFlag[h], 0);
  if (flags) q.flagsAll = flags;
  if (!scope.size) return { items: [], nextCursor: null };

  const cursor = input.cursor === undefined ? undefined : decodeCursor(input.cursor, input.order);
  let hits: IndexHit[];
  let nextCursor: string | null = null;
  let records: Map<string, MessageRecord>;
  if (input.order === 'newest') {
    if (cursor?.o === 'n') q.belowId = cursor.b;
    hits = await deps.search.query(exec, q);
    if (hits.length > input.limit) {
      hits = hits.slice(0, input.limit);
      nextCursor = encodeCursor({ o: 'n', b: hits.at(-1)!.id });
    }
    records = await loadHitRecords(deps, exec, hits, scope);
  } else {
    const c = cursor?.o === 'r' ? cursor : undefined;
    if (c) q.atMostId = c.m;
    q.limit = RELEVANCE_WINDOW;
    const window = await deps.search.query(exec, q);
    const maxId = c?.m ?? window[0]?.id ?? 0;
    records = await loadHitRecords(deps, exec, window, scope);
    const now = deps.now();
    const scored = window.map((h) => ({ h, s: score(records.get(`${h.conversationId}:${h.seq}`), p.terms, now) }));
    scored.sort((a, b) => b.s - a.s || b.h.id - a.h.id);
    const k = c?.k ?? 0;
    hits = scored.slice(k, k + input.limit).map((x) => x.h);
    if (k + input.limit < scored.length) nextCursor = encodeCursor({ o: 'r', m: maxId, k: k + input.limit });
  }
  return { items: await present(deps, viewer, hits, records, scope, p.terms), nextCursor };
}

async function senderIds(deps: Deps, viewer: Viewer, p: ParsedQuery): Promise<number[]> {
  const names = p.from.filter((f) => f !== 'me');
  const ids = p.from.includes('me') ? [viewer.userId] : [];
  if (names.length) {
    const rows = await deps.store.reader.selectFrom('users').select('id').where('username', 'in', names).execute();
    ids.push(...rows.map((r) => Number(r.id)));
  }
  return ids;
}

/** The viewer's active conversations where any of `userIds` is or was a member. */
async function sharedConversations(deps: Deps, viewerId: number, userIds: number[]): Promise<Set<number>> {
  if (!userIds.length) return new Set();
  const rows = await deps.store.reader
    .selectFrom('members as s')
    .innerJoin('members as v', (j) =>
      j.onRef('v.conversation_id', '=', 's.conversation_id').on('v.user_id', '=', viewerId),
    )
    .select('s.conversation_id')
    .where('s.user_id', 'in', userIds)
    .where('v.active', '=', 1)
    .execute();
  return new Set(rows.map((r) => Number(r.conversation_id)));
}

/** Occurrences of each term (capped), longer terms weigh more; shorter messages and newer ones win ties. */
function score(rec: MessageRecord | undefined, terms: string[], now: number): number {
  if (!rec?.text) return -1;
  const text = rec.text.toLowerCase();
  let s = 0;
  for (const t of terms) {
    let n = 0;
    for (let i = text.indexOf(t); i >= 0 && n < 3; i = text.indexOf(t, i + t.length)) n++;
    s += n * (1 + Math.min(t.length, 12) / 4);
  }
  const ageDays = Math.max(0, now - rec.ts) / 86_400_000;
  return s + 1 / (1 + text.length / 200) + 1 / (1 + ageDays / 30);
}

async function present(
  deps: Deps,
  viewer: Viewer,
  hits: IndexHit[],
  records: Map<string, MessageRecord>,
  scope: Map<number, ScopeConv>,
  terms: string[],
): Promise<SearchHit[]> {
  const signoff = [...records.values()].filter((r) => r.signoff);
  const signed = new Set<string>();
  if (signoff.length) {
    const rows = await deps.store.reader
      .selectFrom('signoffs')
      .select(['conversation_id', 'seq'])
      .where('user_id', '=', viewer.userId)
      .where((eb) =>
        eb.or(signoff.map((r) => eb.and([eb('conversation_id', '=', r.conversationId), eb('seq', '=', r.seq)]))),
      )
      .execute();
    for (const r of rows) signed.add(`${Number(r.conversation_id)}:${Number(r.seq)}`);
  }
  const names = await directNames(deps, viewer, hits, scope);
  const out: SearchHit[] = [];
  for (const h of hits) {
    const rec = records.get(`${h.conversationId}:${h.seq}`);
    const conv = scope.get(h.conversationId);
    if (!rec || !conv) continue;
    const message = presentMessage(
      { userId: viewer.userId, signed: (s) => signed.has(`${h.conversationId}:${s}`) },
      rec,
    );
    if (message.state !== 'normal') continue;
    const text = [message.content?.text ?? '', message.file?.name ?? ''].filter(Boolean).join('\n');
    out.push({
      conversation: {
        id: conv.uid as SearchHit['conversation']['id'],
        kind: conv.kind,
        name: names.get(conv.id) ?? conv.name,
      },
      message,
      ...snippetOf(text, terms),
    });
  }
  return out;
}

/** A 1:1 conversation is named after the other person, as in the conversation list. */
async function directNames(
  deps: Deps,
  viewer: Viewer,
  hits: IndexHit[],
  scope: Map<number, ScopeConv>,
): Promise<Map<number, string>> {
  const direct = [...new Set(hits.map((h) => h.conversationId))].filter((id) => scope.get(id)?.kind === 'direct');
  if (!direct.length) return new Map();
  const rows = await deps.store.reader
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.conversation_id', 'u.display_name'])
    .where('m.conversation_id', 'in', direct)
    .where('m.user_id', '!=', viewer.userId)
    .execute();
  return new Map(rows.map((r) => [Number(r.conversation_id), r.display_name]));
}
