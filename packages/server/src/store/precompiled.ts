import type { CompiledQuery, Compilable, QueryResult } from 'kysely';
import type { DialectKind, Executor } from './dialect.ts';

/** Stands for argument `i` while the query is built once; found again by identity in the parameters. */
class Slot {
  constructor(readonly i: number) {}
}

type Part = { arg: number } | { value: unknown };

/**
 * A statement built and compiled by Kysely once per dialect, then run with new arguments: the hot
 * paths (sending a message, signing in) skip Kysely's query building, which costs more than SQLite
 * executing the statement (docs/benchmarks.md, "Bottlenecks found"). `build` receives placeholders
 * in place of the arguments and must use each only as a value (`where(col, '=', a)`,
 * `values({ col: a })`) — never as a list, an identifier or inside a conditional — so that the SQL
 * text does not depend on the arguments. The result is typed by the builder, as with `.execute()`.
 *
 *   const dupOf = precompiled((db, senderId: number, clientMsgId: string) =>
 *     db.selectFrom('messages').select('seq').where('sender_id', '=', senderId).where('client_msg_id', '=', clientMsgId));
 *   const rows = await dupOf.rows(kind, trx, viewer.userId, input.clientMsgId);
 */
export function precompiled<A extends unknown[], O>(build: (db: Executor, ...args: A) => Compilable<O>) {
  const cache = new Map<DialectKind, { query: CompiledQuery<O>; parts: Part[] }>();

  function compiled(kind: DialectKind, db: Executor, argc: number) {
    let c = cache.get(kind);
    if (!c) {
      const slots = Array.from({ length: argc }, (_, i) => new Slot(i)) as unknown as A;
      const query = build(db, ...slots).compile();
      const parts = query.parameters.map((p): Part => (p instanceof Slot ? { arg: p.i } : { value: p }));
      const seen = new Set(parts.flatMap((p) => ('arg' in p ? [p.arg] : [])));
      if (seen.size !== argc) throw new Error(`precompiled: ${argc - seen.size} argument(s) not used as values`);
      c = { query, parts };
      cache.set(kind, c);
    }
    return c;
  }

  async function run(kind: DialectKind, db: Executor, ...args: A): Promise<QueryResult<O>> {
    const c = compiled(kind, db, args.length);
    const parameters = c.parts.map((p) => ('arg' in p ? args[p.arg] : p.value));
    return db.executeQuery<O>({ ...c.query, parameters });
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
  };
}
