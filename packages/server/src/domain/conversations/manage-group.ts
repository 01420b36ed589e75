import { EnclaveError, limits, type Conversation, type Member } from '@enclave/protocol';
import type { Deps, Outbox, Viewer } from '../deps.ts';
import { lockConversation, type Trx } from '../../store/dialect.ts';
import { convColumns, loadAccessById, requireActive, requireGroupAdmin, toConvRow, type Access } from '../access.ts';
import { appendEvent, appendUserEvents } from '../append.ts';
import { convIdOf } from '../conv-ids.ts';
import { summaryOf } from './open-conversation.ts';

/** Run a group write in the writer with fresh access rows read inside the transaction. */
async function groupWrite<T>(
  deps: Deps,
  viewer: Viewer,
  conversationUid: string,
  fn: (trx: Trx, out: Outbox, a: Access) => Promise<T>,
): Promise<T> {
  const id = await convIdOf(deps, conversationUid);
  return deps.writer.run(id, async (trx, out) => {
    // Decisions below read roles and membership: take the row lock first (see lockConversation).
    await lockConversation(deps.store.kind, trx, id);
    const row = await trx
      .selectFrom('conversations')
      .select(convColumns)
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const a = await loadAccessById(trx, viewer, toConvRow(row));
    return fn(trx, out, a);
  });
}

/** Bump the membership version; events written after this in the transaction carry it. */
async function bumpMembers(trx: Trx, convId: number, delta: number): Promise<void> {
  await trx
    .updateTable('conversations')
    .set((eb) => ({ member_version: eb('member_version', '+', 1), member_count: eb('member_count', '+', delta) }))
    .where('id', '=', convId)
    .execute();
}

export async function updateGroup(
  deps: Deps,
  viewer: Viewer,
  input: {
    conversationId: string;
    name?: string;
    announcement?: string | null;
    allMuted?: boolean;
    historyMode?: 'from_join' | 'all';
  },
): Promise<Conversation> {
  const id = await groupWrite(deps, viewer, input.conversationId, async (trx, out, a) => {
    requireGroupAdmin(a);
    if (input.historyMode !== undefined && a.member.role !== 'owner')
      throw new EnclaveError('forbidden', 'Only the owner may change history visibility.');
    const data: Record<string, unknown> = {};
    if (input.name !== undefined) data.name = input.name;
    if (input.announcement !== undefined) data.announcement = input.announcement;
    if (input.allMuted !== undefined) data.allMuted = input.allMuted;
    if (input.historyMode !== undefined) data.historyMode = input.historyMode;
    const set = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.announcement !== undefined ? { announcement: input.announcement } : {}),
      ...(input.allMuted !== undefined ? { all_muted: input.allMuted ? 1 : 0 } : {}),
      ...(input.historyMode !== undefined ? { history_mode: input.historyMode } : {}),
    };
    if (!Object.keys(set).length) return a.conv.id;
    await trx.updateTable('conversations').set(set).where('id', '=', a.conv.id).execute();
    await appendEvent(deps, trx, out, a.conv, {
      type: 'conversation.updated',
      actorId: viewer.userId,
      actorUid: viewer.uid,
      data,
    });
    return a.conv.id;
  });
  return summaryOf(deps, viewer, id);
}

