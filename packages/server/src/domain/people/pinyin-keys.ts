import { createRequire } from 'node:module';

type PinyinPro = typeof import('pinyin-pro');
let pinyinPro: PinyinPro | undefined;
/**
 * pinyin-pro (its dictionary is ~0.5 MB of JavaScript) is loaded at the first name that needs it,
 * not when the server starts: the people index is built after the server listens.
 */
const lib = (): PinyinPro => (pinyinPro ??= createRequire(import.meta.url)('pinyin-pro') as PinyinPro);

/**
 * Search keys for a name: every pinyin spelling (full and initials) over all readings of polyphonic
 * characters (单 → dan/shan/chan), the surname reading first (单 as a surname is shan, 曾 is zeng), ü
 * typed as v or u. Readings per character are cached, so building keys for 50,000 names stays fast.
 */

const MAX_SPELLINGS = 16;
const han = /\p{Script=Han}/u;
const readingCache = new Map<string, string[]>();

function readingsOf(ch: string): string[] {
  let r = readingCache.get(ch);
  if (!r) {
    const raw = lib().polyphonic(ch, { toneType: 'none', type: 'array' })[0] ?? [];
    const out: string[] = [];
    for (const s of raw) {
      const lower = s.toLowerCase();
      if (!/^[a-zü]+$/.test(lower)) continue;
      if (lower.includes('ü')) out.push(lower.replaceAll('ü', 'v'), lower.replaceAll('ü', 'u'));
      else out.push(lower);
    }
    r = [...new Set(out)];
    readingCache.set(ch, r);
  }
  return r;
}

/** Lowercase, full-width → ASCII, no spaces or apostrophes: 'Zhang San' and 'zhang san' both → 'zhangsan'. */
export function normalizeKey(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(strip, '');
}

// Characters 1–3 are the search index's own separators: a key must never contain them.
const strip = new RegExp(`[\\s'’·•・.\\-_${String.fromCharCode(1)}-${String.fromCharCode(3)}]+`, 'g');

export interface NameKeys {
  /** Full spellings, e.g. 'shanxiongxin', 'danxiongxin', … */
  full: string[];
  /** Initials, e.g. 'sxx', 'dxx', … */
  initials: string[];
  /** Sort key: the preferred (surname-aware) spelling. */
  sortKey: string;
}

/** Pinyin keys of a display name; Latin words and digits keep their spelling. */
export function nameKeys(name: string): NameKeys {
  const positions: string[][] = [];
  let word = '';
  const flush = () => {
    if (word) positions.push([word]);
    word = '';
  };
  const chars = [...name.normalize('NFKC').toLowerCase()];
  for (const ch of chars) {
    if (han.test(ch)) {
      flush();
      const r = readingsOf(ch);
      positions.push(r.length ? r : [ch]);
    } else if (/[a-z0-9]/.test(ch)) word += ch;
    else flush();
  }
  flush();
  preferSurname(chars, positions);
  // Every spelling over all readings, capped: each prefix keeps its first (preferred) reading, and
  // further readings are added while under the cap, so the preferred spelling is always first.
  let spellings: string[][] = [[]];
  for (const readings of positions) {
    const next = spellings.map((prefix) => [...prefix, readings[0]!]);
    for (const prefix of spellings)
      for (const r of readings.slice(1)) if (next.length < MAX_SPELLINGS) next.push([...prefix, r]);
    spellings = next;
  }
  const full = [...new Set(spellings.map((s) => s.join('')))];
  const initials = [...new Set(spellings.map((s) => s.map((x) => x[0]).join('')))];
  return { full, initials, sortKey: full[0] ?? '' };
}

/** Put the surname reading first for the leading one or two characters (compound surnames: 欧阳, 尉迟). */
function preferSurname(chars: string[], positions: string[][]) {
  if (!chars.length || !han.test(chars[0]!)) return;
  const lead = Math.min(2, positions.length);
  // Only a polyphonic first character needs the surname dictionary (单 shan, 曾 zeng, 尉迟 yuchi).
  if ((positions[0]?.length ?? 0) < 2) return;
  const sur = lib().pinyin(chars.slice(0, lead).join(''), { toneType: 'none', type: 'array', surname: 'head' });
  for (let i = 0; i < lead && i < sur.length; i++) {
    if (!han.test(chars[i] ?? '')) break;
    const s = sur[i]!.toLowerCase().replaceAll('ü', 'v');
    if (!/^[a-z]+$/.test(s)) continue;
    positions[i] = [s, ...positions[i]!.filter((r) => r !== s)];
  }
}
