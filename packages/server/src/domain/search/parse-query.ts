import { EnclaveError } from '@enclave/protocol';
import { charLength, normalize, segments } from './text.ts';

/** A parsed search query. Text terms are normalised (NFKC, lower case) substrings that must all occur. */
export interface ParsedQuery {
  terms: string[];
  /** Usernames, or 'me'. */
  from: string[];
  /** Conversation ids (UUIDs). */
  in: string[];
  /** ts >= since, ts < until (epoch ms). */
  since?: number;
  until?: number;
  has: ('file' | 'image' | 'link')[];
  isMention: boolean;
}

const MAX_TERMS = 10;
const MAX_TERM_CHARS = 100;
const DAY = 86_400_000;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function invalid(message: string, token: string): never {
  throw new EnclaveError('search_query_invalid', message, { token });
}

/** Local midnight of YYYY-MM-DD (or YYYY/MM/DD) at the given UTC offset, as epoch ms. */
function dayStart(value: string, tzOffsetMinutes: number, token: string): number {
  const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(value);
  if (!m) invalid('Dates are written YYYY-MM-DD.', token);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const check = new Date(t);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) invalid('No such date.', token);
  return t - tzOffsetMinutes * 60_000;
}

/** Split into tokens: "quoted phrases" (a filter value may be quoted too), and runs without spaces. */
function tokenize(q: string): { raw: string; quoted: boolean }[] {
  const out: { raw: string; quoted: boolean }[] = [];
  const re = /(\S+?:)?"([^"]*)"?|(\S+)/g;
  for (let m = re.exec(q); m; m = re.exec(q)) {
    if (m[2] !== undefined) out.push({ raw: (m[1] ?? '') + m[2], quoted: !m[1] });
    else out.push({ raw: m[3]!, quoted: false });
  }
  return out;
}

/**
 * Parse the query language: words and "phrases" (all must occur, as substrings), `from:`, `in:`,
 * `before:` / `after:` / `on:` (dates in the searcher's time zone), `has:file|image|link`,
 * `is:mention`. Full-width colons and quotes (：“”) are accepted. An unknown `x:` prefix is
 * searched as text, so "10:30" still works.
 */
export function parseQuery(q: string, tzOffsetMinutes: number): ParsedQuery {
  const text = q.replace(/：/g, ':').replace(/[“”]/g, '"');
  const p: ParsedQuery = { terms: [], from: [], in: [], has: [], isMention: false };
  for (const { raw, quoted } of tokenize(text)) {
    const colon = quoted ? -1 : raw.indexOf(':');
    const key = colon > 0 ? raw.slice(0, colon).toLowerCase() : '';
    const value = colon > 0 ? raw.slice(colon + 1) : '';
    if (key === 'from' && value) p.from.push(value.replace(/^@/, '').toLowerCase());
    else if (key === 'in' && value) {
      if (!uuid.test(value)) invalid('in: takes a conversation id.', raw);
      p.in.push(value.toLowerCase());
    } else if ((key === 'before' || key === 'after' || key === 'on') && value) {
      const start = dayStart(value, tzOffsetMinutes, raw);
      if (key === 'before') p.until = Math.min(p.until ?? Infinity, start);
      else if (key === 'after') p.since = Math.max(p.since ?? -Infinity, start + DAY);
      else {
        p.since = Math.max(p.since ?? -Infinity, start);
        p.until = Math.min(p.until ?? Infinity, start + DAY);
      }
    } else if (key === 'has' && value) {
      const v = value.toLowerCase();
      if (v !== 'file' && v !== 'image' && v !== 'link') invalid('has: is file, image or link.', raw);
      if (!p.has.includes(v)) p.has.push(v);
    } else if (key === 'is' && value) {
      if (value.toLowerCase() !== 'mention') invalid('is: takes mention.', raw);
      p.isMention = true;
    } else addTerm(p, raw);
  }
  if (p.terms.length > MAX_TERMS) invalid(`At most ${MAX_TERMS} words or phrases.`, p.terms[MAX_TERMS]!);
  return p;
}

function addTerm(p: ParsedQuery, raw: string): void {
  const t = normalize(raw).trim();
  if (!t) return;
  if (charLength(t) > MAX_TERM_CHARS) invalid(`A word or phrase has at most ${MAX_TERM_CHARS} characters.`, raw);
  // A 1–2 character term of punctuation only matches nothing useful and no short index holds it.
  if (charLength(t) < 3 && !segments(t).length) return;
  if (!p.terms.includes(t)) p.terms.push(t);
}