export async function addMembers(
  deps: Deps,
  viewer: Viewer,
  conversationUid: string,
  userUids: string[],
): Promise<string[]> {
  const ids = await deps.directory.idsOf(new Set(userUids));
  const unknown = userUids.filter((u) => !ids.has(u));
  if (unknown.length) throw new EnclaveError('user_not_found', 'Some users do not exist.', { userIds: unknown });
  return groupWrite(deps, viewer, conversationUid, async (trx, out, a) => {
    requireGroupAdmin(a);
    const existing = await trx
      .selectFrom('members')
      .select(['user_id', 'active'])
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', 'in', [...ids.values()])
      .execute();
    const state = new Map(existing.map((r) => [Number(r.user_id), !!Number(r.active)]));
    const added = [...ids].filter(([, id]) => state.get(id) !== true);
    if (!added.length) return [];
    if (a.conv.memberCount + added.length > limits.maxGroupMembers) throw new EnclaveError('group_too_large');
    await bumpMembers(trx, a.conv.id, added.length);
    const { seq } = await appendEvent(deps, trx, out, a.conv, {
      type: 'member.joined',
      actorId: viewer.userId,
      actorUid: viewer.uid,
      data: { userIds: added.map(([u]) => u) },
    });
    const now = deps.now();
    const fresh = added.filter(([, id]) => !state.has(id));
    const returning = added.filter(([, id]) => state.has(id));
    const cursor = { read_seq: seq, read_msg_no: a.conv.lastMsgNo, joined_seq: seq };
    if (fresh.length)
      await trx
        .insertInto('members')
        .values(
          fresh.map(([, userId]) => ({
            conversation_id: a.conv.id,
            user_id: userId,
            role: 'member' as const,
            active: 1,
            ...cursor,
            delivered_seq: 0,
            muted: 0,
            pinned: 0,
            silenced_until: null,
            updated_at: now,
          })),
        )
        .execute();
    if (returning.length)
      await trx
        .updateTable('members')
        .set({ active: 1, role: 'member', ...cursor, silenced_until: null, updated_at: now })
        .where('conversation_id', '=', a.conv.id)
        .where(
          'user_id',
          'in',
          returning.map(([, id]) => id),
        )
        .execute();
    await trx
      .insertInto('member_periods')
      .values(added.map(([, userId]) => ({ conversation_id: a.conv.id, user_id: userId, from_seq: seq, to_seq: null })))
      .execute();
    await appendUserEvents(
      deps,
      trx,
      out,
      added.map(([, id]) => id),
      'conversation.joined',
      a.conv,
      () => ({ kind: 'group', seq }),
    );
    return added.map(([u]) => u);
  });
}

/** Remove a member (or leave): exact at the seq of the `member.left` event. */
export async function removeMember(
  deps: Deps,
  viewer: Viewer,
  conversationUid: string,
  targetUid: string,
): Promise<void> {
  const targetId = await deps.directory.idOf(targetUid);
  const self = targetId === viewer.userId;
  await groupWrite(deps, viewer, conversationUid, async (trx, out, a) => {
    if (self) requireActive(a);
    else requireGroupAdmin(a);
    if (a.conv.kind !== 'group') throw new EnclaveError('forbidden', 'Only groups can be left.');
    const target = await trx
      .selectFrom('members')
      .select(['role', 'active'])
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '=', targetId)
      .executeTakeFirst();
    if (!target || !Number(target.active)) throw new EnclaveError('user_not_found', 'That person is not a member.');
    if (target.role === 'owner') throw new EnclaveError('owner_cannot_leave');
    if (!self && target.role === 'admin' && a.member.role !== 'owner')
      throw new EnclaveError('forbidden', 'Only the owner may remove an admin.');
    await bumpMembers(trx, a.conv.id, -1);
    const { seq } = await appendEvent(deps, trx, out, a.conv, {
      type: 'member.left',
      actorId: viewer.userId,
      actorUid: viewer.uid,
      data: { userIds: [targetUid], self },
    });
    await trx
      .updateTable('members')
      .set({ active: 0, updated_at: deps.now() })
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '=', targetId)
      .execute();
    await trx
      .updateTable('member_periods')
      .set({ to_seq: seq })
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '=', targetId)
      .where('to_seq', 'is', null)
      .execute();
    await appendUserEvents(deps, trx, out, [targetId], 'conversation.left', a.conv, () => ({ seq, self }));
  });
}

