import { EnclaveError, limits, type User } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { insertReturningId, isUniqueViolation, uidToDb } from '../../store/dialect.ts';
import { newUid } from '../../lib/ids.ts';

export interface NewUser {
  username: string;
  displayName: string;
  password: string;
  role?: 'admin' | 'user';
  mustChangePassword?: boolean;
}

export function checkPasswordRules(password: string): void {
  if (password.length < limits.minPasswordChars)
    throw new EnclaveError('weak_password', `Passwords need at least ${limits.minPasswordChars} characters.`);
  if (new Set(password).size < 4) throw new EnclaveError('weak_password', 'The password is too repetitive.');
}

/** Create a user (administrators and the CLI). */
export async function createUser(deps: Deps, input: NewUser): Promise<User> {
  const username = input.username.toLowerCase();
  if (!new RegExp(limits.usernamePattern).test(username))
    throw new EnclaveError(
      'validation_failed',
      'Usernames are 2–32 lowercase letters, digits, dot, dash or underscore.',
    );
  checkPasswordRules(input.password);
  const passwordHash = await deps.hasher.hash(input.password);
  const uid = newUid();
  const now = deps.now();
  try {
    const id = await insertReturningId(deps.store.kind, deps.store.db, 'users', {
      uid: uidToDb(deps.store.kind, uid),
      username,
      display_name: input.displayName,
      password_hash: passwordHash,
      role: input.role ?? 'user',
      disabled: 0,
      must_change_password: input.mustChangePassword ? 1 : 0,
      last_useq: 0,
      created_at: now,
      updated_at: now,
    });
    deps.directory.remember(id, uid);
  } catch (e) {
    if (isUniqueViolation(e)) throw new EnclaveError('username_taken');
    throw e;
  }
  return {
    id: uid as User['id'],
    username,
    displayName: input.displayName,
    role: input.role ?? 'user',
    disabled: false,
  };
}
