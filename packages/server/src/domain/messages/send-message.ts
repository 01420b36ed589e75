import { EnclaveError, type ErrorCode, type FileAttachment, type SendResult } from '@enclave/protocol';
import { sql } from 'kysely';
import type { z } from 'zod';
import type { SendInput } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { convColumnsOfC, loadAccessById, toConvRow, visible } from '../access.ts';
import { appendEvent, convEventOf, insertEvent, loadQuote, type Quote } from '../append.ts';
import { convIdOf } from '../conv-ids.ts';
import { moveReadCursor } from '../conversations/cursors.ts';
import type { MessageMeta, MessageRecord } from '../records.ts';
import { newUid, sha256 } from '../../lib/ids.ts';
import { searchDocOf } from '../search/doc.ts';
import { allocateSeqStep, counterResult, uidFromDb, uidToDb, type CounterRow } from '../../store/dialect.ts';
import { precompiled, programStep } from '../../store/precompiled.ts';
import { stepRef, type ProgramStep } from '../../store/sqlite-driver.ts';
import { memberList, type MemberListRow } from '../member-cache.ts';

type Input = z.output<typeof SendInput>;

// The statements of every send, compiled once (store/precompiled.ts).
const duplicateOf = precompiled((db, senderId: number, clientMsgId: string) =>
  db
    .selectFrom('messages')
    .select(['conversation_id', 'uid', 'seq', 'ts', 'payload_hash'])
    .where('sender_id', '=', senderId)
    .where('client_msg_id', '=', clientMsgId),
);
/**
 * The sender's membership and the conversation, read under the counter row's lock, with the reason a
 * send at `ts` is refused (null: allowed) worked out by the statement itself, so the write program
 * (SQLite) and the transaction elsewhere apply the same rules.
 */
const senderMembership = precompiled((db, convId: number, userId: number, ts: number) =>
  db
    .selectFrom('conversations as c')
    .innerJoin('members as m', (j) => j.onRef('m.conversation_id', '=', 'c.id').on('m.user_id', '=', userId))
    .select([
      ...convColumnsOfC,
      sql<ErrorCode | null>`case
        when m.active = 0 then 'not_a_member'
        when c.dissolved_at is not null then 'conversation_read_only'
        when m.silenced_until is not null and m.silenced_until > ${ts} then 'member_muted'
        when c.all_muted <> 0 and m.role = 'member' then 'conversation_muted'
        else null end`.as('refusal'),
    ])
    .where('c.id', '=', convId),
);
const insertMessage = precompiled(
  (
    db,
    conversationId: number,
    seq: number,
    uid: unknown,
    senderId: number,
    clientMsgId: string,
    payloadHash: string,
    kind: 'text' | 'file',
    content: string,
    format: 'plain' | 'markdown',
    meta: string,
    msgNo: number,
    ts: number,
    signoff: number,
  ) =>
    db.insertInto('messages').values({
      conversation_id: conversationId,
      seq,
      uid,
      sender_id: senderId,
      client_msg_id: clientMsgId,
      payload_hash: payloadHash,
      kind,
      content,
      format,
      meta,
      msg_no: msgNo,
      ts,
      edited_at: null,
      recalled_at: null,
      recalled_by: null,
      signoff,
    }),
);

/** A file message (domain/files/send-file.ts): the attachment, and its `file_refs` row written in the same commit. */
export interface FileSend {
  file: FileAttachment;
  fileId: number;
}

/**
 * Send a message: one writer job (group commit). Idempotent per (sender, clientMsgId): a retry gets
 * the original ack; the same id with a different payload is `idempotency_conflict`. The statement
 * count does not depend on the group's size (pinned in send-message.test.ts).
 */
