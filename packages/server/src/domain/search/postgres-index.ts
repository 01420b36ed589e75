import { sql } from 'kysely';
import type { Executor, Trx } from '../../store/dialect.ts';
import { newestFirst, type IndexQuery, type SearchDoc, type SearchIndex } from './port.ts';
import { charLength, likeContains, normalize } from './text.ts';

/**
 * PostgreSQL: the normalised text in search_docs.body under a pg_trgm GIN index; each term is a
 * `LIKE '%term%'` on that column (the index's own copy, never the messages table). Terms of 3+
 * characters use the GIN index; shorter ones are checked on the rows the other conditions select
 * (the planner walks (conversation_id, id) when the viewer's conversations are few).
 */
export class PostgresSearchIndex implements SearchIndex {
  readonly kind = 'postgres' as const;

  /** `scanWindow`: the ids of the newest messages a search checks row by row first (`newestFirst`). */
  constructor(private readonly scanWindow = 2_000) {}

  async add(trx: Trx, doc: SearchDoc): Promise<void> {
    await sql`insert into search_docs (conversation_id, seq, sender_id, ts, flags, body) values (${doc.conversationId}, ${doc.seq}, ${doc.senderId}, ${doc.ts}, ${doc.flags}, ${normalize(doc.text)})`.execute(
      trx,
    );
  }

  async update(trx: Trx, doc: SearchDoc): Promise<void> {
    const r =
      await sql`update search_docs set body = ${normalize(doc.text)}, flags = ${doc.flags} where conversation_id = ${doc.conversationId} and seq = ${doc.seq}`.execute(
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
    return newestFirst(exec, q, {
      indexed: q.terms.map((t) => sql`d.body like ${likeContains(t)}`),
      // The same test on an expression the trigram index does not cover, so that the planner reads the
      // window's rows by id instead of the term's whole posting list.
      scan: q.terms.map((t) => sql`(d.body || '') like ${likeContains(t)}`),
      firstWindow: this.scanWindow,
      // Measured on 1 M messages (docs/benchmarks.md, item 50): a trigram match costs what ~10 rows of a
      // window do. A term under three characters has no trigram: the index walks every row of the
      // other terms, or of the viewer's conversations, so the windows go on to their cap.
      indexRowCost: q.terms.some((t) => charLength(t) < 3) ? 1_000 : 10,
    });
  }

  async clear(exec: Executor): Promise<void> {
    await sql`delete from search_docs`.execute(exec);
  }

  async bulkLoad(exec: Executor, docs: (SearchDoc & { id: number })[]): Promise<void> {
    for (let i = 0; i < docs.length; i += 500) {
      const chunk = docs.slice(i, i + 500);
      await sql`insert into search_docs (id, conversation_id, seq, sender_id, ts, flags, body) values ${sql.join(
        chunk.map(
          (d) =>
            sql`(${d.id}, ${d.conversationId}, ${d.seq}, ${d.senderId}, ${d.ts}, ${d.flags}, ${normalize(d.text)})`,
        ),
      )}`.execute(exec);
    }
  }

  async finishLoad(exec: Executor): Promise<void> {
    await sql`select setval(pg_get_serial_sequence('search_docs', 'id'), greatest((select max(id) from search_docs), 1))`.execute(
      exec,
    );
  }
}
