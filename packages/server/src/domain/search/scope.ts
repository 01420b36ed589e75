import { uidFromDb, type DialectKind, type Executor } from '../../store/dialect.ts';
import { precompiled } from '../../store/precompiled.ts';
import { NO_END, type Range } from '../access.ts';

export interface ScopeConv {
  id: number;
  uid: string;
  kind: 'direct' | 'group' | 'self';
  name: string;
  memberCount: number;
  ranges: Range[];
}

/**
 * A viewer's active memberships with their conversations and visible periods, oldest period first:
 * one statement (the periods are the primary key's prefix under each membership). A member of 1,000
 * groups read their scope in 6.2 ms as three statements on a worker-thread reader (the rows and their
 * ids copied between threads) against ~2 ms here, on the event loop's reader, as sync reads the same
 * list (docs/benchmarks.md, item 46).
 */
const scopeRows = precompiled((db, userId: number) =>
  db
    .selectFrom('members as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .innerJoin('member_periods as p', (j) =>
      j.onRef('p.conversation_id', '=', 'm.conversation_id').onRef('p.user_id', '=', 'm.user_id'),
    )
    .select(['c.id', 'c.uid', 'c.kind', 'c.name', 'c.history_mode', 'c.member_count', 'p.from_seq', 'p.to_seq'])
    .where('m.user_id', '=', userId)
    .where('m.active', '=', 1)
    .orderBy('m.conversation_id')
    .orderBy('p.from_seq'),
);

/**
 * The conversations a viewer may search now: those they are an active member of, each with the seq
 * ranges they may see (their membership periods; from seq 1 where history is `all`) — the same rule
 * as access.ts `loadAccessById`, for all conversations at once in one statement.
 */
export async function loadScope(kind: DialectKind, exec: Executor, userId: number): Promise<Map<number, ScopeConv>> {
  const out = new Map<number, ScopeConv>();
  for (const r of await scopeRows.rows(kind, exec, userId)) {
    const id = Number(r.id);
    let c = out.get(id);
    if (!c) {
      c = {
        id,
        uid: uidFromDb(r.uid),
        kind: r.kind,
        name: r.name,
        memberCount: Number(r.member_count),
        ranges: [],
      };
      out.set(id, c);
    }
    const from = Number(r.from_seq);
    c.ranges.push({
      // A conversation whose history is `all` shows everything before the first period too.
      from: r.history_mode === 'all' && !c.ranges.length ? 1 : from,
      to: r.to_seq === null ? NO_END : Number(r.to_seq),
    });
  }
  return out;
}
