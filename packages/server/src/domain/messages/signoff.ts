import { EnclaveError, type Message } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { insertIgnore } from '../../store/dialect.ts';
import { convColumns, loadAccess, loadAccessById, requireActive, toConvRow, visible, type Access } from '../access.ts';
import { appendUserEvents } from '../append.ts';
import { convIdOf } from '../conv-ids.ts';
import { presentMessage } from '../present.ts';
import { loadRecords, type MessageRecord } from '../records.ts';

/** Members whose membership covers `seq`, except the sender: the audience of a message. */
async function audience(deps: Deps, convId: number, seq: number, senderId: number) {
  return deps.store.reader
    .selectFrom('member_periods as p')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .innerJoin('members as m', (j) =>
      j.onRef('m.conversation_id', '=', 'p.conversation_id').onRef('m.user_id', '=', 'p.user_id'),
    )
    .select(['u.id', 'u.uid', 'u.display_name', 'm.read_seq'])
    .where('p.conversation_id', '=', convId)
    .where('p.from_seq', '<=', seq)
    .where((eb) => eb.or([eb('p.to_seq', 'is', null), eb('p.to_seq', '>=', seq)]))
    .where('p.user_id', '<>', senderId)
    .orderBy('u.id')
    .execute();
}

async function target(
  deps: Deps,
  viewer: Viewer,
  conversationUid: string,
  seq: number,
): Promise<[Access, MessageRecord]> {
  const a = await loadAccess(deps, deps.store.reader, viewer, conversationUid);
  if (!visible(a, seq)) throw new EnclaveError('message_not_found');
  const rec = (await loadRecords(deps, deps.store.reader, a.conv.id, a.conv.uid, [seq])).get(seq);
  if (!rec) throw new EnclaveError('message_not_found');
  return [a, rec];
}

/** Sign a sign-off message: recorded once with device and time; my other devices get the content. */
export async function signMessage(deps: Deps, viewer: Viewer, conversationUid: string, seq: number): Promise<Message> {
  const convId = await convIdOf(deps, conversationUid);
  const rec = await deps.writer.run(convId, async (trx, out) => {
    const row = await trx
      .selectFrom('conversations')
      .select(convColumns)
      .where('id', '=', convId)
      .executeTakeFirstOrThrow();
    const a = await loadAccessById(trx, viewer, toConvRow(row));
    requireActive(a);
    if (!visible(a, seq)) throw new EnclaveError('message_not_found');
    const rec = (await loadRecords(deps, trx, convId, a.conv.uid, [seq])).get(seq);
    if (!rec) throw new EnclaveError('message_not_found');
    if (!rec.signoff) throw new EnclaveError('not_signoff');
    if (rec.recalledAt !== null) throw new EnclaveError('message_recalled');
    if (rec.senderId === viewer.userId) return rec;
    const inserted = await insertIgnore(deps.store.kind, trx, 'signoffs', [
      { conversation_id: convId, seq, user_id: viewer.userId, device_id: viewer.deviceId, signed_at: deps.now() },
    ]);
    if (inserted) {
      const message = presentMessage({ userId: viewer.userId, signed: () => true }, rec, null);
      await appendUserEvents(deps, trx, out, [viewer.userId], 'message.signed', a.conv, () => ({ seq, message }));
    }
    return rec;
  });
  return presentMessage({ userId: viewer.userId, signed: () => true }, rec, null);
}

function requireSenderOrAdmin(viewer: Viewer, a: Access, rec: MessageRecord) {
  if (rec.senderId !== viewer.userId && a.member.role === 'member')
    throw new EnclaveError('forbidden', 'Only the sender and group admins see sign-off status.');
  if (!rec.signoff) throw new EnclaveError('not_signoff');
}

export async function listSignoffs(deps: Deps, viewer: Viewer, conversationUid: string, seq: number) {
  const [a, rec] = await target(deps, viewer, conversationUid, seq);
  requireSenderOrAdmin(viewer, a, rec);
  const people = await audience(deps, a.conv.id, seq, rec.senderId);
  const rows = await deps.store.reader
    .selectFrom('signoffs')
    .select(['user_id', 'signed_at'])
    .where('conversation_id', '=', a.conv.id)
    .where('seq', '=', seq)
    .execute();
  const signedAt = new Map(rows.map((r) => [Number(r.user_id), Number(r.signed_at)]));
  const uids = await deps.directory.uidsOf(people.map((p) => Number(p.id)));
  const signed = [];
  const unsigned = [];
  for (const p of people) {
    const userId = uids.get(Number(p.id)) as Message['senderId'];
    const at = signedAt.get(Number(p.id));
    if (at !== undefined) signed.push({ userId, displayName: p.display_name, signedAt: at });
    else unsigned.push({ userId, displayName: p.display_name });
  }
  return { seq, signed, unsigned };
}

