import type { ConversationId, SendInput, SendResult, UserId } from '@enclave/protocol';
import type { Outbox, OutboxEntry } from './outbox.ts';
import type { Action, LocalSendEcho } from './state.ts';

/* The bridge between the outbox (what is still to be sent) and the reducer's local echoes. */

/** The echo of a send input (validated by the schema, so its ids are well-formed). */
export function echoOf(input: SendInput, conversationId: ConversationId, createdAt: number): LocalSendEcho {
  const { clientMsgId, content, mentionAll, replyToSeq } = input;
  return {
    clientMsgId,
    conversationId,
    content,
    mentions: (input.mentions ?? []) as UserId[],
    mentionAll,
    replyToSeq,
    createdAt,
  };
}

/** After a reload: show the unsent messages again, failed ones as failed. */
export function restoreEchoes(entries: readonly OutboxEntry[], dispatch: (a: Action) => void): void {
  for (const e of entries) {
    if (e.op !== 'message.send') continue;
    dispatch({ type: 'local.send', echo: echoOf(e.input, e.conversationId, e.createdAt) });
    if (e.state === 'failed' && e.error) dispatch({ type: 'local.failed', clientMsgId: e.id, error: e.error });
  }
}

/** Acks and final failures of sends update their echoes. */
export function linkOutboxToState(outbox: Outbox, dispatch: (a: Action) => void): void {
  outbox.on('sent', ({ entry, result }) => {
    if (entry.op !== 'message.send') return;
    const r = result as SendResult;
    dispatch({ type: 'local.ack', clientMsgId: entry.id, seq: r.seq, messageId: r.messageId, ts: r.ts });
  });
  outbox.on('failed', ({ entry, error }) => {
    if (entry.op === 'message.send') dispatch({ type: 'local.failed', clientMsgId: entry.id, error: error.toBody() });
  });
}