export async function sendMessage(deps: Deps, viewer: Viewer, input: Input, attach?: FileSend): Promise<SendResult> {
  const convId = await convIdOf(deps, input.conversationId);
  const payloadHash = sha256(
    JSON.stringify([
      input.conversationId,
      input.content.text,
      input.content.format,
      [...input.mentions].sort(),
      input.mentionAll,
      input.replyToSeq ?? null,
      input.signoff,
      ...(attach ? [attach.file.id] : []),
    ]),
  );
  const uid = newUid();
  const plain =
    !attach && !input.mentions.length && !input.mentionAll && input.replyToSeq === undefined && !input.signoff;
  if (plain && deps.writer.programs && deps.search.addStatement)
    return sendAsProgram(deps, viewer, input, convId, payloadHash, uid);
  const mentionIds = input.mentions.length ? await deps.directory.idsOf(input.mentions) : new Map<string, number>();
  const kind = deps.store.kind;
  let quote: Quote = { rec: null };
  return deps.writer.run(convId, async (trx, out) => {
    const dup = await duplicateOf.first(kind, trx, viewer.userId, input.clientMsgId);
    if (dup) return duplicateResult(dup, payloadHash, convId);
    let record: MessageRecord | null = null;
    let mentioned: number[] = [];
    const { seq, ts } = await appendEvent(
      deps,
      trx,
      out,
      { id: convId, uid: input.conversationId.toLowerCase() },
      {
        type: 'message.created',
        actorId: viewer.userId,
        actorUid: viewer.uid,
        countable: true,
        ...(input.signoff ? { signedUserIds: [] } : {}),
        // Runs under the counter row lock: the checks see every membership change before this seq.
        message: async (seq, ts, msgNo) => {
          const row = await senderMembership.first(kind, trx, convId, viewer.userId, ts);
          if (!row) throw new EnclaveError('conversation_not_found');
          if (row.refusal) throw new EnclaveError(row.refusal);
          const conv = toConvRow(row);
          if (mentionIds.size) {
            const ms = await trx
              .selectFrom('members')
              .select('user_id')
              .where('conversation_id', '=', convId)
              .where('active', '=', 1)
              .where('user_id', 'in', [...mentionIds.values()])
              .execute();
            mentioned = ms.map((m) => Number(m.user_id));
          }
          if (input.replyToSeq !== undefined) {
            const a = await loadAccessById(trx, viewer, conv);
            if (visible(a, input.replyToSeq) && input.replyToSeq < seq)
              quote = await loadQuote(deps, trx, conv, input.replyToSeq);
            if (!quote.rec)
              throw new EnclaveError('message_not_found', 'The quoted message does not exist or is not visible.');
          }
          const kept = new Set(mentioned);
          const meta: MessageMeta = {
            mentions: [...mentionIds].filter(([, id]) => kept.has(id)).map(([u]) => u),
            mentionAll: input.mentionAll && conv.kind === 'group',
            replyTo: input.replyToSeq ?? null,
            ...(attach ? { file: attach.file } : {}),
          };
          await insertMessage.changes(
            kind,
            trx,
            convId,
            seq,
            uidToDb(kind, uid),
            viewer.userId,
            input.clientMsgId,
            payloadHash,
            attach ? 'file' : 'text',
            deps.codec.encode(input.content.text),
            input.content.format,
            JSON.stringify(meta),
            msgNo,
            ts,
            input.signoff ? 1 : 0,
          );
          // The search index moves in the same transaction (the port owns its copy of the text).
          await deps.search.add(
            trx,
            searchDocOf(convId, seq, viewer.userId, ts, input.content.text, input.signoff, attach?.file),
          );
          record = recordOf(viewer, input, conv.uid, meta, { convId, seq, msgNo, ts, uid }, attach);
          if (attach)
            await trx
              .insertInto('file_refs')
              .values({
                conversation_id: convId,
                seq,
                file_id: attach.fileId,
                sender_id: viewer.userId,
                name: attach.file.name,
                size: attach.file.size,
                created_at: ts,
                deleted_at: null,
              })
              .execute();
          return record;
        },
        quote: () => quote,
      },
    );
    const rec = record as MessageRecord | null;
    if (mentioned.length)
      await trx
        .insertInto('mentions')
        .values(mentioned.map((user_id) => ({ conversation_id: convId, seq, user_id })))
        .execute();
    if (rec?.mentionAll) await trx.insertInto('mention_all').values({ conversation_id: convId, seq }).execute();
    // Sending means having read everything before: own messages never raise one's unread.
    await moveReadCursor.changes(kind, trx, convId, viewer.userId, seq, rec?.msgNo ?? 0);
    return { messageId: uid as SendResult['messageId'], seq, ts, duplicate: false };
  });
}

type DuplicateRow = { conversation_id: unknown; uid: unknown; seq: unknown; ts: unknown; payload_hash: unknown };

