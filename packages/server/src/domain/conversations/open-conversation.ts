import { EnclaveError, limits, type Conversation } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { isUniqueViolation } from '../../store/dialect.ts';
import { createConversation } from './create-conversation.ts';
import { querySummaries, stripInternal } from './summaries.ts';

async function summaryOf(deps: Deps, viewer: Viewer, id: number): Promise<Conversation> {
  const [s] = await querySummaries(deps, deps.store.db, viewer, { ids: [id], includeLeft: true });
  if (!s) throw new EnclaveError('conversation_not_found');
  return stripInternal(s);
}

/** Find or create the conversation keyed by `directKey`; concurrent creators end with one row. */
async function openKeyed(
  deps: Deps,
  viewer: Viewer,
  key: string,
  create: Parameters<typeof createConversation>[3],
): Promise<Conversation> {
  const find = () =>
    deps.store.db.selectFrom('conversations').select('id').where('direct_key', '=', key).executeTakeFirst();
  const found = await find();
  if (found) return summaryOf(deps, viewer, Number(found.id));
  try {
    const { id } = await deps.writer.run(0, (trx, out) => createConversation(deps, trx, out, create));
    return summaryOf(deps, viewer, id);
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    const again = await find();
    if (!again) throw e;
    return summaryOf(deps, viewer, Number(again.id));
  }
}

/** The one 1:1 conversation between the viewer and another user. */
export async function openDirect(deps: Deps, viewer: Viewer, peerUid: string): Promise<Conversation> {
  if (peerUid === viewer.uid) return openSelf(deps, viewer);
  const peerId = await deps.directory.idOf(peerUid);
  const [a, b] = viewer.userId < peerId ? [viewer.userId, peerId] : [peerId, viewer.userId];
  return openKeyed(deps, viewer, `d:${a}:${b}`, {
    kind: 'direct',
    name: '',
    directKey: `d:${a}:${b}`,
    historyMode: 'all',
    creatorId: viewer.userId,
    creatorUid: viewer.uid,
    members: [
      { userId: viewer.userId, uid: viewer.uid, role: 'member' },
      { userId: peerId, uid: peerUid, role: 'member' },
    ],
  });
}

/** The file assistant: a conversation with oneself, shared by all one's devices. */
export async function openSelf(deps: Deps, viewer: Viewer): Promise<Conversation> {
  return openKeyed(deps, viewer, `s:${viewer.userId}`, {
    kind: 'self',
    name: '',
    directKey: `s:${viewer.userId}`,
    historyMode: 'all',
    creatorId: viewer.userId,
    creatorUid: viewer.uid,
    members: [{ userId: viewer.userId, uid: viewer.uid, role: 'owner' }],
  });
}

/** Create a group with the viewer as owner. Unknown user ids are refused, not silently dropped. */
export async function createGroup(
  deps: Deps,
  viewer: Viewer,
  input: { name: string; memberIds: string[]; historyMode: 'from_join' | 'all' },
): Promise<Conversation> {
  const others = [...new Set(input.memberIds.filter((u) => u !== viewer.uid))];
  if (others.length + 1 > limits.maxGroupMembers) throw new EnclaveError('group_too_large');
  const ids = await deps.directory.idsOf(others);
  const unknown = others.filter((u) => !ids.has(u));
  if (unknown.length) throw new EnclaveError('user_not_found', 'Some users do not exist.', { userIds: unknown });
  const { id } = await deps.writer.run(0, (trx, out) =>
    createConversation(deps, trx, out, {
      kind: 'group',
      name: input.name,
      directKey: null,
      historyMode: input.historyMode,
      creatorId: viewer.userId,
      creatorUid: viewer.uid,
      members: [
        { userId: viewer.userId, uid: viewer.uid, role: 'owner' },
        ...others.map((uid) => ({ userId: ids.get(uid)!, uid, role: 'member' as const })),
      ],
    }),
  );
  return summaryOf(deps, viewer, id);
}

export { summaryOf };
