import type { Trx } from '../../store/dialect.ts';
import { insertReturningId, uidToDb } from '../../store/dialect.ts';
import { newUid } from '../../lib/ids.ts';
import type { Deps, Outbox } from '../deps.ts';
import { appendEvent, appendUserEvents } from '../append.ts';

export interface NewConversation {
  kind: 'direct' | 'group' | 'self';
  name: string;
  directKey: string | null;
  historyMode: 'from_join' | 'all';
  creatorId: number;
  creatorUid: string;
  /** Members with their roles; the creator is included by the caller. */
  members: { userId: number; uid: string; role: 'owner' | 'admin' | 'member' }[];
}

/**
 * Create a conversation with its members inside the caller's transaction. Groups get a
 * `member.joined` event at seq 1 so the stream starts with who was there; every member's own stream
 * gets `conversation.joined`.
 */
export async function createConversation(
  deps: Deps,
  trx: Trx,
  out: Outbox,
  c: NewConversation,
): Promise<{ id: number; uid: string }> {
  const now = deps.now();
  const uid = newUid();
  const id = await insertReturningId(deps.store.kind, trx, 'conversations', {
    uid: uidToDb(deps.store.kind, uid),
    kind: c.kind,
    name: c.name,
    direct_key: c.directKey,
    owner_id: c.kind === 'group' ? c.creatorId : null,
    last_seq: 0,
    last_msg_no: 0,
    last_ts: now,
    last_msg_seq: 0,
    history_mode: c.historyMode,
    announcement: null,
    all_muted: 0,
    dissolved_at: null,
    member_version: 1,
    member_count: c.members.length,
    created_by: c.creatorId,
    created_at: now,
  });
  const joinedSeq = 1;
  for (let i = 0; i < c.members.length; i += 500) {
    const chunk = c.members.slice(i, i + 500);
    await trx
      .insertInto('members')
      .values(
        chunk.map((m) => ({
          conversation_id: id,
          user_id: m.userId,
          role: m.role,
          active: 1,
          joined_seq: joinedSeq,
          read_seq: 0,
          read_msg_no: 0,
          delivered_seq: 0,
          muted: 0,
          pinned: 0,
          silenced_until: null,
          updated_at: now,
        })),
      )
      .execute();
    await trx
      .insertInto('member_periods')
      .values(chunk.map((m) => ({ conversation_id: id, user_id: m.userId, from_seq: joinedSeq, to_seq: null })))
      .execute();
  }
  const ref = { id, uid, memberVersion: 1 };
  if (c.kind === 'group') {
    await appendEvent(deps, trx, out, ref, {
      type: 'member.joined',
      actorId: c.creatorId,
      actorUid: c.creatorUid,
      data: { userIds: c.members.map((m) => m.uid), created: true, name: c.name },
    });
  }
  await appendUserEvents(
    deps,
    trx,
    out,
    c.members.map((m) => m.userId),
    'conversation.joined',
    ref,
    () => ({ kind: c.kind }),
  );
  return { id, uid };
}
