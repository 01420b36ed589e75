import { EnclaveError, type User } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { toUser } from '../directory.ts';
import { uidToDb } from '../../store/dialect.ts';
import { precompiled } from '../../store/precompiled.ts';

const userColumns = ['id', 'uid', 'username', 'display_name', 'role', 'disabled'] as const;

/** Read at every socket's sign-in (the hello frame): built by Kysely once. */
const userByUid = precompiled((db, uid: unknown) => db.selectFrom('users').select(userColumns).where('uid', '=', uid));

export async function getUser(deps: Deps, uid: string): Promise<User> {
  const row = await userByUid.first(deps.store.kind, deps.store.reader, uidToDb(deps.store.kind, uid));
  if (!row) throw new EnclaveError('user_not_found');
  return toUser(row);
}

/** Find users by username or display-name prefix (the organisation search with pinyin comes later). */
export async function findUsers(deps: Deps, q: string | undefined, limit: number): Promise<User[]> {
  let query = deps.store.reader.selectFrom('users').select(userColumns).orderBy('username').limit(limit);
  const term = q?.trim().toLowerCase();
  if (term) {
    // Wildcards are dropped rather than escaped: escape syntax differs between the stores.
    const escaped = term.replace(/[\\%_]/g, '');
    query = query.where((eb) =>
      eb.or([eb('username', 'like', `${escaped}%`), eb('display_name', 'like', `%${escaped}%`)]),
    );
  }
  return (await query.execute()).map(toUser);
}
