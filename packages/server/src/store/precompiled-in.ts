import type { Compilable } from 'kysely';
import type { DialectKind, Executor } from './dialect.ts';
import { precompiled } from './precompiled.ts';

/**
 * `precompiled` for a statement with one `in (…)` list, such as the messages of a history page:
 * one statement per list length rounded up to a power of two, the list padded by repeating its last
 * value (a repeated value in `in` selects nothing more). A page of 1–200 seqs so uses one of nine SQL
 * texts, none built by Kysely per call. `build` gets the list first, then the other arguments, and
 * must use every element as a value (`where(col, 'in', list)`).
 *
 *   const bySeq = precompiledIn((db, seqs: number[], convId: number) =>
 *     db.selectFrom('messages').select('seq').where('conversation_id', '=', convId).where('seq', 'in', seqs));
 *   const rows = await bySeq.rows(kind, exec, [3, 5, 8], convId);
 */
export function precompiledIn<L, A extends unknown[], O>(
  build: (db: Executor, list: L[], ...args: A) => Compilable<O>,
) {
  const bySize = new Map<number, ReturnType<typeof precompiled<unknown[], O>>>();

  function statement(size: number) {
    let p = bySize.get(size);
    if (!p) {
      p = precompiled<unknown[], O>((db, ...xs) => build(db, xs.slice(0, size) as L[], ...(xs.slice(size) as A)));
      bySize.set(size, p);
    }
    return p;
  }

  return {
    /** Every row; no statement for an empty list. */
    async rows(kind: DialectKind, db: Executor, list: readonly L[], ...args: A): Promise<O[]> {
      if (!list.length) return [];
      let size = 1;
      while (size < list.length) size *= 2;
      const xs: unknown[] = list.slice();
      const last = list[list.length - 1];
      while (xs.length < size) xs.push(last);
      for (const a of args) xs.push(a);
      return statement(size).rows(kind, db, ...xs);
    },
  };
}
