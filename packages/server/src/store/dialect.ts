/**
 * Every difference between SQLite, PostgreSQL and MySQL/MariaDB lives in this module; the rest of
 * the server writes portable Kysely. The conformance suite (dialect.test.ts) runs on all three.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CompiledQuery,
  Kysely,
  MysqlDialect,
  PostgresDialect,
  sql,
  type CreateTableBuilder,
  type Transaction,
} from 'kysely';
// pg and mysql2 are loaded only when DATABASE_URL names them (cold start on SQLite loads neither).
import type pgModule from 'pg';
import { parse as uuidParse, stringify as uuidStringify } from 'uuid';
import {
  InlineSqliteReaderDialect,
  InlineSqliteWriterDialect,
  WorkerSqliteDialect,
  type ProgramReply,
  type ProgramStep,
  type SyncTimer,
} from './sqlite-driver.ts';
import { prepareSearchFile, type SearchFileState } from './search-file.ts';
import type { Database } from './schema.ts';

export type DialectKind = 'sqlite' | 'postgres' | 'mysql';
export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
export type Executor = Db | Trx;

let pgLoaded: Promise<typeof pgModule> | null = null;
function loadPg(): Promise<typeof pgModule> {
  return (pgLoaded ??= import('pg').then((m) => {
    const pg = m.default;
    // int8 and numeric come back from pg as strings; every number Enclave stores fits in 2^53.
    pg.types.setTypeParser(20, (v) => Number(v));
    pg.types.setTypeParser(1700, (v) => Number(v));
    return pg;
  }));
}

export function dialectOf(url: string): DialectKind {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return 'mysql';
  throw new Error(`DATABASE_URL must start with sqlite:, postgres:// or mysql:// (got ${url.split(':')[0]}:)`);
}

export interface Connections {
  kind: DialectKind;
  /** Writes and transactions. */
  db: Db;
  /** Indexed reads that need not see the caller's own open transaction (SQLite: on the event loop). */
  openReader: () => Db;
  /** Heavy reads — whole-table loads, exports (SQLite: worker threads, off the event loop). */
  openBulkReader: () => Db;
  /** Statements executed, for tests that pin the cost of hot paths. */
  stats: { statements: number };
  /** SQLite: the main database file and the search index's own file beside it. */
  files?: { main: string; search: SearchFileState };
  /** SQLite: run a write batch as one program on the writer's program thread (Writer.runProgram). */
  programs?: ProgramRunner;
  /** SQLite: how long each WAL fsync takes (set `observe` to hear of them). */
  walSyncs?: SyncTimer;
}

/** Runs write batches as programs (SQLite); counts their statements with the rest. */
export interface ProgramRunner {
  /** Whether programs run yet (the first call starts their thread); until then, use transactions. */
  ready(): boolean;
  run(jobs: readonly (readonly ProgramStep[])[]): Promise<ProgramReply>;
}

export async function connect(url: string, poolSize: number, pgPreparedStatements = true): Promise<Connections> {
  const kind = dialectOf(url);
  const stats = { statements: 0 };
  const log = () => {
    stats.statements++;
  };
  if (kind === 'sqlite') {
    const file = url.slice('sqlite:'.length);
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // Before the migrations: an index still in the main database is copied to its own file first.
    const search = prepareSearchFile(file);
    const walSyncs: SyncTimer = { observe: null };
    const writer = new InlineSqliteWriterDialect({ file, syncTimer: walSyncs });
    const db = new Kysely<Database>({ log, dialect: writer });
    const programs: ProgramRunner = {
      ready: () => writer.programsReady(),
      async run(jobs) {
        const reply = await writer.runProgram(jobs);
        stats.statements += reply.statements;
        return reply;
      },
    };
    // Message search reads the index's file, attached as `search`, beside the main database.
    const openBulkReader = () =>
      new Kysely<Database>({
        log,
        dialect: new WorkerSqliteDialect({ file, readonly: true, connections: 2, attach: { search: search.file } }),
      });
    const openReader = () => new Kysely<Database>({ log, dialect: new InlineSqliteReaderDialect({ file }) });
    return { kind, db, openReader, openBulkReader, stats, files: { main: file, search }, programs, walSyncs };
  }
  if (kind === 'postgres') {
    const pg = await loadPg();
    const pool = new pg.Pool({ connectionString: url, max: poolSize });
    if (pgPreparedStatements) pool.on('connect', (client) => namePreparedStatements(client));
    const db = new Kysely<Database>({ log, dialect: new PostgresDialect({ pool }) });
    return { kind, db, openReader: () => db, openBulkReader: () => db, stats };
  }
  const { createPool } = await import('mysql2');
  const pool = createPool({
    uri: url.replace(/^mariadb:/, 'mysql:'),
    connectionLimit: poolSize,
    charset: 'utf8mb4_bin',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    timezone: 'Z',
  });
  const db = new Kysely<Database>({
    log,
    dialect: new MysqlDialect({
      pool,
      // READ COMMITTED everywhere: REPEATABLE READ would let a locking read and a plain read disagree.
      onCreateConnection: async (conn) => {
        await conn.executeQuery(CompiledQuery.raw('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'));
      },
    }),
  });
  return { kind, db, openReader: () => db, openBulkReader: () => db, stats };
}

