import { sql, type RawBuilder } from 'kysely';
import type { DialectKind, Executor, Trx } from '../../store/dialect.ts';
import { NO_END, type Range } from '../access.ts';
import { DocFlag } from './text.ts';

/**
 * The Search port (docs/architecture.md, "Search"). It owns its index and storage: the text it
 * matches is handed to it by the message path (already decoded through the codec), never read from
 * the messages table. Every write runs inside the caller's transaction, so a message, its edit or its
 * recall and the index change commit together.
 */
export interface SearchDoc {
  conversationId: number;
  seq: number;
  senderId: number;
  ts: number;
  /** The plain body as the sender wrote it (the index normalises it). */
  text: string;
  /** DocFlag bits: link/image from the text; the files feature ORs in file/image bits of attachments. */
  flags: number;
}

export interface IndexQuery {
  /** Normalised substrings that must all occur (words and phrases). */
  terms: string[];
  /** Conversation id → the seq ranges the viewer may see there (membership, history mode, `in:`). */
  scope: Map<number, Range[]>;
  viewerId: number;
  senderIds?: number[];
  /** ts >= since */
  since?: number;
  /** ts < until */
  until?: number;
  /** Every one of these DocFlag bits must be set. */
  flagsAll?: number;
  /** Only messages that mention the viewer (or @all). */
  mentionsViewer?: boolean;
  /** Paging: only docs with id < belowId (newest first) and id <= atMostId (a snapshot). */
  belowId?: number;
  atMostId?: number;
  limit: number;
}

export interface IndexHit {
  id: number;
  conversationId: number;
  seq: number;
  ts: number;
}

export interface SearchIndex {
  readonly kind: DialectKind;
  add(trx: Trx, doc: SearchDoc): Promise<void>;
  /** The one statement `add` runs, for a write program (SQLite); doc fields may be `stepRef`s. */
  addStatement?(doc: SearchDoc): { sql: string; params: readonly unknown[] };
  /** Re-index an edited message (adds it when it was never indexed). */
  update(trx: Trx, doc: SearchDoc): Promise<void>;
  remove(trx: Trx, conversationId: number, seq: number): Promise<void>;
  /** Remove seqs in (afterSeq, upToSeq] of a conversation (purge). */
  removeRange(trx: Trx, conversationId: number, afterSeq: number, upToSeq: number): Promise<void>;
  /** Matching docs, newest (highest id) first. */
  query(exec: Executor, q: IndexQuery): Promise<IndexHit[]>;
  /** Reindex: drop everything, then load docs with explicit ids (ascending time order). */
  clear(exec: Executor): Promise<void>;
  bulkLoad(exec: Executor, docs: (SearchDoc & { id: number })[]): Promise<void>;
  /** After a bulk load: let new ids continue above the highest loaded one. */
  finishLoad(exec: Executor): Promise<void>;
  /** An index with its own worker (SQLite): start it with the server, stop it before the store closes. */
  start?(): void;
  close?(): Promise<void>;
}

const int = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new Error('search: non-integer in a query');
  return String(n);
};

/**
 * `(a or b or …)` nested as a balanced tree: SQLite parses a flat chain of N `or`s as N levels deep
 * and refuses more than 1,000 ("Expression tree is too large"), which a viewer who joined a thousand
 * groups after they began (a seq range each) would reach; balanced, N terms are log2(N) levels.
 */
export function anyOf(terms: string[]): string {
  if (terms.length <= 8) return `(${terms.join(' or ')})`;
  const half = Math.ceil(terms.length / 2);
  return `(${anyOf(terms.slice(0, half))} or ${anyOf(terms.slice(half))})`;
}

/** Filters every store shares: scope, sender, time, flags, sign-off visibility, mentions, paging. */
export function commonFilters(q: IndexQuery): RawBuilder<unknown>[] {
  const out: RawBuilder<unknown>[] = [];
  const whole: number[] = [];
  const parts: string[] = [];
  for (const [convId, ranges] of q.scope) {
    if (ranges.length === 1 && ranges[0]!.from <= 1 && ranges[0]!.to >= NO_END) whole.push(convId);
    else
      for (const r of ranges)
        parts.push(
          `(d.conversation_id = ${int(convId)} and d.seq >= ${int(r.from)}` +
            (r.to >= NO_END ? ')' : ` and d.seq <= ${int(r.to)})`),
        );
  }
  if (whole.length) parts.unshift(`d.conversation_id in (${whole.map(int).join(',')})`);
  out.push(sql.raw(parts.length ? anyOf(parts) : '1 = 0'));
  if (q.senderIds)
    out.push(sql.raw(q.senderIds.length ? `d.sender_id in (${q.senderIds.map(int).join(',')})` : '1 = 0'));
  if (q.since !== undefined) out.push(sql`d.ts >= ${q.since}`);
  if (q.until !== undefined) out.push(sql`d.ts < ${q.until}`);
  if (q.flagsAll) out.push(sql.raw(`(d.flags & ${int(q.flagsAll)}) = ${int(q.flagsAll)}`));
  const me = int(q.viewerId);
  // A sign-off message is searchable only by its sender and those who signed it: a hit would leak the body.
  out.push(
    sql.raw(
      `((d.flags & ${DocFlag.signoff}) = 0 or d.sender_id = ${me} or exists (select 1 from signoffs s ` +
        `where s.conversation_id = d.conversation_id and s.seq = d.seq and s.user_id = ${me}))`,
    ),
  );
  if (q.mentionsViewer)
    out.push(
      sql.raw(
        `(exists (select 1 from mentions m where m.user_id = ${me} and m.conversation_id = d.conversation_id and m.seq = d.seq) ` +
          `or exists (select 1 from mention_all a where a.conversation_id = d.conversation_id and a.seq = d.seq))`,
      ),
    );
  if (q.belowId !== undefined) out.push(sql`d.id < ${q.belowId}`);
  if (q.atMostId !== undefined) out.push(sql`d.id <= ${q.atMostId}`);
  return out;
}

