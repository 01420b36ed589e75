import { CompiledQuery, type Compilable, type DatabaseConnection, type QueryResult } from 'kysely';
import type { DialectKind, Executor } from './dialect.ts';
import type { ProgramStep } from './sqlite-driver.ts';
import { inlinable, limitSlots, MAX_LIMIT_VARIANTS, withLimits, type LimitSlots } from './sqlite-limits.ts';

/** Stands for argument `i` while the query is built once; found again by identity in the parameters. */
class Slot {
  constructor(readonly i: number) {}
}

type Part = { arg: number } | { value: unknown };

/** A statement's LIMIT/OFFSET placeholders on SQLite (store/sqlite-limits.ts), with its texts by value. */
interface LimitsInline<O> extends LimitSlots {
  /** `parts` without them. */
  rest: Part[];
  /** By the value, or the values joined with commas. */
  byValues: Map<number | string, CompiledQuery<O>>;
}

/**
 * A statement built and compiled by Kysely once per dialect, then run with new arguments: the hot
 * paths (sending a message, signing in) skip Kysely's query building, which costs more than SQLite
 * executing the statement (docs/benchmarks.md, "Bottlenecks found"). `build` receives placeholders
 * in place of the arguments and must use each only as a value (`where(col, '=', a)`,
 * `values({ col: a })`, `limit(a)`) — never as a list, an identifier or inside a conditional — so
 * that the SQL text does not depend on the arguments. The result is typed by the builder, as with
 * `.execute()`.
 *
 *   const dupOf = precompiled((db, senderId: number, clientMsgId: string) =>
 *     db.selectFrom('messages').select('seq').where('sender_id', '=', senderId).where('client_msg_id', '=', clientMsgId));
 *   const rows = await dupOf.rows(kind, trx, viewer.userId, input.clientMsgId);
 */
export function precompiled<A extends unknown[], O>(build: (db: Executor, ...args: A) => Compilable<O>) {
  const cache = new Map<DialectKind, { query: CompiledQuery<O>; parts: Part[]; inline: LimitsInline<O> | null }>();

  function compiled(kind: DialectKind, db: Executor, argc: number) {
    let c = cache.get(kind);
    if (!c) {
      const slots = Array.from({ length: argc }, (_, i) => new Slot(i)) as unknown as A;
      const query = build(db, ...slots).compile();
      const parts = query.parameters.map((p): Part => (p instanceof Slot ? { arg: p.i } : { value: p }));
      const seen = new Set(parts.flatMap((p) => ('arg' in p ? [p.arg] : [])));
      if (seen.size !== argc) throw new Error(`precompiled: ${argc - seen.size} argument(s) not used as values`);
      c = { query, parts, inline: kind === 'sqlite' ? limitsInline<O>(query.sql, parts) : null };
      cache.set(kind, c);
    }
    return c;
  }

  /** The statement with these arguments, ready to execute. */
  function query(kind: DialectKind, db: Executor, args: A): CompiledQuery<O> {
    const c = compiled(kind, db, args.length);
    const valueOf = (p: Part) => ('arg' in p ? args[p.arg] : p.value);
    if (c.inline) {
      const inlined = inlineQuery(
        c.inline,
        c.query,
        c.inline.at.map((i) => valueOf(c.parts[i]!)),
      );
      if (inlined) return { ...inlined, parameters: c.inline.rest.map(valueOf) };
    }
    return { ...c.query, parameters: c.parts.map(valueOf) };
  }

  function run(kind: DialectKind, db: Executor, ...args: A): Promise<QueryResult<O>> {
    return db.executeQuery<O>(query(kind, db, args));
  }

  return {
    /** Every row. */
    async rows(kind: DialectKind, db: Executor, ...args: A): Promise<O[]> {
      return (await run(kind, db, ...args)).rows;
    },
    /** The first row, or undefined. */
    async first(kind: DialectKind, db: Executor, ...args: A): Promise<O | undefined> {
      return (await run(kind, db, ...args)).rows[0];
    },
    /** Rows changed (inserts, updates, deletes). */
    async changes(kind: DialectKind, db: Executor, ...args: A): Promise<number> {
      return Number((await run(kind, db, ...args)).numAffectedRows ?? 0n);
    },
    /** The statement with these arguments, for `readTogether`. */
    with(...args: A): Bound<O> {
      return { query: (kind, db) => query(kind, db, args) };
    },
  };
}