/** Named statement texts, by name (the same name on every connection), and how often others were seen. */
const statementNames = new Map<string, string>();
const timesSeen = new Map<string, number>();
const MAX_NAMED_STATEMENTS = 500;

/**
 * PostgreSQL: a statement with parameters run a third time becomes a named prepared statement, so
 * each connection parses and analyses its text once, and PostgreSQL may keep a generic plan for it
 * (after five runs, when that plan costs no more than the custom ones) — a socket sign-in, sync and a
 * history page took about half the database time (bench/probe-pg-prepared.ts).
 * Bounded: texts seen only once or twice (lists of varying length) and those past
 * MAX_NAMED_STATEMENTS run unnamed, as do `like` searches, whose plan depends on the pattern.
 */
function namePreparedStatements(client: { query: (...args: never[]) => unknown }): void {
  const query = client.query.bind(client) as (a: unknown, b?: unknown) => unknown;
  client.query = ((text: unknown, values?: unknown) => {
    if (typeof text === 'string' && Array.isArray(values) && values.length) {
      const name = statementNames.get(text) ?? nameIfHot(text);
      if (name !== undefined) return query({ name, text, values });
    }
    return query(text, values);
  }) as never;
}

function nameIfHot(text: string): string | undefined {
  if (statementNames.size >= MAX_NAMED_STATEMENTS || / like /i.test(text)) return undefined;
  const n = (timesSeen.get(text) ?? 0) + 1;
  if (n < 3) {
    if (timesSeen.size >= 5_000) timesSeen.clear();
    timesSeen.set(text, n);
    return undefined;
  }
  timesSeen.delete(text);
  const name = `enclave_${statementNames.size}`;
  statementNames.set(text, name);
  return name;
}

/* ---------- ids ---------- */

export function uidToDb(kind: DialectKind, uid: string): unknown {
  return kind === 'postgres' ? uid : Buffer.from(uuidParse(uid));
}

export function uidFromDb(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return uuidStringify(value);
  throw new Error('unexpected id value from the store');
}

/* ---------- errors ---------- */

interface DbError {
  code?: string | number;
  errno?: number;
}

export function isUniqueViolation(e: unknown): boolean {
  const err = e as DbError;
  return (
    err?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    err?.code === '23505' ||
    err?.code === 'ER_DUP_ENTRY' ||
    err?.errno === 1062
  );
}

/** Deadlocks and serialization failures: the whole transaction may be retried. */
export function isRetryableConflict(e: unknown): boolean {
  const err = e as DbError;
  return (
    err?.code === '40001' ||
    err?.code === '40P01' ||
    err?.errno === 1213 ||
    err?.errno === 1205 ||
    err?.code === 'SQLITE_BUSY'
  );
}

/* ---------- counters ---------- */

export interface SeqAllocation {
  seq: number;
  msgNo: number;
  ts: number;
  /** Membership version as of this seq (read under the row lock, so exact). */
  memberVersion: number;
}

export interface CounterRow {
  last_seq: number;
  last_msg_no: number;
  last_ts: number;
  member_version: number;
}