/** Remind everyone who has not signed yet (an event on each of their own streams). */
export async function remindSignoff(deps: Deps, viewer: Viewer, conversationUid: string, seq: number) {
  const [a, rec] = await target(deps, viewer, conversationUid, seq);
  requireSenderOrAdmin(viewer, a, rec);
  requireActive(a);
  const { unsigned } = await listSignoffs(deps, viewer, conversationUid, seq);
  if (!unsigned.length) return { reminded: 0 };
  const ids = await deps.directory.idsOf(unsigned.map((u) => u.userId));
  await deps.writer.run(a.conv.id, (trx, out) =>
    appendUserEvents(deps, trx, out, [...ids.values()], 'signoff.reminded', a.conv, () => ({ seq, by: viewer.uid })),
  );
  return { reminded: ids.size };
}

/**
 * Who read one message and who has not. The counts cover everyone whose membership covers the
 * message (the sender excluded); the two lists are one page of `limit` people, in a fixed order,
 * with `nextCursor` for the next page. A person appears on exactly one page even if they read the
 * message between two pages (the cursor is a position in that order, not an offset into a list).
 */
export async function messageReceipts(
  deps: Deps,
  viewer: Viewer,
  conversationUid: string,
  seq: number,
  limit: number,
  cursor?: string,
) {
  const after = cursor === undefined ? 0 : decodeReceiptCursor(cursor);
  const [, rec] = await target(deps, viewer, conversationUid, seq);
  const people = await audience(deps, rec.conversationId, seq, rec.senderId);
  let readCount = 0;
  for (const p of people) if (Number(p.read_seq) >= seq) readCount++;
  const start = people.findIndex((p) => Number(p.id) > after);
  const page = start < 0 ? [] : people.slice(start, start + limit);
  const more = start >= 0 && start + limit < people.length;
  const uids = await deps.directory.uidsOf(page.map((p) => Number(p.id)));
  const readers = [];
  const unreadMembers = [];
  for (const p of page) {
    const entry = { userId: uids.get(Number(p.id)) as Message['senderId'], displayName: p.display_name };
    if (Number(p.read_seq) >= seq) readers.push(entry);
    else unreadMembers.push(entry);
  }
  return {
    seq,
    readCount,
    unreadCount: people.length - readCount,
    readers,
    unreadMembers,
    nextCursor: more ? Buffer.from(`r:${Number(page.at(-1)!.id)}`).toString('base64url') : null,
  };
}

function decodeReceiptCursor(cursor: string): number {
  const m = /^r:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new EnclaveError('validation_failed', 'The receipts cursor is not one this server gave.');
  return Number(m[1]);
}

/** "N unread" for several messages: one member query, counted in memory. */
export async function readCounts(deps: Deps, viewer: Viewer, conversationUid: string, seqs: number[]) {
  const a = await loadAccess(deps, deps.store.reader, viewer, conversationUid);
  const wanted = seqs.filter((s) => visible(a, s));
  if (!wanted.length) return { items: [] };
  const msgs = await deps.store.reader
    .selectFrom('messages')
    .select(['seq', 'sender_id'])
    .where('conversation_id', '=', a.conv.id)
    .where('seq', 'in', wanted)
    .execute();
  const periods = await deps.store.reader
    .selectFrom('member_periods as p')
    .innerJoin('members as m', (j) =>
      j.onRef('m.conversation_id', '=', 'p.conversation_id').onRef('m.user_id', '=', 'p.user_id'),
    )
    .select(['p.user_id', 'p.from_seq', 'p.to_seq', 'm.read_seq'])
    .where('p.conversation_id', '=', a.conv.id)
    .execute();
  const items = msgs.map((m) => {
    const seq = Number(m.seq);
    let readCount = 0;
    let unreadCount = 0;
    for (const p of periods) {
      if (Number(p.user_id) === Number(m.sender_id)) continue;
      if (Number(p.from_seq) > seq || (p.to_seq !== null && Number(p.to_seq) < seq)) continue;
      if (Number(p.read_seq) >= seq) readCount++;
      else unreadCount++;
    }
    return { seq, readCount, unreadCount };
  });
  return { items: items.sort((x, y) => x.seq - y.seq) };
}
