import { EnclaveError, type Conversation } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { loadAccess, requireActive } from '../access.ts';
import { appendUserEvents } from '../append.ts';
import { querySummaries, stripInternal } from './summaries.ts';

function receiptFrame(conversationUid: string, userUid: string, field: 'readSeq' | 'deliveredSeq', seq: number) {
  return JSON.stringify({ ev: 'receipt', data: { conversationId: conversationUid, userId: userUid, [field]: seq } });
}

/**
 * Move my read cursor forward (never back, never past the head). My other devices follow through my
 * user stream; the 1:1 peer and sockets with the conversation open get a volatile receipt.
 */
export async function markRead(
  deps: Deps,
  viewer: Viewer,
  conversationUid: string,
  seq: number,
): Promise<{ readSeq: number; unread: number }> {
  const a = await loadAccess(deps, deps.store.reader, viewer, conversationUid);
  requireActive(a);
  const target = Math.min(seq, a.conv.lastSeq);
  if (target > a.member.readSeq) {
    const last = await deps.store.reader
      .selectFrom('messages')
      .select('msg_no')
      .where('conversation_id', '=', a.conv.id)
      .where('seq', '<=', target)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const readMsgNo = Number(last?.msg_no ?? 0);
    await deps.writer.run(a.conv.id, async (trx, out) => {
      const r = await trx
        .updateTable('members')
        .set({ read_seq: target, read_msg_no: readMsgNo })
        .where('conversation_id', '=', a.conv.id)
        .where('user_id', '=', viewer.userId)
        .where('read_seq', '<', target)
        .executeTakeFirst();
      if (!Number(r.numUpdatedRows)) return;
      await appendUserEvents(deps, trx, out, [viewer.userId], 'read.changed', a.conv, () => ({ readSeq: target }));
      const peers =
        a.conv.kind === 'direct'
          ? (
              await trx
                .selectFrom('members')
                .select('user_id')
                .where('conversation_id', '=', a.conv.id)
                .where('user_id', '<>', viewer.userId)
                .execute()
            ).map((p) => Number(p.user_id))
          : [];
      out.push({
        t: 'receipt',
        conversationId: a.conv.id,
        toUserIds: peers,
        toFocused: true,
        frame: receiptFrame(a.conv.uid, viewer.uid, 'readSeq', target),
      });
    });
  }
  const [s] = await querySummaries(deps, deps.store.reader, viewer, { ids: [a.conv.id] });
  return { readSeq: s?.readSeq ?? target, unread: s?.unread ?? 0 };
}

/** This device received events up to `seq` (1:1 "delivered"). */
export async function markDelivered(deps: Deps, viewer: Viewer, conversationUid: string, seq: number): Promise<void> {
  const a = await loadAccess(deps, deps.store.reader, viewer, conversationUid);
  requireActive(a);
  if (a.conv.kind !== 'direct') return;
  const target = Math.min(seq, a.conv.lastSeq);
  await deps.writer.run(a.conv.id, async (trx, out) => {
    const r = await trx
      .updateTable('members')
      .set({ delivered_seq: target })
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '=', viewer.userId)
      .where('delivered_seq', '<', target)
      .executeTakeFirst();
    if (!Number(r.numUpdatedRows)) return;
    const peer = await trx
      .selectFrom('members')
      .select('user_id')
      .where('conversation_id', '=', a.conv.id)
      .where('user_id', '<>', viewer.userId)
      .execute();
    out.push({
      t: 'receipt',
      conversationId: a.conv.id,
      toUserIds: peer.map((p) => Number(p.user_id)),
      toFocused: false,
      frame: receiptFrame(a.conv.uid, viewer.uid, 'deliveredSeq', target),
    });
  });
}

/** My own settings for a conversation (mute, pin); my other devices follow. */
export async function setSettings(
  deps: Deps,
  viewer: Viewer,
  input: { conversationId: string; muted?: boolean | undefined; pinned?: boolean | undefined },
): Promise<Conversation> {
  const a = await loadAccess(deps, deps.store.reader, viewer, input.conversationId);
  const set: { muted?: number; pinned?: number } = {};
  if (input.muted !== undefined) set.muted = input.muted ? 1 : 0;
  if (input.pinned !== undefined) set.pinned = input.pinned ? 1 : 0;
  if (Object.keys(set).length) {
    await deps.writer.run(a.conv.id, async (trx, out) => {
      await trx
        .updateTable('members')
        .set({ ...set, updated_at: deps.now() })
        .where('conversation_id', '=', a.conv.id)
        .where('user_id', '=', viewer.userId)
        .execute();
      await appendUserEvents(deps, trx, out, [viewer.userId], 'settings.changed', a.conv, () => ({
        ...(input.muted !== undefined ? { muted: input.muted } : {}),
        ...(input.pinned !== undefined ? { pinned: input.pinned } : {}),
      }));
    });
  }
  const [s] = await querySummaries(deps, deps.store.reader, viewer, { ids: [a.conv.id], includeLeft: true });
  if (!s) throw new EnclaveError('conversation_not_found');
  return stripInternal(s);
}
