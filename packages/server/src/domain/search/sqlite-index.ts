import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import type { Executor, Trx } from '../../store/dialect.ts';
import { commonFilters, toHits, type IndexQuery, type SearchDoc, type SearchIndex } from './port.ts';
import { bigramText, charLength, ftsQuote, normalize, segments } from './text.ts';

/**
 * SQLite: FTS5 tables that own their text, keyed by search_docs.id.
 * - `search_fts` (trigram): terms of 3+ characters, exact substrings in any script;
 * - `search_bi` (unicode61 over CJK bigrams + last characters + words, detail=none): terms of 1–2
 *   characters, which a trigram index cannot answer (measured in docs/benchmarks.md).
 * The driving table is an FTS5 table walked by rowid descending, so "newest first" stops at the page.
 */
const ADD_DOC = 'insert into search_docs (conversation_id, seq, sender_id, ts, flags) values (?, ?, ?, ?, ?)';
const ADD_TRIGRAMS = 'insert into search_fts (rowid, body) values (last_insert_rowid(), ?)';
const ADD_BIGRAMS = 'insert into search_bi (rowid, grams) values (last_insert_rowid(), ?)';

export class SqliteSearchIndex implements SearchIndex {
  readonly kind = 'sqlite' as const;

  async add(trx: Trx, doc: SearchDoc): Promise<void> {
    const body = normalize(doc.text);
    // Fixed SQL on every send: handed to the driver as is, without building it through Kysely.
    await trx.executeQuery(CompiledQuery.raw(ADD_DOC, [doc.conversationId, doc.seq, doc.senderId, doc.ts, doc.flags]));
    // last_insert_rowid() is the new search_docs.id; after the first insert it is the FTS rowid, the same value.
    await trx.executeQuery(CompiledQuery.raw(ADD_TRIGRAMS, [body]));
    await trx.executeQuery(CompiledQuery.raw(ADD_BIGRAMS, [bigramText(body)]));
  }

  async update(trx: Trx, doc: SearchDoc): Promise<void> {
    const row = (
      await sql<{
        id: number;
      }>`select id from search_docs where conversation_id = ${doc.conversationId} and seq = ${doc.seq}`.execute(trx)
    ).rows[0];
    if (!row) return this.add(trx, doc);
    const body = normalize(doc.text);
    await sql`update search_docs set flags = ${doc.flags} where id = ${row.id}`.execute(trx);
    await sql`update search_fts set body = ${body} where rowid = ${row.id}`.execute(trx);
    await sql`update search_bi set grams = ${bigramText(body)} where rowid = ${row.id}`.execute(trx);
  }

  async remove(trx: Trx, conversationId: number, seq: number): Promise<void> {
    await this.removeWhere(trx, sql`conversation_id = ${conversationId} and seq = ${seq}`);
  }

  async removeRange(trx: Trx, conversationId: number, afterSeq: number, upToSeq: number): Promise<void> {
    await this.removeWhere(trx, sql`conversation_id = ${conversationId} and seq > ${afterSeq} and seq <= ${upToSeq}`);
  }

  private async removeWhere(trx: Trx, where: RawBuilder<unknown>): Promise<void> {
    await sql`delete from search_fts where rowid in (select id from search_docs where ${where})`.execute(trx);
    await sql`delete from search_bi where rowid in (select id from search_docs where ${where})`.execute(trx);
    await sql`delete from search_docs where ${where}`.execute(trx);
  }

  async query(exec: Executor, q: IndexQuery): Promise<ReturnType<typeof toHits>> {
    const long = q.terms.filter((t) => charLength(t) >= 3);
    const short = q.terms.filter((t) => charLength(t) < 3);
    const where = commonFilters(q);
    let from: RawBuilder<unknown>;
    let order: RawBuilder<unknown>;
    if (long.length) {
      from = sql`search_fts f join search_docs d on d.id = f.rowid`;
      where.unshift(sql`search_fts match ${long.map(ftsQuote).join(' ')}`);
      order = sql`f.rowid desc`;
      // A short term beside a long one: its bigram doclist as a set. (Checking instr() on each row the
      // trigram walk yields reads every candidate's text: 381 ms p50 against 78 ms, docs/benchmarks.md.)
      for (const t of short) where.push(this.shortClause(t));
    } else if (short.length) {
      from = sql`search_bi b join search_docs d on d.id = b.rowid`;
      where.unshift(sql`search_bi match ${short.map((t) => bigramQuery(t)).join(' AND ')}`);
      order = sql`b.rowid desc`;
      const mixed = short.filter((t) => segments(t).length !== 1);
      if (mixed.length) {
        from = sql`${from} join search_fts f on f.rowid = d.id`;
        for (const t of mixed) where.push(sql`instr(f.body, ${t}) > 0`);
      }
    } else {
      from = sql`search_docs d`;
      order = sql`d.id desc`;
    }
    const rows = await sql<
      Record<string, unknown>
    >`select d.id, d.conversation_id, d.seq, d.ts from ${from} where ${sql.join(
      where,
      sql` and `,
    )} order by ${order} limit ${q.limit}`.execute(exec);
    return toHits(rows.rows);
  }

  private shortClause(t: string): RawBuilder<unknown> {
    const c = sql`d.id in (select rowid from search_bi where search_bi match ${bigramQuery(t)})`;
    if (segments(t).length === 1) return c;
    return sql`(${c} and instr(f.body, ${t}) > 0)`;
  }

  async clear(exec: Executor): Promise<void> {
    await sql`delete from search_fts`.execute(exec);
    await sql`delete from search_bi`.execute(exec);
    await sql`delete from search_docs`.execute(exec);
  }

  async bulkLoad(exec: Executor, docs: (SearchDoc & { id: number })[]): Promise<void> {
    for (let i = 0; i < docs.length; i += 200) {
      const chunk = docs.slice(i, i + 200);
      const bodies = chunk.map((d) => normalize(d.text));
      await sql`insert into search_docs (id, conversation_id, seq, sender_id, ts, flags) values ${sql.join(
        chunk.map((d) => sql`(${d.id}, ${d.conversationId}, ${d.seq}, ${d.senderId}, ${d.ts}, ${d.flags})`),
      )}`.execute(exec);
      await sql`insert into search_fts (rowid, body) values ${sql.join(chunk.map((d, j) => sql`(${d.id}, ${bodies[j]})`))}`.execute(
        exec,
      );
      await sql`insert into search_bi (rowid, grams) values ${sql.join(
        chunk.map((d, j) => sql`(${d.id}, ${bigramText(bodies[j]!)})`),
      )}`.execute(exec);
    }
  }

  async finishLoad(exec: Executor): Promise<void> {
    await sql`insert into search_fts (search_fts) values ('optimize')`.execute(exec);
    await sql`insert into search_bi (search_bi) values ('optimize')`.execute(exec);
  }
}

/** FTS5 query on the bigram table for a 1–2 character term (all its segments must match). */
function bigramQuery(term: string): string {
  return segments(term)
    .map((s) => {
      const text = s.chars.join('');
      // One CJK character: any bigram starting with it, or it at the end of a run. Two: that bigram.
      // A word: as a word prefix.
      if (s.cjk && s.chars.length >= 2) return ftsQuote(text);
      return ftsQuote(text) + '*';
    })
    .join(' AND ');
}
