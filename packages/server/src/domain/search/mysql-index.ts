import { sql } from 'kysely';
import type { Executor, Trx } from '../../store/dialect.ts';
import { newestFirst, type IndexQuery, type SearchDoc, type SearchIndex } from './port.ts';
import { likeContains, mysqlGrams, mysqlQueryTerms, normalize } from './text.ts';

/**
 * MySQL / MariaDB: MariaDB has no ngram parser, so the index encodes its own grams (CJK characters
 * and bigrams, words; see text.ts `mysqlGrams`) into search_docs.grams under an InnoDB FULLTEXT
 * index with the built-in parser — the same on MySQL and MariaDB. A query asks FULLTEXT (boolean
 * mode) for every gram of every term, then re-checks each term as a substring of the index's own
 * normalised body. InnoDB applies FULLTEXT changes at commit, so the index moves with the message.
 */
export class MysqlSearchIndex implements SearchIndex {
  readonly kind = 'mysql' as const;

  /** `scanWindow`: the ids of the newest messages a search checks row by row first (`newestFirst`). */
  constructor(private readonly scanWindow = 2_000) {}

  async add(trx: Trx, doc: SearchDoc): Promise<void> {
    const body = normalize(doc.text);
    await sql`insert into search_docs (conversation_id, seq, sender_id, ts, flags, body, grams) values (${doc.conversationId}, ${doc.seq}, ${doc.senderId}, ${doc.ts}, ${doc.flags}, ${body}, ${mysqlGrams(body)})`.execute(
      trx,
    );
  }

  async update(trx: Trx, doc: SearchDoc): Promise<void> {
    const body = normalize(doc.text);
    const found =
      await sql`select id from search_docs where conversation_id = ${doc.conversationId} and seq = ${doc.seq}`.execute(
        trx,
      );
    if (!found.rows.length) return this.add(trx, doc);
    await sql`update search_docs set body = ${body}, grams = ${mysqlGrams(body)}, flags = ${doc.flags} where conversation_id = ${doc.conversationId} and seq = ${doc.seq}`.execute(
      trx,
    );
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
    const grams = q.terms.flatMap(mysqlQueryTerms);
    const scan = q.terms.map((t) => sql`d.body like ${likeContains(t)}`);
    return newestFirst(exec, q, {
      indexed: grams.length
        ? [sql`match (d.grams) against (${[...new Set(grams)].join(' ')} in boolean mode)`, ...scan]
        : scan,
      scan,
      firstWindow: this.scanWindow,
      // Measured on 1 M messages (docs/benchmarks.md, item 50): a FULLTEXT match costs what ~16 rows of a
      // window do when the viewer is in a thousand conversations (~40 in fifty: the lower bound is kept).
      indexRowCost: 16,
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
          return sql`(${d.id}, ${d.conversationId}, ${d.seq}, ${d.senderId}, ${d.ts}, ${d.flags}, ${body}, ${mysqlGrams(body)})`;
        }),
      )}`.execute(exec);
    }
  }

  async finishLoad(): Promise<void> {
    // InnoDB continues AUTO_INCREMENT above the highest id by itself.
  }
}
