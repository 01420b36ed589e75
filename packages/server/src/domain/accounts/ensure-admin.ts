import crypto from 'node:crypto';
import type { Deps } from '../deps.ts';
import { createUser } from './create-user.ts';

/**
 * On first start (no users at all) create the administrator `admin`. The password comes from
 * ENCLAVE_ADMIN_PASSWORD; otherwise one is generated, returned once for printing, and must be
 * changed at first sign-in.
 */
export async function ensureAdmin(deps: Deps): Promise<{ created: boolean; password: string | null }> {
  const any = await deps.store.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (any) return { created: false, password: null };
  const given = deps.config.adminPassword;
  const password = given ?? crypto.randomBytes(12).toString('base64url');
  await createUser(deps, {
    username: 'admin',
    displayName: 'Administrator',
    password,
    role: 'admin',
    mustChangePassword: given === null,
  });
  return { created: true, password: given === null ? password : null };
}
