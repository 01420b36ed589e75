import { sql } from 'kysely';
import type { Executor, Trx } from '../../store/dialect.ts';
import { newestFirst, type IndexQuery, type SearchDoc, type SearchIndex } from './port.ts';
import { charLength, cjkGrams, cjkQueryGrams, likeContains, normalize } from './text.ts';

/**
 * PostgreSQL: the normalised text in search_docs.body under a pg_trgm GIN index; each term is a
 * `LIKE '%term%'` on that column (the index's own copy, never the messages table). Terms of 3+
 * characters use the trigram index; shorter ones with Chinese (or other CJK) characters use
 * search_docs.grams, their characters and bigrams under a GIN index (migration 0008); a one- or
 * two-letter word is checked on the rows the other conditions select.
 */
export class PostgresSearchIndex implements SearchIndex {
  readonly kind = 'postgres' as const;

  /** `scanWindow`: the ids of the newest messages a search checks row by row first (`newestFirst`). */
  constructor(private readonly scanWindow = 2_000) {}

  async add(trx: Trx, doc: SearchDoc): Promise<void> {
    const body = normalize(doc.text);
    await sql`insert into search_docs (conversation_id, seq, sender_id, ts, flags, body, grams) values (${doc.conversationId}, ${doc.seq}, ${doc.senderId}, ${doc.ts}, ${doc.flags}, ${body}, ${cjkGrams(body)}::text[])`.execute(
      trx,
    );
  }

  async update(trx: Trx, doc: SearchDoc): Promise<void> {
    const body = normalize(doc.text);
    const r =
      await sql`update search_docs set body = ${body}, grams = ${cjkGrams(body)}::text[], flags = ${doc.flags} where conversation_id = ${doc.conversationId} and seq = ${doc.seq}`.execute(
        trx,
      );
    if (!Number(r.numAffectedRows ?? 0)) await this.add(trx, doc);
  }

  async remove(trx: Trx, conversationId: number, seq: number): Promise<void> {
    await sql`delete from search_docs where conversation_id = ${conversationId} and seq = ${seq}`.execute(trx);
  }

  async removeRange(trx: Trx, conversationId: number, afterSeq: number, upToSeq: number): Promise<void> {
    await sql`delete from search_docs where conversation_id = ${conversationId} and seq > ${afterSeq} and seq <= ${upToSeq}`.execute(
      trx,
    );
  }

  async query(exec: Executor, q: IndexQuery) {
    const indexed = q.terms.map((t) => sql`d.body like ${likeContains(t)}`);
    // A term under three characters has no trigram. When every term is that short, their CJK grams (a
    // GIN index over arrays) narrow instead. Beside a longer term they are left out: a common bigram
    // would make the planner fetch all its rows (`部署 server`: 21 → 243 ms p50 at 1 M messages), where
    // the trigrams of the other term narrow enough. A short term left to the row check makes the
    // index costly, so the windows go on to their cap.
    const short = q.terms.filter((t) => charLength(t) < 3);
    const grams = short.length === q.terms.length ? short.map(cjkQueryGrams) : [];
    for (const g of grams) if (g.length) indexed.unshift(sql`d.grams @> ${g}::text[]`);
    const unindexed = short.length > 0 && (grams.length === 0 || grams.some((g) => !g.length));
    return newestFirst(exec, q, {
      indexed,
      // The same test on an expression the trigram index does not cover, so that the planner reads the
      // window's rows by id instead of the term's whole posting list.
      scan: q.terms.map((t) => sql`(d.body || '') like ${likeContains(t)}`),
      firstWindow: this.scanWindow,
      // Measured on 1 M messages (docs/benchmarks.md, item 50): an indexed match costs what ~10 rows of
      // a window do; with a term the index cannot narrow by, the windows go on to their cap.
      indexRowCost: unindexed ? 1_000 : 10,
    });
  }

  async clear(exec: Executor): Promise<void> {
    await sql`delete from search_docs`.execute(exec);
  }

  async bulkLoad(exec: Executor, docs: (SearchDoc & { id: number })[]): Promise<void> {
    for (let i = 0; i < docs.length; i += 500) {
      const chunk = docs.slice(i, i + 500);
      await sql`insert into search_docs (id, conversation_id, seq, sender_id, ts, flags, body, grams) values ${sql.join(
        chunk.map((d) => {
          const body = normalize(d.text);
          return sql`(${d.id}, ${d.conversationId}, ${d.seq}, ${d.senderId}, ${d.ts}, ${d.flags}, ${body}, ${cjkGrams(body)}::text[])`;
        }),
      )}`.execute(exec);
    }
  }

  async finishLoad(exec: Executor): Promise<void> {
    await sql`select setval(pg_get_serial_sequence('search_docs', 'id'), greatest((select max(id) from search_docs), 1))`.execute(
      exec,
    );
  }
}
