import type { Person } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { viewOf } from '../org/view-of.ts';
import { presentList } from './present-people.ts';

/** People I talked with recently (最近联系人): the peers of my direct conversations, newest activity first. */
export async function recentContacts(deps: Deps, viewer: Viewer, limit: number): Promise<Person[]> {
  const rows = await deps.store.reader
    .selectFrom('members as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .innerJoin('members as peer', (j) =>
      j.onRef('peer.conversation_id', '=', 'c.id').on('peer.user_id', '<>', viewer.userId),
    )
    .select(['peer.user_id as id', 'c.last_ts'])
    .where('m.user_id', '=', viewer.userId)
    .where('m.active', '=', 1)
    .where('c.kind', '=', 'direct')
    .orderBy('c.last_ts', 'desc')
    .orderBy('c.id', 'desc')
    .limit(limit)
    .execute();
  const view = viewOf(viewer);
  return presentList(
    deps,
    rows.map((r) => Number(r.id)).filter((id) => view.canSee(id)),
  );
}