export function counterResult(row: CounterRow | undefined): SeqAllocation {
  if (!row) throw new Error('conversation counter row missing');
  return {
    seq: Number(row.last_seq),
    msgNo: Number(row.last_msg_no),
    ts: Number(row.last_ts),
    memberVersion: Number(row.member_version),
  };
}

/**
 * Take the next seq of a conversation inside the caller's transaction. The counter row stays locked
 * until commit, so commit order equals seq order and seq has no gaps (a rollback returns the number).
 * `ts = max(now, last_ts)` so times never run backwards within a conversation.
 */
const sqliteNextSeq = (preview: string, inc: number) =>
  `update conversations set ${preview}last_seq = last_seq + 1, last_msg_no = last_msg_no + ${inc},
    last_ts = case when last_ts < ? then ? else last_ts end where id = ?
    returning last_seq, last_msg_no, last_ts, member_version`;
const SQLITE_NEXT_SEQ_COUNTED = sqliteNextSeq('last_msg_seq = last_seq + 1, ', 1);
const SQLITE_NEXT_SEQ = sqliteNextSeq('', 0);

/**
 * allocateSeq as a write program's step (SQLite), named `alloc`: later steps take `last_seq`,
 * `last_msg_no`, `last_ts` and `member_version` from it; `counterResult(rows.alloc)` reads it after.
 */
export function allocateSeqStep(conversationId: number, countable: boolean, now: number): ProgramStep {
  return {
    name: 'alloc',
    sql: countable ? SQLITE_NEXT_SEQ_COUNTED : SQLITE_NEXT_SEQ,
    params: [now, now, conversationId],
    requireRow: 'conversation_not_found',
  };
}

export async function allocateSeq(
  kind: DialectKind,
  trx: Trx,
  conversationId: number,
  countable: boolean,
  now: number,
): Promise<SeqAllocation> {
  if (kind === 'sqlite') {
    // The hottest statement of all: fixed SQL handed to the driver without building it through Kysely.
    const r = await trx.executeQuery<CounterRow>(
      CompiledQuery.raw(countable ? SQLITE_NEXT_SEQ_COUNTED : SQLITE_NEXT_SEQ, [now, now, conversationId]),
    );
    return counterResult(r.rows[0]);
  }
  const inc = countable ? 1 : 0;
  // last_msg_seq first: MySQL evaluates SET left to right with updated values, PG/SQLite with old ones;
  // in this order both give the new seq. It points the list preview at the newest countable message.
  const preview = countable ? sql`last_msg_seq = last_seq + 1, ` : sql``;
  const set = sql`${preview}last_seq = last_seq + 1, last_msg_no = last_msg_no + ${inc},
    last_ts = case when last_ts < ${now} then ${now} else last_ts end`;
  if (kind === 'mysql') {
    // MySQL has no UPDATE … RETURNING; the row lock is ours, so our own read sees our write.
    await sql`update conversations set ${set} where id = ${conversationId}`.execute(trx);
    const r = await sql<CounterRow>`select last_seq, last_msg_no, last_ts, member_version
      from conversations where id = ${conversationId}`.execute(trx);
    return counterResult(r.rows[0]);
  }
  const r = await sql<CounterRow>`update conversations set ${set} where id = ${conversationId}
    returning last_seq, last_msg_no, last_ts, member_version`.execute(trx);
  return counterResult(r.rows[0]);
}

/** Take the next useq of a user's own stream (same locking argument as allocateSeq). */
export async function allocateUseq(kind: DialectKind, trx: Trx, userId: number): Promise<number> {
  if (kind === 'mysql') {
    await sql`update users set last_useq = last_useq + 1 where id = ${userId}`.execute(trx);
    const r = await sql<{ last_useq: number }>`select last_useq from users where id = ${userId}`.execute(trx);
    return Number(r.rows[0]!.last_useq);
  }
  const r = await sql<{
    last_useq: number;
  }>`update users set last_useq = last_useq + 1 where id = ${userId} returning last_useq`.execute(trx);
  return Number(r.rows[0]!.last_useq);
}