/**
 * How the PostgreSQL and MySQL indexes match terms: `indexed` through their full-text index (every
 * matching row, whatever its age), `scan` on the rows of an id window alone (no index: each row's
 * text checked as it is read).
 */
export interface TermMatch {
  indexed: RawBuilder<unknown>[];
  scan: RawBuilder<unknown>[];
  /** The first window's span in ids (config `searchScanWindow`); the windows span at most 100 times it. */
  firstWindow: number;
  /** What the index spends on each row with the terms, in rows a window reads in the same time. */
  indexRowCost: number;
}

/**
 * Newest-first hits for terms, bounded by the page rather than by the term's frequency. A full-text
 * index (pg_trgm, InnoDB FULLTEXT) yields every row with the term and the database sorts them all by
 * id before the limit: a word in 5 % of a million messages cost 0.3–2 s. So the newest ids are read
 * first, in windows, each row checked as it is read (`scan`, ~0.5–1 µs a row): a common word fills
 * the page within a few thousand rows. The first window also counts the rows with the terms whatever
 * the viewer's scope, which estimates what the index would spend on the older ids; each next window
 * is sized from the hits seen so far (four times as far when none yet), and is read only while it
 * costs less than that. Otherwise, or past 100 first windows, the rest goes through the index
 * (`indexed`): a rare word costs one small window more than before, a common one a few windows
 * instead of every match. Both matchers accept the same rows, so the answer is the same either way.
 */
export async function newestFirst(exec: Executor, q: IndexQuery, terms: TermMatch): Promise<IndexHit[]> {
  const where = commonFilters(q);
  // No terms (filters alone), or windows off: nothing to bound.
  if (!terms.scan.length || terms.firstWindow <= 0) return selectDocs(exec, [...terms.indexed, ...where], q.limit);
  const top = await sql<{ m: unknown }>`select max(d.id) as m from search_docs d where d.id < ${
    q.belowId ?? Number.MAX_SAFE_INTEGER
  } and d.id <= ${q.atMostId ?? Number.MAX_SAFE_INTEGER}`.execute(exec);
  const newest = top.rows[0]?.m == null ? 0 : Number(top.rows[0].m);
  if (newest <= 0) return [];
  const cap = terms.firstWindow * 100;
  const out: IndexHit[] = [];
  let hi = newest;
  let width = terms.firstWindow;
  let termDensity: number | null = null;
  while (hi > 0 && newest - hi < cap) {
    const lo = Math.max(0, hi - Math.min(width, cap - (newest - hi)));
    const inWindow = [sql`d.id > ${lo}`, sql`d.id <= ${hi}`];
    out.push(...(await selectDocs(exec, [...terms.scan, ...where, ...inWindow], q.limit - out.length)));
    if (out.length >= q.limit || lo <= 0) return out;
    const spanned = newest - lo;
    if (termDensity === null) {
      const n = await sql<{ n: unknown }>`select count(*) as n from search_docs d where ${sql.join(
        [...terms.scan, ...inWindow],
        sql` and `,
      )}`.execute(exec);
      termDensity = Number(n.rows[0]?.n ?? 0) / spanned;
    }
    hi = lo;
    // Ids this page still needs at the density seen so far, with half again for its variance.
    const next = out.length ? Math.ceil((((q.limit - out.length) * spanned) / out.length) * 1.5) : spanned * 3;
    if (next > termDensity * hi * terms.indexRowCost) break;
    width = Math.max(terms.firstWindow, next);
  }
  return out.concat(await selectDocs(exec, [...terms.indexed, ...where, sql`d.id <= ${hi}`], q.limit - out.length));
}

/** Newest-first hits from `search_docs d` under these conditions (the PostgreSQL and MySQL indexes). */
export async function selectDocs(exec: Executor, where: RawBuilder<unknown>[], limit: number): Promise<IndexHit[]> {
  const rows = await sql<
    Record<string, unknown>
  >`select d.id, d.conversation_id, d.seq, d.ts from search_docs d where ${sql.join(
    where,
    sql` and `,
  )} order by d.id desc limit ${limit}`.execute(exec);
  return toHits(rows.rows);
}

export function toHits(rows: Record<string, unknown>[]): IndexHit[] {
  return rows.map((r) => ({
    id: Number(r.id),
    conversationId: Number(r.conversation_id),
    seq: Number(r.seq),
    ts: Number(r.ts),
  }));
}