/** A precompiled statement with its arguments (`.with(…)`). */
export interface Bound<O> {
  query(kind: DialectKind, db: Executor): CompiledQuery<O>;
}

/**
 * A bound statement as a step of a write program (SQLite, domain/writer.ts `runProgram`); its
 * arguments may be `stepRef(…)`s to columns of rows earlier steps read.
 */
export function programStep(
  db: Executor,
  name: string,
  bound: Bound<unknown>,
  opts: Pick<ProgramStep, 'stopIfRow' | 'stopUnlessRow' | 'requireRow' | 'refuseBy' | 'all'> = {},
): ProgramStep {
  const q = bound.query('sqlite', db);
  return { name, sql: q.sql, params: q.parameters, ...opts };
}

type RowsOf<Q extends readonly Bound<unknown>[]> = {
  -readonly [K in keyof Q]: Q[K] extends Bound<infer O> ? O[] : never;
};

/** The inline SQLite reader's connection: runs a statement on the calling thread, now. */
interface SyncConnection extends DatabaseConnection {
  runSync<R>(compiled: CompiledQuery): { result: QueryResult<R> };
}

const isSyncConnection = (c: DatabaseConnection): c is SyncConnection =>
  typeof (c as Partial<SyncConnection>).runSync === 'function';

const BEGIN = CompiledQuery.raw('begin');
const COMMIT = CompiledQuery.raw('commit');

/**
 * Reads on one snapshot, each statement's rows in order. On the inline SQLite reader they run
 * synchronously, past Kysely's executor (its promises and logging cost a few µs a statement), and
 * two or more inside one read transaction: nothing else runs between them, so the snapshot cannot
 * be older than a commit the caller was already told of, and it is opened and closed once instead
 * of per statement (two file-lock calls and an fstat each). Elsewhere (PostgreSQL, MySQL, inside a
 * transaction) one statement after the other.
 */
export async function readTogether<const Q extends readonly Bound<unknown>[]>(
  store: { kind: DialectKind; stats: { statements: number } },
  db: Executor,
  ...statements: Q
): Promise<RowsOf<Q>> {
  if (store.kind === 'sqlite' && !db.isTransaction) {
    const rows = await db.getExecutor().provideConnection(async (conn) => {
      if (!isSyncConnection(conn)) return null;
      if (statements.length === 1) return [conn.runSync(statements[0]!.query(store.kind, db)).result.rows];
      conn.runSync(BEGIN);
      try {
        return statements.map((s) => conn.runSync(s.query(store.kind, db)).result.rows);
      } finally {
        conn.runSync(COMMIT);
      }
    });
    if (rows) {
      store.stats.statements += statements.length; // Kysely's log does not see these
      return rows as RowsOf<Q>;
    }
  }
  const rows: unknown[][] = [];
  for (const s of statements) rows.push((await db.executeQuery(s.query(store.kind, db))).rows);
  return rows as RowsOf<Q>;
}

/** Where a SQLite statement's `limit ?` / `offset ?` placeholders are; null when it has none. */
function limitsInline<O>(sqlText: string, parts: Part[]): LimitsInline<O> | null {
  const slots = limitSlots(sqlText, parts.length);
  if (!slots) return null;
  return { ...slots, rest: parts.filter((_, i) => !slots.at.includes(i)), byValues: new Map() };
}

/** The statement with these LIMIT/OFFSET values in its text; null to bind them instead. */
function inlineQuery<O>(l: LimitsInline<O>, query: CompiledQuery<O>, values: unknown[]): CompiledQuery<O> | null {
  if (!inlinable(values)) return null;
  const key = values.length === 1 ? values[0]! : values.join(',');
  let q = l.byValues.get(key);
  if (!q) {
    if (l.byValues.size >= MAX_LIMIT_VARIANTS) return null;
    q = { ...query, sql: withLimits(l, values) };
    l.byValues.set(key, q);
  }
  return q;
}
