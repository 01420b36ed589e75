import { EnclaveError } from '@enclave/protocol';
import type { Deps } from './deps.ts';
import { uidToDb } from '../store/dialect.ts';
import { precompiled } from '../store/precompiled.ts';

const cache = new Map<string, number>();
const MAX = 200_000;

const idOfUid = precompiled((db, uid: unknown) => db.selectFrom('conversations').select('id').where('uid', '=', uid));

function remember(uid: string, id: number): void {
  if (cache.size >= MAX) cache.clear();
  cache.set(uid, id);
}

/** Internal id of a conversation (the pair never changes, so it is cached). Unknown → not found. */
export async function convIdOf(deps: Pick<Deps, 'store'>, uid: string): Promise<number> {
  const hit = cache.get(uid);
  if (hit !== undefined) return hit;
  const row = await idOfUid.first(deps.store.kind, deps.store.reader, uidToDb(deps.store.kind, uid));
  if (!row) throw new EnclaveError('conversation_not_found');
  remember(uid, Number(row.id));
  return Number(row.id);
}

/**
 * Pairs already read for another reason (the conversation list at sign-in): the first message a
 * user sends after signing in then skips the lookup.
 */
export function rememberConvId(uid: string, id: number): void {
  if (!cache.has(uid)) remember(uid, id);
}
