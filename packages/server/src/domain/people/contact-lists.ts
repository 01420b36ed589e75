import { EnclaveError, type Person } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { insertIgnore } from '../../store/dialect.ts';
import { viewOf } from '../org/view-of.ts';
import { presentList } from './present-people.ts';

/*
 * Favourite contacts (常用联系人) and follows (told when they come online: the presence engine reads
 * the follows table). Setting is idempotent: on twice is one row, off twice is none.
 */

type ListTable = 'favourites' | 'follows';
const column = { favourites: 'contact_id', follows: 'target_id' } as const;

async function setListed(deps: Deps, viewer: Viewer, table: ListTable, uid: string, on: boolean): Promise<void> {
  const target = await deps.directory.idOf(uid);
  if (!viewOf(viewer).canSee(target)) throw new EnclaveError('user_not_found');
  if (table === 'follows' && target === viewer.userId)
    throw new EnclaveError('validation_failed', 'You cannot follow yourself.');
  if (on)
    await insertIgnore(deps.store.kind, deps.store.db, table, [
      { user_id: viewer.userId, [column[table]]: target, created_at: deps.now() },
    ]);
  else if (table === 'favourites')
    await deps.store.db
      .deleteFrom('favourites')
      .where('user_id', '=', viewer.userId)
      .where('contact_id', '=', target)
      .execute();
  else
    await deps.store.db
      .deleteFrom('follows')
      .where('user_id', '=', viewer.userId)
      .where('target_id', '=', target)
      .execute();
}

async function listed(deps: Deps, viewer: Viewer, table: ListTable): Promise<Person[]> {
  const rows =
    table === 'favourites'
      ? await deps.store.reader
          .selectFrom('favourites')
          .select(['contact_id as id', 'created_at'])
          .where('user_id', '=', viewer.userId)
          .orderBy('created_at')
          .execute()
      : await deps.store.reader
          .selectFrom('follows')
          .select(['target_id as id', 'created_at'])
          .where('user_id', '=', viewer.userId)
          .orderBy('created_at')
          .execute();
  const view = viewOf(viewer);
  return presentList(
    deps,
    rows.map((r) => Number(r.id)).filter((id) => view.canSee(id)),
  );
}

export const setFavourite = (deps: Deps, viewer: Viewer, uid: string, on: boolean) =>
  setListed(deps, viewer, 'favourites', uid, on);
export const listFavourites = (deps: Deps, viewer: Viewer) => listed(deps, viewer, 'favourites');
export const setFollow = (deps: Deps, viewer: Viewer, uid: string, on: boolean) =>
  setListed(deps, viewer, 'follows', uid, on);
export const listFollowing = (deps: Deps, viewer: Viewer) => listed(deps, viewer, 'follows');
