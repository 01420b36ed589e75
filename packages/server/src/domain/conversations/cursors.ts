import { EnclaveError, type Conversation, type ErrorCode } from '@enclave/protocol';
import { sql } from 'kysely';
import { precompiled, programStep } from '../../store/precompiled.ts';
import type { Executor } from '../../store/dialect.ts';
import { stepRef } from '../../store/sqlite-driver.ts';
import { convIdOf } from '../conv-ids.ts';
import type { Deps, Outbox, Viewer } from '../deps.ts';
import { loadAccess, requireActive } from '../access.ts';
import { appendUserEvents, userEventSteps } from '../append.ts';
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
    const receipt = (peers: number[]) => ({
      t: 'receipt' as const,
      conversationId: a.conv.id,
      toUserIds: peers,
      toFocused: true,
      frame: receiptFrame(a.conv.uid, viewer.uid, 'readSeq', target),
    });
    if (deps.writer.programs) {
      // As frequent as messages arrive in an open conversation: a program, batched with the sends.
      const db = deps.store.db;
      const ue = userEventSteps(deps, db, viewer.userId, 'read.changed', a.conv, { readSeq: target });
      const direct = a.conv.kind === 'direct';
      await deps.writer.runProgram(a.conv.id, {
        steps: [
          programStep(db, 'moved', advanceRead.with(a.conv.id, viewer.userId, target, readMsgNo), {
            stopUnlessRow: true,
          }),
          ...ue.steps,
          ...(direct ? [programStep(db, 'peers', othersOf.with(a.conv.id, viewer.userId), { all: true })] : []),
        ],
        done({ rows, stopped }, out) {
          if (stopped) return;
          ue.done(rows, out);
          const peers = direct ? (rows.peers as { user_id: unknown }[]).map((p) => Number(p.user_id)) : [];
          out.push(receipt(peers));
        },
      });
    } else
      await deps.writer.run(a.conv.id, async (trx, out) => {
        if (!(await moveReadCursor.changes(deps.store.kind, trx, a.conv.id, viewer.userId, target, readMsgNo))) return;
        await appendUserEvents(deps, trx, out, [viewer.userId], 'read.changed', a.conv, () => ({ readSeq: target }));
        const peers =
          a.conv.kind === 'direct'
            ? (await othersOf.rows(deps.store.kind, trx, a.conv.id, viewer.userId)).map((p) => Number(p.user_id))
            : [];
        out.push(receipt(peers));
      });
  }
  const [s] = await querySummaries(deps, deps.store.reader, viewer, { ids: [a.conv.id] });
  return { readSeq: s?.readSeq ?? target, unread: s?.unread ?? 0 };
}

const readCursor = (db: Executor, convId: number, userId: number, seq: number, msgNo: number) =>
  db
    .updateTable('members')
    .set({ read_seq: seq, read_msg_no: msgNo })
    .where('conversation_id', '=', convId)
    .where('user_id', '=', userId)
    .where('read_seq', '<', seq);

/** Move a member's read cursor forward to `seq` (a read report; a send reads what came before it). */
export const moveReadCursor = precompiled(readCursor);

/** The same, for a program: a row back means it moved (SQLite). */
const advanceRead = precompiled((db, convId: number, userId: number, seq: number, msgNo: number) =>
  readCursor(db, convId, userId, seq, msgNo).returning('user_id'),
);

/**
 * Whether I may report on a conversation, read inside a delivery report's program (SQLite): its
 * kind and head, and why not — as `loadAccess` and `requireActive` decide (no row: not a member).
 */
const reportAccess = precompiled((db, convId: number, userId: number) =>
  db
    .selectFrom('conversations as c')
    .innerJoin('members as m', (j) => j.onRef('m.conversation_id', '=', 'c.id').on('m.user_id', '=', userId))
    .select([
      'c.kind',
      'c.last_seq',
      sql<ErrorCode | null>`case when m.active = 0 then 'not_a_member' else null end`.as('refusal'),
    ])
    .where('c.id', '=', convId),
);

/**
 * Move my delivered cursor forward to `seq`, never past the head, in a 1:1 only (SQLite: `min` of two
 * values); a row back — the new cursor — means it moved.
 */
const advanceDelivered = precompiled((db, convId: number, userId: number, seq: number, head: number, kind: string) =>
  db
    .updateTable('members')
    .set({ delivered_seq: sql<number>`min(${seq}, ${head})` })
    .where('conversation_id', '=', convId)
    .where('user_id', '=', userId)
    .where('delivered_seq', '<', sql<number>`min(${seq}, ${head})`)
    .where(sql<string>`${kind}`, '=', 'direct')
    .returning('delivered_seq'),
);

/** The other members of a conversation (the 1:1 peer). */
const othersOf = precompiled((db, convId: number, userId: number) =>
  db.selectFrom('members').select('user_id').where('conversation_id', '=', convId).where('user_id', '<>', userId),
);

/**
 * This device received events up to `seq` (1:1 "delivered"). The SDK reports it as events arrive
 * (at most once a second per conversation), so in a busy 1:1 it is about as frequent as sending: on
 * SQLite it runs as a write program, batched with the sends around it instead of splitting their
 * batches, its access check included (benchmarks items 37–38).
 */
export async function markDelivered(deps: Deps, viewer: Viewer, conversationUid: string, seq: number): Promise<void> {
  const receipt = (convId: number, peers: { user_id: unknown }[], target: number, out: Outbox) =>
    out.push({
      t: 'receipt',
      conversationId: convId,
      toUserIds: peers.map((p) => Number(p.user_id)),
      toFocused: false,
      frame: receiptFrame(conversationUid.toLowerCase(), viewer.uid, 'deliveredSeq', target),
    });
  if (deps.writer.programs) {
    // Who may report, and the head, are read in the same program: no read on the event loop.
    const db = deps.store.db;
    const convId = await convIdOf(deps, conversationUid);
    const kind = stepRef('access', 'kind') as string;
    const head = stepRef('access', 'last_seq') as number;
    return deps.writer.runProgram(convId, {
      steps: [
        programStep(db, 'access', reportAccess.with(convId, viewer.userId), {
          requireRow: 'conversation_not_found',
          refuseBy: 'refusal',
        }),
        programStep(db, 'moved', advanceDelivered.with(convId, viewer.userId, seq, head, kind), {
          stopUnlessRow: true,
        }),
        programStep(db, 'peers', othersOf.with(convId, viewer.userId), { all: true }),
      ],
      done({ rows, stopped }, out) {
        if (stopped) return;
        const moved = rows.moved as { delivered_seq: unknown };
        receipt(convId, rows.peers as { user_id: unknown }[], Number(moved.delivered_seq), out);
      },
    });
  }
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
    receipt(a.conv.id, await othersOf.rows(deps.store.kind, trx, a.conv.id, viewer.userId), target, out);
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
