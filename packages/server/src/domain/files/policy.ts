import { EnclaveError, type FilePolicy } from '@enclave/protocol';
import type { Deps } from '../deps.ts';

const matches = (rule: string, mime: string) =>
  rule === mime || (rule.endsWith('/*') && mime.startsWith(rule.slice(0, -1))) || rule === '*/*';

/**
 * Check a size and a type against the policy; the error names the rule (`details.rule`: `maxBytes`,
 * `blockedTypes`, `allowedTypes`). Called with the declared size/type before an upload starts and
 * with the sniffed type when it completes.
 */
export function checkPolicy(policy: FilePolicy, size: number | null, mime: string | null): void {
  if (size !== null && size > policy.maxBytes)
    throw new EnclaveError('file_too_large', `Files may be at most ${policy.maxBytes} bytes; this one has ${size}.`, {
      rule: 'maxBytes',
      maxBytes: policy.maxBytes,
    });
  if (mime === null || mime === '') return;
  const m = mime.toLowerCase().split(';')[0]!.trim();
  const blocked = policy.blockedTypes.find((r) => matches(r, m));
  if (blocked)
    throw new EnclaveError('file_type_not_allowed', `Files of type ${m} are blocked (${blocked}).`, {
      rule: 'blockedTypes',
      type: m,
      matched: blocked,
    });
  if (policy.allowedTypes.length && !policy.allowedTypes.some((r) => matches(r, m)))
    throw new EnclaveError('file_type_not_allowed', `Files of type ${m} are not in the allowed list.`, {
      rule: 'allowedTypes',
      type: m,
    });
}

export async function getPolicy(deps: Deps): Promise<FilePolicy> {
  return deps.files.policy(deps.now());
}

export async function setPolicy(deps: Deps, patch: Partial<FilePolicy>): Promise<FilePolicy> {
  deps.files.forgetPolicy();
  const next = { ...(await deps.files.policy(deps.now())), ...patch };
  const value = JSON.stringify(next);
  await deps.store.db.transaction().execute(async (trx) => {
    const n = await trx.updateTable('file_settings').set({ value }).where('name', '=', 'policy').executeTakeFirst();
    if (!Number(n.numUpdatedRows)) await trx.insertInto('file_settings').values({ name: 'policy', value }).execute();
  });
  deps.files.forgetPolicy();
  deps.log.info({ policy: next }, 'file policy changed');
  return next;
}
