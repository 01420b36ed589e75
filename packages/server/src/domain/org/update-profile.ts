import { EnclaveError, type Person } from '@enclave/protocol';
import type { Deps } from '../deps.ts';
import { isUniqueViolation } from '../../store/dialect.ts';
import { presentPerson } from '../people/present-people.ts';

export interface ProfilePatch {
  displayName?: string | undefined;
  phone?: string | null | undefined;
  email?: string | null | undefined;
  avatarId?: string | null | undefined;
  employeeNo?: string | null | undefined;
}

const columns = {
  displayName: 'display_name',
  phone: 'phone',
  email: 'email',
  avatarId: 'avatar_id',
  employeeNo: 'employee_no',
} as const;

/**
 * Edit a profile. Administrators edit every field; a user editing their own profile may change only
 * the fields in ENCLAVE_PROFILE_SELF_EDIT (else profile_field_locked). Employee numbers are unique.
 */
export async function updateProfile(
  deps: Deps,
  userUid: string,
  patch: ProfilePatch,
  as: 'admin' | 'self',
): Promise<Person> {
  const userId = await deps.directory.idOf(userUid);
  const set: Record<string, string | number | null> = {};
  for (const [field, column] of Object.entries(columns) as [keyof ProfilePatch, string][]) {
    const value = patch[field];
    if (value === undefined) continue;
    if (as === 'self' && !deps.config.profileSelfEdit.includes(field))
      throw new EnclaveError('profile_field_locked', `Your administrator does not let users edit ${field}.`, { field });
    // An empty string clears an optional field.
    set[column] = field !== 'displayName' && typeof value === 'string' && value.trim() === '' ? null : value;
  }
  if (Object.keys(set).length) {
    set.updated_at = deps.now();
    try {
      // The keys are the fixed column names above; Kysely cannot type a record built from them.
      await deps.store.db
        .updateTable('users')
        .set(set as never)
        .where('id', '=', userId)
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new EnclaveError('employee_no_taken');
      throw e;
    }
    await deps.people.refreshUsers([userId]);
  }
  return presentPerson(deps, userId);
}
