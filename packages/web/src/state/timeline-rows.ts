import type { Message } from '@enclave/protocol';
import type { PendingEcho, SeqGap } from '@enclave/sdk';
import { daysBetween } from './format-time.ts';

/** One row of the chat history: a day separator, a stored message, or a local echo not yet stored. */
export type Row =
  | { kind: 'day'; key: string; ts: number }
  | { kind: 'message'; key: string; message: Message; grouped: boolean }
  | { kind: 'pending'; key: string; echo: PendingEcho }
  /** Messages not loaded yet between a jump's window and the latest ones. */
  | { kind: 'gap'; key: string; from: number };

/** Consecutive messages from one sender within this window share one header (avatar and name). */
export const GROUP_WINDOW_MS = 5 * 60_000;

/**
 * The rows for a conversation: messages ascending with a separator at each new local day, grouped
 * when the same sender follows within five minutes on the same day; then the pending echoes that the
 * server has not stored yet (an echo whose seq is already loaded is dropped: the message replaced it).
 */
export function buildRows(
  messages: readonly Message[],
  pending: readonly PendingEcho[],
  gap: SeqGap | null = null,
): Row[] {
  const rows: Row[] = [];
  let prev: { senderId: string; ts: number; system: boolean } | null = null;
  const loaded = new Set<string>();
  let gapShown = gap === null;
  for (const m of messages) {
    if (!gapShown && m.seq > gap!.to) {
      rows.push({ kind: 'gap', key: `g${gap!.from}`, from: gap!.from });
      gapShown = true;
      prev = null; // the day is shown again after the gap
    }
    if (m.clientMsgId) loaded.add(m.clientMsgId);
    if (!prev || daysBetween(prev.ts, m.ts) !== 0) {
      rows.push({ kind: 'day', key: `d${m.seq}`, ts: m.ts });
      prev = null;
    }
    const grouped =
      prev !== null &&
      !prev.system &&
      m.kind === 'text' &&
      m.state !== 'recalled' &&
      prev.senderId === m.senderId &&
      m.ts - prev.ts < GROUP_WINDOW_MS;
    rows.push({ kind: 'message', key: `m${m.seq}`, message: m, grouped });
    prev = { senderId: m.senderId, ts: m.ts, system: m.kind !== 'text' || m.state === 'recalled' };
  }
  if (!gapShown) rows.push({ kind: 'gap', key: `g${gap!.from}`, from: gap!.from });
  const echoes = [...pending].filter((e) => !loaded.has(e.clientMsgId)).sort((a, b) => a.createdAt - b.createdAt);
  const last = messages[messages.length - 1];
  if (echoes.length > 0 && (!last || daysBetween(last.ts, echoes[0]!.createdAt) !== 0))
    rows.push({ kind: 'day', key: `dp${echoes[0]!.clientMsgId}`, ts: echoes[0]!.createdAt });
  for (const e of echoes) rows.push({ kind: 'pending', key: `p${e.clientMsgId}`, echo: e });
  return rows;
}