/**
 * Lock a conversation's counter row for the rest of the transaction, before reading state that a
 * decision depends on (membership, roles). SQLite needs nothing: BEGIN IMMEDIATE already holds the
 * only write lock.
 */
export async function lockConversation(kind: DialectKind, trx: Trx, conversationId: number): Promise<void> {
  if (kind === 'sqlite') return;
  await sql`select id from conversations where id = ${conversationId} for update`.execute(trx);
}

/* ---------- inserts ---------- */

/** Insert one row and return its generated integer id. */
export async function insertReturningId<T extends 'users' | 'devices' | 'sessions' | 'conversations' | 'departments'>(
  kind: DialectKind,
  trx: Executor,
  table: T,
  values: Record<string, unknown>,
): Promise<number> {
  // The table-generic insert cannot be typed column by column; callers pass rows of that table.
  const q = trx.insertInto(table).values(values as never);
  if (kind === 'postgres') {
    const row = (await q.returning('id').executeTakeFirstOrThrow()) as { id: number };
    return Number(row.id);
  }
  const r = await q.executeTakeFirstOrThrow();
  return Number(r.insertId);
}

/** Insert rows, silently skipping those that hit a unique key. Returns the number inserted. */
export async function insertIgnore<T extends keyof Database>(
  kind: DialectKind,
  trx: Executor,
  table: T,
  rows: Record<string, unknown>[],
): Promise<number> {
  if (rows.length === 0) return 0;
  if (kind === 'mysql') {
    // INSERT IGNORE downgrades every error to a warning (a NULL in a NOT NULL column is stored as
    // '' or 0), not just duplicate keys. Each skipped duplicate leaves exactly one warning, so any
    // warning beyond those is another error: fail like PG/SQLite. Outside a transaction, run in one
    // so the bad row is rolled back; inside, the caller's transaction fails (as it would on PG).
    const run = async (ex: Executor): Promise<number> => {
      const r = await ex
        .insertInto(table)
        .values(rows as never)
        .ignore()
        .executeTakeFirst();
      const inserted = Number(r.numInsertedOrUpdatedRows ?? 0);
      const w = await sql<{ n: number }>`select @@warning_count as n`.execute(ex);
      if (Number(w.rows[0]?.n ?? 0) > rows.length - inserted) {
        const all = await sql<{ Code: number; Message: string }>`show warnings`.execute(ex);
        const bad = all.rows.find((x) => Number(x.Code) !== 1062);
        throw Object.assign(new Error(bad?.Message ?? 'insert failed with a non-duplicate warning'), {
          errno: bad ? Number(bad.Code) : undefined,
        });
      }
      return inserted;
    };
    return trx.isTransaction ? run(trx) : trx.transaction().execute(run);
  }
  const r = await trx
    .insertInto(table)
    .values(rows as never)
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0);
}

/* ---------- schema ---------- */

/** Column type for public UUIDs. */
export function uidType(kind: DialectKind) {
  return kind === 'postgres' ? sql`uuid` : kind === 'mysql' ? sql`binary(16)` : sql`blob`;
}

/** Column type for bounded strings that are indexed (MySQL cannot index TEXT without a length). */
export function keyText(kind: DialectKind, n: number) {
  return kind === 'sqlite' ? sql`text` : sql.raw(`varchar(${n})`);
}

/** Column type for unbounded text (bodies, JSON). */
export function longText(kind: DialectKind) {
  return kind === 'mysql' ? sql`mediumtext` : sql`text`;
}

/** Trailing table options: clustered key without rowid on SQLite, utf8mb4 binary collation on MySQL. */
export function tableOptions(kind: DialectKind, clustered: boolean) {
  if (kind === 'mysql') return sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`;
  if (kind === 'sqlite' && clustered) return sql`without rowid`;
  return sql``;
}

/** Integer primary key with an auto-generated value. */
export function addIdColumn<T extends CreateTableBuilder<string, never>>(kind: DialectKind, t: T): T {
  if (kind === 'postgres') return t.addColumn('id', 'bigserial', (c) => c.primaryKey()) as T;
  if (kind === 'mysql') return t.addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement()) as T;
  return t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement()) as T;
}

/** Is the store reachable? */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
