import type { UserEvent } from '@enclave/protocol';
import type { ConvBusEvent } from '../bus/bus.ts';
import { allocateSeq, allocateUseq, type Executor, type SeqAllocation, type Trx } from '../store/dialect.ts';
import type { Deps, Outbox } from './deps.ts';
import { loadRecords, type MessageRecord } from './records.ts';
import { precompiled, programStep } from '../store/precompiled.ts';
import { stepRef, type ProgramRow, type ProgramStep } from '../store/sqlite-driver.ts';

export const insertEvent = precompiled(
  (
    db,
    conversationId: number,
    seq: number,
    type: ConvBusEvent['type'],
    actorId: number,
    ts: number,
    messageSeq: number | null,
    data: string | null,
    memberVersion: number,
  ) =>
    db.insertInto('events').values({
      conversation_id: conversationId,
      seq,
      type,
      actor_id: actorId,
      ts,
      message_seq: messageSeq,
      data,
      member_version: memberVersion,
    }),
);

export interface ConvRef {
  id: number;
  uid: string;
}

export interface Quote {
  rec: MessageRecord | null;
  signedUserIds?: number[];
}

function quoteFields(q: Quote): Pick<ConvBusEvent, 'quote' | 'quoteSignedUserIds'> {
  return q.signedUserIds ? { quote: q.rec, quoteSignedUserIds: q.signedUserIds } : { quote: q.rec };
}

/** Load the message a reply quotes, with its signers when it is a sign-off message. */
export async function loadQuote(
  deps: Deps,
  trx: Trx,
  conv: { id: number; uid: string },
  replyToSeq: number | null,
): Promise<Quote> {
  if (replyToSeq === null) return { rec: null };
  const quote = (await loadRecords(deps, trx, conv.id, conv.uid, [replyToSeq])).get(replyToSeq) ?? null;
  if (!quote?.signoff) return { rec: quote };
  const rows = await trx
    .selectFrom('signoffs')
    .select('user_id')
    .where('conversation_id', '=', quote.conversationId)
    .where('seq', '=', quote.seq)
    .execute();
  return { rec: quote, signedUserIds: rows.map((r) => Number(r.user_id)) };
}

/**
 * Append one durable event to a conversation's stream inside the caller's transaction: take the next
 * seq from the counter row, store the event, and queue its bus message for after the commit.
 * `message` runs after the seq is taken, under the counter row's lock: checks made there see every
 * membership change committed before this event, so a removal is exact at its seq.
 */
export async function appendEvent(
  deps: Deps,
  trx: Trx,
  out: Outbox,
  conv: ConvRef,
  e: {
    type: ConvBusEvent['type'];
    actorId: number;
    actorUid: string;
    countable?: boolean;
    messageSeq?: number | null;
    data?: Record<string, unknown> | null;
    /** Built after the seq is known (message.created needs its own seq). */
    message?: (seq: number, ts: number, msgNo: number) => MessageRecord | null | Promise<MessageRecord | null>;
    signedUserIds?: number[];
    /** The quoted message (and, for a sign-off quote, who signed it), read after `message` ran. */
    quote?: () => Quote;
  },
): Promise<{ seq: number; ts: number; msgNo: number; memberVersion: number }> {
  const alloc = await allocateSeq(deps.store.kind, trx, conv.id, e.countable ?? false, deps.now());
  const message = e.message ? await e.message(alloc.seq, alloc.ts, alloc.msgNo) : null;
  await insertEvent.changes(
    deps.store.kind,
    trx,
    conv.id,
    alloc.seq,
    e.type,
    e.actorId,
    alloc.ts,
    e.messageSeq === undefined ? (message ? message.seq : null) : e.messageSeq,
    e.data ? JSON.stringify(e.data) : null,
    alloc.memberVersion,
  );
  out.push(convEventOf(conv, alloc, e, message));
  return alloc;
}

/** The bus message of an appended event, published after its commit. */
export function convEventOf(
  conv: ConvRef,
  alloc: SeqAllocation,
  e: {
    type: ConvBusEvent['type'];
    actorUid: string;
    data?: Record<string, unknown> | null;
    signedUserIds?: number[];
    quote?: () => Quote;
  },
  message: MessageRecord | null,
): ConvBusEvent {
  return {
    t: 'conv',
    conversationId: conv.id,
    conversationUid: conv.uid,
    seq: alloc.seq,
    ts: alloc.ts,
    type: e.type,
    actorUid: e.actorUid,
    memberVersion: alloc.memberVersion,
    data: e.data ?? null,
    message,
    ...(e.signedUserIds ? { signedUserIds: e.signedUserIds } : {}),
    ...(e.quote ? quoteFields(e.quote()) : {}),
  };
}

/** A user event on its way to that user's devices, once its write has committed. */
function userEventOut(userId: number, ev: UserEvent): Outbox[number] {
  return { t: 'user', userId, frame: JSON.stringify({ ev: 'user', data: ev }) };
}

/** Append an event to each user's own stream (memberships, settings, cursors, sign-offs). */
export async function appendUserEvents(
  deps: Deps,
  trx: Trx,
  out: Outbox,
  userIds: number[],
  type: UserEvent['type'],
  conv: { id: number; uid: string },
  data: (userId: number) => Record<string, unknown>,
): Promise<void> {
  const ts = deps.now();
  const rows = [];
  for (const userId of userIds) {
    const useq = await allocateUseq(deps.store.kind, trx, userId);
    const d = data(userId);
    rows.push({ user_id: userId, useq, type, conversation_id: conv.id, data: JSON.stringify(d), ts });
    out.push(
      userEventOut(userId, { useq, ts, type, conversationId: conv.uid as UserEvent['conversationId'], data: d }),
    );
  }
  for (let i = 0; i < rows.length; i += 500)
    await trx
      .insertInto('user_events')
      .values(rows.slice(i, i + 500))
      .execute();
}

const nextUseq = precompiled((db, userId: number) =>
  db
    .updateTable('users')
    .set((eb) => ({ last_useq: eb('last_useq', '+', 1) }))
    .where('id', '=', userId)
    .returning('last_useq'),
);

const insertUserEvent = precompiled(
  (db, userId: number, useq: number, type: UserEvent['type'], convId: number, data: string, ts: number) =>
    db.insertInto('user_events').values({ user_id: userId, useq, type, conversation_id: convId, data, ts }),
);

/**
 * One user event as steps of a write program (SQLite): what `appendUserEvents` writes for one user —
 * the next useq, the event row — and, once the batch has committed, the frame for the user's devices.
 */
export function userEventSteps(
  deps: Pick<Deps, 'now'>,
  db: Executor,
  userId: number,
  type: UserEvent['type'],
  conv: { id: number; uid: string },
  data: Record<string, unknown>,
): { steps: ProgramStep[]; done(rows: Record<string, unknown>, out: Outbox): void } {
  const ts = deps.now();
  const useq = stepRef('useq', 'last_useq') as number;
  return {
    steps: [
      programStep(db, 'useq', nextUseq.with(userId), { requireRow: 'user_not_found' }),
      programStep(db, 'userEvent', insertUserEvent.with(userId, useq, type, conv.id, JSON.stringify(data), ts)),
    ],
    done(rows, out) {
      const useq = Number((rows.useq as ProgramRow).last_useq);
      out.push(userEventOut(userId, { useq, ts, type, conversationId: conv.uid as UserEvent['conversationId'], data }));
    },
  };
}
