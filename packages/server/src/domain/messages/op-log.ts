import { EnclaveError } from '@enclave/protocol';
import type { Trx } from '../../store/dialect.ts';

/**
 * Idempotency for durable operations other than send: (user, clientOpId) → stored result. A retry
 * returns the stored result; the same id used for another operation is `idempotency_conflict`.
 */
export async function priorResult<T>(trx: Trx, userId: number, clientOpId: string, op: string): Promise<T | undefined> {
  const row = await trx
    .selectFrom('op_log')
    .select(['op', 'result'])
    .where('user_id', '=', userId)
    .where('client_op_id', '=', clientOpId)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.op !== op) throw new EnclaveError('idempotency_conflict');
  return JSON.parse(row.result) as T;
}

export async function recordResult(
  trx: Trx,
  userId: number,
  clientOpId: string,
  op: string,
  result: unknown,
  now: number,
): Promise<void> {
  await trx
    .insertInto('op_log')
    .values({ user_id: userId, client_op_id: clientOpId, op, result: JSON.stringify(result), created_at: now })
    .execute();
}