/** A clientMsgId seen before: the original's ack, if this is the same message to the same conversation. */
function duplicateResult(dup: DuplicateRow, payloadHash: string, convId: number): SendResult {
  if (dup.payload_hash !== payloadHash || Number(dup.conversation_id) !== convId)
    throw new EnclaveError('idempotency_conflict');
  return {
    messageId: uidFromDb(dup.uid) as SendResult['messageId'],
    seq: Number(dup.seq),
    ts: Number(dup.ts),
    duplicate: true,
  };
}

function recordOf(
  viewer: Viewer,
  input: Input,
  conversationUid: string,
  meta: MessageMeta,
  at: { convId: number; seq: number; msgNo: number; ts: number; uid: string },
  attach?: FileSend,
): MessageRecord {
  return {
    conversationId: at.convId,
    conversationUid,
    seq: at.seq,
    uid: at.uid,
    senderId: viewer.userId,
    senderUid: viewer.uid,
    clientMsgId: input.clientMsgId,
    kind: attach ? 'file' : 'text',
    text: input.content.text,
    format: input.content.format,
    mentions: meta.mentions,
    mentionAll: meta.mentionAll,
    replyToSeq: meta.replyTo,
    msgNo: at.msgNo,
    ts: at.ts,
    editedAt: null,
    recalledAt: null,
    signoff: input.signoff,
    reactions: [],
    ...(attach ? { file: attach.file } : {}),
  };
}

/**
 * A plain message (no mentions, quote, file or sign-off: most of them) on SQLite: the same statements
 * as the transaction above, in the same order, as a write program — run with the rest of its batch
 * on the writer's own thread (domain/writer.ts), so the event loop does not execute them.
 */
function sendAsProgram(
  deps: Deps,
  viewer: Viewer,
  input: Input,
  convId: number,
  payloadHash: string,
  uid: string,
): Promise<SendResult> {
  const db = deps.store.db;
  const seq = stepRef('alloc', 'last_seq') as number;
  const msgNo = stepRef('alloc', 'last_msg_no') as number;
  const ts = stepRef('alloc', 'last_ts') as number;
  const memberVersion = stepRef('alloc', 'member_version') as number;
  const meta: MessageMeta = { mentions: [], mentionAll: false, replyTo: null };
  const doc = searchDocOf(convId, seq, viewer.userId, ts, input.content.text, false);
  const steps: ProgramStep[] = [
    programStep(db, 'dup', duplicateOf.with(viewer.userId, input.clientMsgId), { stopIfRow: true }),
    allocateSeqStep(convId, true, deps.now()),
    programStep(db, 'member', senderMembership.with(convId, viewer.userId, ts), {
      requireRow: 'conversation_not_found',
      refuseBy: 'refusal',
    }),
    programStep(
      db,
      'message',
      insertMessage.with(
        convId,
        seq,
        uidToDb('sqlite', uid),
        viewer.userId,
        input.clientMsgId,
        payloadHash,
        'text',
        deps.codec.encode(input.content.text),
        input.content.format,
        JSON.stringify(meta),
        msgNo,
        ts,
        0,
      ),
    ),
    { name: 'search', ...deps.search.addStatement!(doc) },
    programStep(
      db,
      'event',
      insertEvent.with(convId, seq, 'message.created', viewer.userId, ts, seq, null, memberVersion),
    ),
    programStep(db, 'read', moveReadCursor.with(convId, viewer.userId, seq, msgNo)),
  ];
  // A conversation's first message since start-up: its member list, which delivery needs next,
  // comes from the same transaction instead of a read on the event loop.
  const loadList = !deps.members.has(convId);
  if (loadList) steps.push(programStep(db, 'members', memberList.with(convId), { all: true }));
  return deps.writer.runProgram(convId, {
    steps,
    done({ rows, stopped }, out) {
      if (stopped) return duplicateResult(rows.dup as DuplicateRow, payloadHash, convId);
      const alloc = counterResult(rows.alloc as unknown as CounterRow);
      // The id it was addressed by is the conversation's (convIdOf found it by that id).
      const conv = { id: convId, uid: input.conversationId.toLowerCase() };
      if (loadList) deps.members.fill(convId, rows.members as MemberListRow[]);
      const record = recordOf(viewer, input, conv.uid, meta, { convId, uid, ...alloc });
      out.push(convEventOf(conv, alloc, { type: 'message.created', actorUid: viewer.uid }, record));
      return { messageId: uid as SendResult['messageId'], seq: alloc.seq, ts: alloc.ts, duplicate: false };
    },
  });
}
