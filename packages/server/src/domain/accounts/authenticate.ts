import { EnclaveError, type User } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { uidFromDb, type Executor } from '../../store/dialect.ts';
import { hashToken } from '../../lib/ids.ts';
import { precompiled, readTogether } from '../../store/precompiled.ts';
import { toUser } from '../directory.ts';

/** The session of a token hash with its user and device (every request's and socket's sign-in). */
const sessionQuery = (db: Executor, tokenHash: string) =>
  db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .innerJoin('devices as d', 'd.id', 's.device_id')
    .select([
      's.id as session_id',
      's.uid as session_uid',
      's.revoked_at',
      's.last_used_at',
      'u.id as user_id',
      'u.uid as user_uid',
      'u.username',
      'u.display_name',
      'u.role',
      'u.disabled',
      'u.must_change_password',
      'd.id as device_id',
      'd.uid as device_uid',
    ])
    .where('s.token_hash', '=', tokenHash);

/** Built by Kysely once, not per request. */
const sessionByToken = precompiled(sessionQuery);

/**
 * A socket's sign-in also asks whether anyone follows the user: when no one does, their coming
 * online has no one to tell, and presence skips looking for followers (a statement per sign-in).
 */
const socketSessionByToken = precompiled((db, tokenHash: string) =>
  sessionQuery(db, tokenHash).select((eb) =>
    eb.exists(eb.selectFrom('follows as f').select('f.user_id').whereRef('f.target_id', '=', 'u.id')).as('followed'),
  ),
);

/** Resolve a session token to a viewer, or throw `unauthenticated` / `account_disabled`. */
export async function authenticate(deps: Deps, token: string): Promise<Viewer> {
  const [[row]] = await readTogether(deps.store, deps.store.reader, sessionByToken.with(hashToken(token)));
  return viewerOf(deps, usable(row));
}

/**
 * `authenticate` for a socket: also the signed-in user as the hello frame shows it, and whether
 * anyone followed them at that moment — from the same statement.
 */
export async function authenticateSocket(
  deps: Deps,
  token: string,
): Promise<{ viewer: Viewer; user: User; followed: boolean }> {
  const [[found]] = await readTogether(deps.store, deps.store.reader, socketSessionByToken.with(hashToken(token)));
  const row = usable(found);
  const viewer = viewerOf(deps, row);
  const user = toUser({
    id: viewer.userId,
    uid: row.user_uid,
    username: row.username,
    display_name: row.display_name,
    role: row.role,
    disabled: row.disabled,
  });
  return { viewer, user, followed: !!Number(row.followed) };
}

type SessionRow = Awaited<ReturnType<typeof sessionByToken.rows>>[number];

/** The row of a live session of an enabled user, or throw `unauthenticated` / `account_disabled`. */
function usable<R extends SessionRow>(row: R | undefined): R {
  if (!row || row.revoked_at !== null)
    throw new EnclaveError('unauthenticated', 'The session has ended; sign in again.');
  if (Number(row.disabled)) throw new EnclaveError('account_disabled');
  return row;
}

/** The viewer of a usable session's row; its "last used" is noted (in batches). */
function viewerOf(deps: Deps, row: SessionRow): Viewer {
  const now = deps.now();
  if (now - Number(row.last_used_at) > 60_000) touchSession(deps, Number(row.session_id));
  const viewer: Viewer = {
    userId: Number(row.user_id),
    uid: uidFromDb(row.user_uid),
    role: row.role,
    sessionId: Number(row.session_id),
    sessionUid: uidFromDb(row.session_uid),
    deviceId: Number(row.device_id),
    deviceUid: uidFromDb(row.device_uid),
    mustChangePassword: !!Number(row.must_change_password),
  };
  deps.directory.remember(viewer.userId, viewer.uid);
  return viewer;
}

/**
 * "Last used" is best effort and coarse (a minute), so it is written in batches: one UPDATE per
 * second for every session seen since, instead of one committed (fsynced) write per connect — a
 * reconnect storm of 5,000 sockets costs a handful of statements, not 5,000 commits queued in
 * front of the messages.
 */
const touches = new WeakMap<Deps, { ids: Set<number>; timer: NodeJS.Timeout | null }>();
const TOUCH_FLUSH_MS = 1_000;
const TOUCH_CHUNK = 500;

function touchSession(deps: Deps, sessionId: number): void {
  let t = touches.get(deps);
  if (!t) touches.set(deps, (t = { ids: new Set(), timer: null }));
  t.ids.add(sessionId);
  if (t.timer) return;
  const batch = t;
  batch.timer = setTimeout(() => {
    batch.timer = null;
    const ids = [...batch.ids];
    batch.ids.clear();
    const now = deps.now();
    void (async () => {
      for (let i = 0; i < ids.length; i += TOUCH_CHUNK)
        await deps.store.db
          .updateTable('sessions')
          .set({ last_used_at: now })
          .where('id', 'in', ids.slice(i, i + TOUCH_CHUNK))
          .execute();
    })().catch((err: unknown) => deps.log.debug({ err }, 'session last-used update skipped'));
  }, TOUCH_FLUSH_MS);
  batch.timer.unref();
}
