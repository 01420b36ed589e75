import { EnclaveError, type Session, type User } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { toUser } from '../directory.ts';
import { insertReturningId, isUniqueViolation, uidToDb } from '../../store/dialect.ts';
import { hashToken, newToken, newUid } from '../../lib/ids.ts';

export interface LoginInput {
  username: string;
  password: string;
  deviceId?: string | undefined;
  deviceName: string;
  ip: string | null;
  userAgent: string | null;
}

export interface LoginResult {
  token: string;
  session: Session;
  user: User;
  mustChangePassword: boolean;
}

// A fixed hash to verify against when the user does not exist, so timing does not reveal usernames.
let dummyHash: Promise<string> | null = null;

/** Sign in: throttled per (account, IP), argon2id in a bounded queue, one session per device. */
export async function login(deps: Deps, input: LoginInput): Promise<LoginResult> {
  const username = input.username.toLowerCase();
  const key = `${username}|${input.ip ?? ''}`;
  const wait = deps.throttle.check(key);
  if (wait > 0)
    throw new EnclaveError('login_throttled', `Too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s.`, {
      retryAfterMs: wait,
    });
  const row = await deps.store.db
    .selectFrom('users')
    .select(['id', 'uid', 'username', 'display_name', 'role', 'disabled', 'password_hash', 'must_change_password'])
    .where('username', '=', username)
    .executeTakeFirst();
  dummyHash ??= deps.hasher.hash('enclave-dummy-password');
  const ok = await deps.hasher.verify(row?.password_hash ?? (await dummyHash), input.password);
  if (!row || !ok) {
    deps.throttle.fail(key);
    throw new EnclaveError('invalid_credentials');
  }
  deps.throttle.succeed(key);
  if (Number(row.disabled)) throw new EnclaveError('account_disabled');
  const userId = Number(row.id);
  const now = deps.now();
  const kind = deps.store.kind;
  const deviceUid = (input.deviceId ?? newUid()).toLowerCase();
  const token = newToken();
  const sessionUid = newUid();
  await deps.store.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('devices')
      .select('id')
      .where('user_id', '=', userId)
      .where('uid', '=', uidToDb(kind, deviceUid))
      .executeTakeFirst();
    let id: number;
    if (existing) {
      id = Number(existing.id);
      await trx
        .updateTable('devices')
        .set({ name: input.deviceName, last_seen_at: now })
        .where('id', '=', id)
        .execute();
      // One live session per device: signing in again on the same device replaces the old session.
      await trx
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('device_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    } else {
      try {
        id = await insertReturningId(kind, trx, 'devices', {
          uid: uidToDb(kind, deviceUid),
          user_id: userId,
          name: input.deviceName,
          created_at: now,
          last_seen_at: now,
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new EnclaveError('server_busy', 'Device registration raced; retry.');
        throw e;
      }
    }
    await insertReturningId(kind, trx, 'sessions', {
      uid: uidToDb(kind, sessionUid),
      user_id: userId,
      device_id: id,
      token_hash: hashToken(token),
      created_at: now,
      last_used_at: now,
      revoked_at: null,
      ip: input.ip,
      user_agent: input.userAgent?.slice(0, 255) ?? null,
    });
  });
  return {
    token,
    user: toUser(row),
    mustChangePassword: !!Number(row.must_change_password),
    session: {
      id: sessionUid as Session['id'],
      deviceId: deviceUid as Session['deviceId'],
      deviceName: input.deviceName,
      createdAt: now,
      lastUsedAt: now,
      ip: input.ip,
      current: true,
    },
  };
}
