/**
 * Text rules shared by every search index: normalisation, CJK runs, and the grams the SQLite bigram
 * table and the MySQL FULLTEXT column store. Pure functions; see docs/architecture.md, "Search".
 */

export { bigramText, isCjk, MAX_WORD, normalize, segments } from './text-rules.mjs';
import { MAX_WORD, segments } from './text-rules.mjs';

/** Length in characters (code points), which is what the trigram rule counts. */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const hex = (ch: string) => ch.codePointAt(0)!.toString(16).padStart(5, '0');

/**
 * MySQL/MariaDB FULLTEXT tokens: `u<hex>` per CJK character, `b<hex><hex>` per CJK bigram, `w<word>`
 * per word. The prefix letters keep every token at least 3 characters (innodb_ft_min_token_size) and
 * out of the stopword list; the built-in parser splits them on spaces.
 */
export function mysqlGrams(normalized: string): string {
  const grams = new Set(cjkGrams(normalized));
  for (const s of segments(normalized)) if (!s.cjk) grams.add('w' + s.chars.slice(0, MAX_WORD).join(''));
  return [...grams].join(' ');
}

/** The boolean-mode FULLTEXT terms a substring must contain (all required); words match as prefixes. */
export function mysqlQueryTerms(term: string): string[] {
  const out = cjkQueryGrams(term).map((g) => '+' + g);
  // A one-letter word is below innodb_ft_min_token_size even with its prefix: the LIKE re-check alone decides.
  for (const s of segments(term))
    if (!s.cjk && s.chars.length >= 2) out.push('+w' + s.chars.slice(0, MAX_WORD).join('') + '*');
  return out;
}

/** An FTS5 string literal: double quotes doubled. */
export function ftsQuote(s: string): string {
  return '"' + s.replaceAll('"', '""') + '"';
}

/**
 * The CJK grams of a body (MySQL's FULLTEXT tokens and PostgreSQL's `search_docs.grams`): `u<hex>` per CJK character and `b<hex><hex>` per CJK bigram, for
 * the terms pg_trgm cannot serve (under three characters); longer terms and words go to the trigrams.
 */
export function cjkGrams(normalized: string): string[] {
  const grams = new Set<string>();
  for (const s of segments(normalized)) {
    if (!s.cjk) continue;
    for (let i = 0; i < s.chars.length; i++) {
      grams.add('u' + hex(s.chars[i]!));
      if (i + 1 < s.chars.length) grams.add('b' + hex(s.chars[i]!) + hex(s.chars[i + 1]!));
    }
  }
  return [...grams];
}

/** The `cjkGrams` a document must have to contain `term` ([] when the term has no CJK character). */
export function cjkQueryGrams(term: string): string[] {
  const out: string[] = [];
  for (const s of segments(term)) {
    if (!s.cjk) continue;
    if (s.chars.length === 1) out.push('u' + hex(s.chars[0]!));
    for (let i = 0; i + 1 < s.chars.length; i++) out.push('b' + hex(s.chars[i]!) + hex(s.chars[i + 1]!));
  }
  return out;
}

/** A LIKE pattern matching `s` anywhere, with `\` as the escape character. */
export function likeContains(s: string): string {
  return '%' + s.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

const linkRe = /\bhttps?:\/\/\S|\bwww\.\S/i;
const imageRe = /!\[[^\]]*\]\([^)]+\)/;

/** Bits of search_docs.flags. File and image bits are set from attachments once files exist. */
export const DocFlag = { link: 1, image: 2, file: 4, signoff: 8 } as const;

/** Flags derived from a message body; the files feature ORs in its own bits (see SearchDoc.flags). */
export function textFlags(text: string): number {
  let f = 0;
  if (linkRe.test(text)) f |= DocFlag.link;
  if (imageRe.test(text)) f |= DocFlag.image;
  return f;
}
