import { EnclaveError } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { convIdOf } from '../conv-ids.ts';

/**
 * Who gets "X is typing" in a conversation: its other active members, from the cached member list
 * (no query on the hot path). The sender must be an active member; groups above the configured size
 * have typing off (P7: 50 typists × 5,000 members would be 250 k frames per 3 s).
 */
export async function typingAudience(
  deps: Pick<Deps, 'store' | 'members' | 'config'>,
  viewer: Pick<Viewer, 'userId'>,
  conversationUid: string,
): Promise<{ conversationId: number; toUserIds: number[] }> {
  const conversationId = await convIdOf(deps, conversationUid);
  let list = await deps.members.get(conversationId, 0);
  if (!list.members.has(viewer.userId)) {
    // Not in the cached active list: a former member is told so, anyone else learns nothing; a
    // member added since the list was cached gets a fresh list.
    const row = await deps.store.reader
      .selectFrom('members')
      .select('active')
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', viewer.userId)
      .executeTakeFirst();
    if (!row) throw new EnclaveError('conversation_not_found');
    if (!Number(row.active)) throw new EnclaveError('not_a_member');
    deps.members.invalidate(conversationId);
    list = await deps.members.get(conversationId, 0);
  }
  if (list.kind === 'group' && list.members.size > deps.config.typingMaxMembers)
    throw new EnclaveError('typing_disabled');
  const toUserIds: number[] = [];
  for (const u of list.members.keys()) if (u !== viewer.userId) toUserIds.push(u);
  return { conversationId, toUserIds };
}