export async function setMember(
  deps: Deps,
  viewer: Viewer,
  input: { conversationId: string; userId: string; role?: 'admin' | 'member'; mutedUntil?: number | null },
): Promise<Member> {
  const targetId = await deps.directory.idOf(input.userId);
  return groupWrite(deps, viewer, input.conversationId, async (trx, out, a) => {
    requireGroupAdmin(a);
    const target = await trx
      .selectFrom('members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.role', 'm.active', 'm.joined_seq', 'm.silenced_until', 'u.display_name'])
      .where('m.conversation_id', '=', a.conv.id)
      .where('m.user_id', '=', targetId)
      .executeTakeFirst();
    if (!target || !Number(target.active)) throw new EnclaveError('user_not_found', 'That person is not a member.');
    if (target.role === 'owner') throw new EnclaveError('forbidden', 'The owner cannot be changed this way.');
    if (input.role !== undefined && a.member.role !== 'owner')
      throw new EnclaveError('forbidden', 'Only the owner may appoint admins.');
    if (target.role === 'admin' && a.member.role !== 'owner')
      throw new EnclaveError('forbidden', 'Only the owner may change an admin.');
    const role = input.role ?? target.role;
    const mutedUntil = input.mutedUntil === undefined ? target.silenced_until : input.mutedUntil;
    await trx
      .updateTable('members')
      .set({ role, silenced_until: mutedUntil, updated_at: deps.now() })
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '=', targetId)
      .execute();
    const member: Member = {
      userId: input.userId as Member['userId'],
      displayName: target.display_name,
      role,
      mutedUntil: mutedUntil === null ? null : Number(mutedUntil),
      joinedSeq: Number(target.joined_seq),
    };
    await appendEvent(deps, trx, out, a.conv, {
      type: 'conversation.updated',
      actorId: viewer.userId,
      actorUid: viewer.uid,
      data: { member },
    });
    return member;
  });
}

export async function transferGroup(
  deps: Deps,
  viewer: Viewer,
  conversationUid: string,
  targetUid: string,
): Promise<void> {
  const targetId = await deps.directory.idOf(targetUid);
  await groupWrite(deps, viewer, conversationUid, async (trx, out, a) => {
    requireGroupAdmin(a);
    if (a.member.role !== 'owner') throw new EnclaveError('forbidden', 'Only the owner may transfer the group.');
    const target = await trx
      .selectFrom('members')
      .select('active')
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '=', targetId)
      .executeTakeFirst();
    if (!target || !Number(target.active)) throw new EnclaveError('user_not_found', 'That person is not a member.');
    const now = deps.now();
    await trx
      .updateTable('members')
      .set({ role: 'admin', updated_at: now })
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '=', viewer.userId)
      .execute();
    await trx
      .updateTable('members')
      .set({ role: 'owner', silenced_until: null, updated_at: now })
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '=', targetId)
      .execute();
    await trx.updateTable('conversations').set({ owner_id: targetId }).where('id', '=', a.conv.id).execute();
    await appendEvent(deps, trx, out, a.conv, {
      type: 'conversation.updated',
      actorId: viewer.userId,
      actorUid: viewer.uid,
      data: { ownerId: targetUid, previousOwnerId: viewer.uid },
    });
  });
}

/** Dissolve: the group becomes read-only at this event; purging its data is a later batch job. */
export async function dissolveGroup(deps: Deps, viewer: Viewer, conversationUid: string): Promise<void> {
  await groupWrite(deps, viewer, conversationUid, async (trx, out, a) => {
    requireGroupAdmin(a);
    if (a.member.role !== 'owner') throw new EnclaveError('forbidden', 'Only the owner may dissolve the group.');
    await trx.updateTable('conversations').set({ dissolved_at: deps.now() }).where('id', '=', a.conv.id).execute();
    await appendEvent(deps, trx, out, a.conv, {
      type: 'conversation.dissolved',
      actorId: viewer.userId,
      actorUid: viewer.uid,
    });
  });
}

export async function listMembers(deps: Deps, viewer: Viewer, conversationUid: string): Promise<Member[]> {
  const id = await convIdOf(deps, conversationUid);
  const me = await deps.store.reader
    .selectFrom('members')
    .select('active')
    .where('conversation_id', '=', id)
    .where('user_id', '=', viewer.userId)
    .executeTakeFirst();
  if (!me) throw new EnclaveError('conversation_not_found');
  if (!Number(me.active)) throw new EnclaveError('not_a_member');
  const rows = await deps.store.reader
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.uid', 'u.display_name', 'm.role', 'm.silenced_until', 'm.joined_seq'])
    .where('m.conversation_id', '=', id)
    .where('m.active', '=', 1)
    .orderBy('m.joined_seq')
    .orderBy('u.id')
    .execute();
  const uids = await deps.directory.uidsOf(rows.map((r) => Number(r.id)));
  return rows.map((r) => ({
    userId: uids.get(Number(r.id)) as Member['userId'],
    displayName: r.display_name,
    role: r.role,
    mutedUntil: r.silenced_until === null ? null : Number(r.silenced_until),
    joinedSeq: Number(r.joined_seq),
  }));
}
