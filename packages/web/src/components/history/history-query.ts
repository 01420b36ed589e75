import { EnclaveError } from '@enclave/protocol';

/* Pure helpers of the history manager: what each tab asks the search for, and calendar days. */

export const HISTORY_TABS = ['all', 'files', 'images', 'links'] as const;
export type HistoryTab = (typeof HISTORY_TABS)[number];

const FILTER: Record<HistoryTab, string> = { all: '', files: 'has:file', images: 'has:image', links: 'has:link' };

/**
 * The query of a tab and the words typed into the history manager's box. Quotes and filter syntax
 * the user types are passed through: the box speaks the same language as the list pane's search.
 */
export function historyQuery(tab: HistoryTab, words: string): string {
  return [FILTER[tab], words.trim()].filter(Boolean).join(' ');
}

/** The start of a local calendar day from an `<input type="date">` value (YYYY-MM-DD), or null. */
export function startOfLocalDay(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

/** A message time in the history list: `YYYY-MM-DD HH:mm`, local. */
export function fullTime(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A jump target the reader may no longer see (recalled history, removed from the group). */
export function isGone(e: unknown): boolean {
  return e instanceof EnclaveError && (e.code === 'message_not_found' || e.code === 'conversation_not_found');
}
