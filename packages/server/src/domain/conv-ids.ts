import { EnclaveError } from '@enclave/protocol';
import type { Deps } from './deps.ts';
import { uidToDb } from '../store/dialect.ts';

const cache = new Map<string, number>();

/** Internal id of a conversation (the pair never changes, so it is cached). Unknown → not found. */
export async function convIdOf(deps: Pick<Deps, 'store'>, uid: string): Promise<number> {
  const hit = cache.get(uid);
  if (hit !== undefined) return hit;
  const row = await deps.store.reader
    .selectFrom('conversations')
    .select('id')
    .where('uid', '=', uidToDb(deps.store.kind, uid))
    .executeTakeFirst();
  if (!row) throw new EnclaveError('conversation_not_found');
  if (cache.size > 200_000) cache.clear();
  cache.set(uid, Number(row.id));
  return Number(row.id);
}
