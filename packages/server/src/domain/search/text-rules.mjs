// Text rules the search index stores and matches by, shared by the server (through text.ts) and the
// SQLite indexer's worker thread (sqlite-indexer.mjs). Plain JavaScript on purpose: worker threads
// start without the TypeScript loader. Types: text-rules.d.mts.

/** NFKC (full-width → ASCII, compatibility forms) and lower case: what every index stores and matches. */
export function normalize(s) {
  return s.normalize('NFKC').toLowerCase();
}

const cjk = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const word = /[\p{L}\p{N}]/u;

export function isCjk(ch) {
  return cjk.test(ch);
}

/** Split normalised text into CJK runs and words (letters/digits); everything else separates. */
export function segments(text) {
  const out = [];
  let cur = null;
  for (const ch of text) {
    const c = isCjk(ch);
    if (!c && !word.test(ch)) {
      cur = null;
      continue;
    }
    if (!cur || cur.cjk !== c) {
      cur = { cjk: c, chars: [] };
      out.push(cur);
    }
    cur.chars.push(ch);
  }
  return out;
}

/** Words longer than this are indexed by their first MAX_WORD characters. */
export const MAX_WORD = 60;

/**
 * SQLite bigram table text: every CJK bigram plus the last character of each run (so a one-character
 * query `X*` finds X at the end of a run too), and every word. Space-separated for unicode61.
 */
export function bigramText(normalized) {
  const grams = new Set();
  for (const s of segments(normalized)) {
    if (!s.cjk) {
      grams.add(s.chars.slice(0, MAX_WORD).join(''));
      continue;
    }
    for (let i = 0; i + 1 < s.chars.length; i++) grams.add(s.chars[i] + s.chars[i + 1]);
    grams.add(s.chars.at(-1));
  }
  return [...grams].join(' ');
}
