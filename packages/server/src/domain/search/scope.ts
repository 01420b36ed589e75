import type { Executor } from '../../store/dialect.ts';
import { uidFromDb } from '../../store/dialect.ts';
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
 * The conversations a viewer may search now: those they are an active member of, each with the seq
 * ranges they may see (their membership periods; from seq 1 where history is `all`) — the same rule
 * as access.ts `loadAccessById`, for all conversations at once in a fixed number of statements.
 */
export async function loadScope(exec: Executor, userId: number): Promise<Map<number, ScopeConv>> {
  const rows = await exec
    .selectFrom('members as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .select(['c.id', 'c.uid', 'c.kind', 'c.name', 'c.history_mode', 'c.member_count'])
    .where('m.user_id', '=', userId)
    .where('m.active', '=', 1)
    .execute();
  const out = new Map<number, ScopeConv & { all: boolean }>();
  for (const r of rows)
    out.set(Number(r.id), {
      id: Number(r.id),
      uid: uidFromDb(r.uid),
      kind: r.kind,
      name: r.name,
      memberCount: Number(r.member_count),
      ranges: [],
      all: r.history_mode === 'all',
    });
  const ids = [...out.keys()];
  for (let i = 0; i < ids.length; i += 500) {
    const periods = await exec
      .selectFrom('member_periods')
      .select(['conversation_id', 'from_seq', 'to_seq'])
      .where('user_id', '=', userId)
      .where('conversation_id', 'in', ids.slice(i, i + 500))
      .orderBy('conversation_id')
      .orderBy('from_seq')
      .execute();
    for (const p of periods)
      out.get(Number(p.conversation_id))!.ranges.push({
        from: Number(p.from_seq),
        to: p.to_seq === null ? NO_END : Number(p.to_seq),
      });
  }
  for (const c of out.values()) {
    if (c.all && c.ranges[0]) c.ranges[0] = { ...c.ranges[0], from: 1 };
    if (!c.ranges.length) out.delete(c.id);
  }
  return out;
}
