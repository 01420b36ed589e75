/*
 * SQLite reads a bound LIMIT or OFFSET while planning, and then marks the statement to be prepared
 * again whenever that parameter is bound — on every run, since every run binds: the sync summaries
 * statement cost ~95 µs a run instead of ~4. So on SQLite those values are written into the
 * statement's text instead, one text per distinct value (page sizes: a handful). `precompiled`
 * does it once per statement and value; the inline driver does it for every other statement.
 */

/** Distinct LIMIT/OFFSET values kept per statement; past that, the values are bound as before. */
export const MAX_LIMIT_VARIANTS = 32;

/** Where a statement's `limit ?` / `offset ?` placeholders are. */
export interface LimitSlots {
  /** The SQL around those placeholders (one more piece than placeholders). */
  pieces: string[];
  /** Their positions among the statement's parameters, in SQL order. */
  at: number[];
}

/** The LIMIT/OFFSET placeholders of a statement with `params` positional parameters; null if none. */
export function limitSlots(sqlText: string, params: number): LimitSlots | null {
  const marks: number[] = []; // offsets of every `?` outside quotes
  let quote = '';
  for (let i = 0; i < sqlText.length; i++) {
    const ch = sqlText[i]!;
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '?') marks.push(i);
  }
  if (marks.length !== params) return null; // not the positional placeholders expected: bind as is
  const pieces: string[] = [];
  const at: number[] = [];
  let from = 0;
  marks.forEach((pos, i) => {
    if (!/\b(limit|offset)\s*$/i.test(sqlText.slice(Math.max(0, pos - 8), pos))) return;
    pieces.push(sqlText.slice(from, pos));
    at.push(i);
    from = pos + 1;
  });
  if (!at.length) return null;
  pieces.push(sqlText.slice(from));
  return { pieces, at };
}

/** Values SQLite takes as they are in the text: non-negative safe integers. */
export const inlinable = (values: readonly unknown[]): values is number[] =>
  values.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);

/** The statement's text with these LIMIT/OFFSET values (checked with `inlinable`) written in. */
export const withLimits = (slots: LimitSlots, values: readonly number[]): string =>
  slots.pieces.reduce((s, piece, i) => (i ? `${s}${String(values[i - 1])}${piece}` : piece), '');

/**
 * For the statements of one connection: the text with the LIMIT/OFFSET values written in and the
 * parameters left to bind, or the statement as it was (no such placeholder, a value that is not a
 * plain count, or too many distinct values already).
 */
export class LimitInliner {
  private readonly plans = new Map<string, { slots: LimitSlots; variants: Map<string, string> } | null>();

  apply(sqlText: string, params: readonly unknown[]): { sql: string; params: readonly unknown[] } {
    if (!sqlText.includes('limit ?') && !sqlText.includes('offset ?')) return { sql: sqlText, params };
    let plan = this.plans.get(sqlText);
    if (plan === undefined) {
      const slots = limitSlots(sqlText, params.length);
      plan = slots ? { slots, variants: new Map() } : null;
      if (this.plans.size >= 500) this.plans.delete(this.plans.keys().next().value!);
      this.plans.set(sqlText, plan);
    }
    if (!plan) return { sql: sqlText, params };
    const { slots, variants } = plan;
    const values = slots.at.map((i) => params[i]);
    if (!inlinable(values)) return { sql: sqlText, params };
    const key = values.join(',');
    let text = variants.get(key);
    if (text === undefined) {
      if (variants.size >= MAX_LIMIT_VARIANTS) return { sql: sqlText, params };
      text = withLimits(slots, values);
      variants.set(key, text);
    }
    return { sql: text, params: params.filter((_, i) => !slots.at.includes(i)) };
  }
}
