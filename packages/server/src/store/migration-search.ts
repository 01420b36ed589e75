import { sql, type Kysely, type Migration } from 'kysely';
import { addIdColumn, longText, tableOptions, type DialectKind } from './dialect.ts';
import { cjkGrams } from '../domain/search/text.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed schema exists
type AnyDb = Kysely<any>;

/**
 * 0003_search: the search port's own index (docs/architecture.md, "Search"). `search_docs` holds one
 * row per indexed message with the columns filters need; the text lives in the index itself:
 * - SQLite: FTS5 `search_fts` (trigram, queries of 3+ characters) and `search_bi` (CJK bigrams and
 *   words, detail=none, queries of 1–2 characters), both keyed by `search_docs.id`;
 * - PostgreSQL: `search_docs.body` with a pg_trgm GIN index;
 * - MySQL/MariaDB: `search_docs.body` plus `search_docs.grams` (encoded CJK uni/bigrams and words)
 *   under an InnoDB FULLTEXT index, which MariaDB has (it lacks the ngram parser).
 */
export function searchMigration(kind: DialectKind): Migration {
  const big = 'bigint' as const;
  return {
    async up(db: AnyDb) {
      let t = addIdColumn(kind, db.schema.createTable('search_docs'))
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('sender_id', big, (c) => c.notNull())
        .addColumn('ts', big, (c) => c.notNull())
        .addColumn('flags', 'integer', (c) => c.notNull().defaultTo(0));
      if (kind !== 'sqlite') t = t.addColumn('body', longText(kind), (c) => c.notNull());
      if (kind === 'mysql') t = t.addColumn('grams', longText(kind), (c) => c.notNull());
      await t
        .addUniqueConstraint('search_docs_message', ['conversation_id', 'seq'])
        .modifyEnd(tableOptions(kind, false))
        .execute();
      await db.schema.createIndex('search_docs_conv').on('search_docs').columns(['conversation_id', 'id']).execute();
      if (kind === 'sqlite') {
        await sql`create virtual table search_fts using fts5(body, tokenize = 'trigram')`.execute(db);
        await sql`create virtual table search_bi using fts5(grams, detail = none)`.execute(db);
      } else if (kind === 'postgres') {
        const schema = await ensurePgTrgm(db);
        await sql`create index search_docs_body_trgm on search_docs using gin (body ${sql.raw(`"${schema}".gin_trgm_ops`)})`.execute(
          db,
        );
      } else {
        await sql`create fulltext index search_docs_grams on search_docs (grams)`.execute(db);
      }
    },
  };
}

/** pg_trgm must exist: create it (in `public` when there is one) or fail with what to do. */
async function ensurePgTrgm(db: AnyDb): Promise<string> {
  const find = async () =>
    (
      await sql<{
        s: string;
      }>`select n.nspname as s from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(
        db,
      )
    ).rows[0]?.s;
  const found = await find();
  if (found) return found;
  const hasPublic = (
    await sql<{ n: number }>`select count(*)::int as n from pg_namespace where nspname = 'public'`.execute(db)
  ).rows[0]?.n;
  try {
    await sql`create extension if not exists pg_trgm ${hasPublic ? sql`schema public` : sql``}`.execute(db);
  } catch (e) {
    // Two nodes (or test suites) migrating at once: the other one created it first.
    const now = await find();
    if (now) return now;
    throw new Error(
      'Search needs the PostgreSQL extension pg_trgm, and this database role may not create it. ' +
        'Ask a superuser to run `CREATE EXTENSION pg_trgm;` in this database, then start Enclave again. ' +
        `(${(e as Error).message})`,
    );
  }
  return (await find()) ?? 'public';
}

/**
 * 0005_search_queue — SQLite only: the index moves to its own file, worked by a worker thread
 * (store/search-file.ts, decision 0008). The main database keeps a queue of index changes, written in
 * the transaction of the message change; the old index tables, copied to the search file when it was
 * opened (before this migration), are dropped. PostgreSQL and MySQL keep indexing in the transaction.
 */
export function searchQueueMigration(kind: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      if (kind !== 'sqlite') return;
      // AUTOINCREMENT: ids never go back, even when the queue has been emptied (the indexer's mark).
      await sql`create table search_queue (
        id integer primary key autoincrement,
        op integer not null,
        conversation_id integer not null,
        seq integer not null,
        to_seq integer,
        sender_id integer,
        ts integer,
        flags integer,
        body text
      )`.execute(db);
      await sql`drop table if exists search_fts`.execute(db);
      await sql`drop table if exists search_bi`.execute(db);
      await sql`drop table if exists search_docs`.execute(db);
    },
  };
}

/**
 * 0008_search_cjk_grams — PostgreSQL only: `search_docs.grams`, the CJK characters and bigrams of each
 * indexed body under a GIN index, so that one- and two-character Chinese terms (which pg_trgm cannot
 * serve) are looked up instead of checked row by row: an absent two-character word took 300 ms at
 * 1 M messages. Existing rows are filled here, 2,000 at a time.
 */
export function searchCjkGramsMigration(kind: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      if (kind !== 'postgres') return;
      await sql`alter table search_docs add column grams text[] not null default '{}'`.execute(db);
      for (let after = 0; ;) {
        const rows = (
          await sql<{
            id: string | number;
            body: string;
          }>`select id, body from search_docs where id > ${after} order by id limit 2000`.execute(db)
        ).rows;
        if (!rows.length) break;
        await sql`update search_docs d set grams = string_to_array(v.g, ' ') from unnest(${rows.map((r) => Number(r.id))}::bigint[], ${rows.map((r) => cjkGrams(r.body).join(' '))}::text[]) as v(id, g) where d.id = v.id`.execute(
          db,
        );
        after = Number(rows.at(-1)!.id);
      }
      await sql`create index search_docs_grams on search_docs using gin (grams)`.execute(db);
    },
  };
}
