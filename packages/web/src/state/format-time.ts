/* Times as the list and the chat show them: 14:05 today, 昨天 / Yesterday, 周三 / Wed within a week, else 2026-11-02. */

export interface TimeWords {
  today: string;
  yesterday: string;
  weekdays: readonly string[];
}

const pad = (n: number) => String(n).padStart(2, '0');
const startOfDay = (ts: number) => {
  const d = new Date(ts);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
};
const DAY = 86_400_000;

export function clock(ts: number): string {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function isoDate(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Whole calendar days between the two instants' local dates (0 = same day). */
export function daysBetween(ts: number, now: number): number {
  return Math.round((startOfDay(now) - startOfDay(ts)) / DAY);
}

/** The conversation list's time column. */
export function listTime(ts: number, now: number, w: TimeWords): string {
  const days = daysBetween(ts, now);
  if (days <= 0) return clock(ts);
  if (days === 1) return w.yesterday;
  if (days < 7) return w.weekdays[new Date(ts).getDay()] ?? isoDate(ts);
  return isoDate(ts);
}

/** A day separator in the chat: 今天 / 昨天 / 周三 / 2026-11-02. */
export function dayLabel(ts: number, now: number, w: TimeWords): string {
  const days = daysBetween(ts, now);
  if (days <= 0) return w.today;
  if (days === 1) return w.yesterday;
  if (days < 7) return w.weekdays[new Date(ts).getDay()] ?? isoDate(ts);
  return isoDate(ts);
}
