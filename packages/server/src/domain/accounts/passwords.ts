import { EnclaveError, type User } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { toUser } from '../directory.ts';
import { uidToDb } from '../../store/dialect.ts';
import { checkPasswordRules } from './create-user.ts';
import { revokeSessions } from './sessions.ts';

/** Change my password: every other session is revoked and its sockets close. */
export async function changePassword(deps: Deps, viewer: Viewer, current: string, next: string): Promise<void> {
  const row = await deps.store.db
    .selectFrom('users')
    .select('password_hash')
    .where('id', '=', viewer.userId)
    .executeTakeFirstOrThrow();
  if (!(await deps.hasher.verify(row.password_hash, current)))
    throw new EnclaveError('invalid_credentials', 'The current password is wrong.');
  if (current === next) throw new EnclaveError('weak_password', 'The new password must differ from the current one.');
  checkPasswordRules(next);
  const hash = await deps.hasher.hash(next);
  const ev = await deps.store.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ password_hash: hash, must_change_password: 0, updated_at: deps.now() })
      .where('id', '=', viewer.userId)
      .execute();
    return revokeSessions(
      trx,
      deps.now(),
      { userId: viewer.userId, exceptSessionId: viewer.sessionId },
      'password_changed',
    );
  });
  deps.bus.publish(ev);
}

async function findUser(deps: Deps, uid: string) {
  const row = await deps.store.db
    .selectFrom('users')
    .select(['id', 'uid', 'username', 'display_name', 'role', 'disabled'])
    .where('uid', '=', uidToDb(deps.store.kind, uid))
    .executeTakeFirst();
  if (!row) throw new EnclaveError('user_not_found');
  return row;
}

/** Disable (closing every socket and session of the user) or enable a user. */
export async function setUserDisabled(deps: Deps, actor: Viewer | null, uid: string, disabled: boolean): Promise<User> {
  const row = await findUser(deps, uid);
  if (actor && Number(row.id) === actor.userId && disabled)
    throw new EnclaveError('forbidden', 'You cannot disable yourself.');
  const ev = await deps.store.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ disabled: disabled ? 1 : 0, updated_at: deps.now() })
      .where('id', '=', Number(row.id))
      .execute();
    return disabled ? revokeSessions(trx, deps.now(), { userId: Number(row.id) }, 'disabled') : null;
  });
  if (ev) deps.bus.publish(ev);
  // Search results and headcounts stop (or start) counting the user now, not at the next sweep.
  await deps.people.refreshUsers([Number(row.id)]);
  deps.log.info({ actor: actor?.uid ?? 'cli', target: uid, disabled }, 'admin changed user state');
  return toUser({ ...row, disabled: disabled ? 1 : 0 });
}

/** Set a new password; the user must change it at next sign-in. All their sessions end. */
export async function resetPassword(deps: Deps, actor: Viewer | null, uid: string, password: string): Promise<void> {
  const row = await findUser(deps, uid);
  checkPasswordRules(password);
  const hash = await deps.hasher.hash(password);
  const ev = await deps.store.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ password_hash: hash, must_change_password: 1, updated_at: deps.now() })
      .where('id', '=', Number(row.id))
      .execute();
    return revokeSessions(trx, deps.now(), { userId: Number(row.id) }, 'revoked');
  });
  deps.bus.publish(ev);
  deps.log.info({ actor: actor?.uid ?? 'cli', target: uid }, 'password reset');
}
