/* @mention autocomplete in the composer: find the token being typed, rank candidates, insert the pick. */

export interface MentionCandidate {
  userId: string;
  displayName: string;
  username: string;
}

/** The `@query` that ends at the caret, if any: `@` at the start or after whitespace, no spaces inside. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|\s)@([^\s@]{0,32})$/u.exec(before);
  if (!m) return null;
  return { start: caret - m[2]!.length - 1, query: m[2]! };
}

/** Candidates whose name or username starts with (then contains) the query, case-insensitive; at most `limit`. */
export function rankMentions(
  candidates: readonly MentionCandidate[],
  query: string,
  excludeId: string | null,
  limit = 8,
): MentionCandidate[] {
  const q = query.toLowerCase();
  const scored: { c: MentionCandidate; score: number }[] = [];
  for (const c of candidates) {
    if (c.userId === excludeId) continue;
    const name = c.displayName.toLowerCase();
    const user = c.username.toLowerCase();
    let score = -1;
    if (q === '') score = 2;
    else if (name.startsWith(q) || user.startsWith(q)) score = 0;
    else if (name.includes(q) || user.includes(q)) score = 1;
    if (score >= 0) scored.push({ c, score });
  }
  scored.sort((a, b) => a.score - b.score || a.c.displayName.localeCompare(b.c.displayName));
  return scored.slice(0, limit).map((s) => s.c);
}

/** Replace the `@query` at `start..caret` with `@Name ` and return the new text and caret. */
export function insertMention(
  text: string,
  start: number,
  caret: number,
  name: string,
): { text: string; caret: number } {
  const inserted = `@${name} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}

/**
 * The mention ids to send: people picked from the list whose `@Name` is still in the text (a
 * mention deleted from the text is not sent), and whether `@all` (any of its labels) remains.
 */
export function mentionsInText(
  text: string,
  picked: ReadonlyMap<string, string>,
  allLabels: readonly string[],
): { mentions: string[]; mentionAll: boolean } {
  const mentions: string[] = [];
  for (const [userId, name] of picked) if (text.includes(`@${name}`)) mentions.push(userId);
  const mentionAll = allLabels.some((l) => new RegExp(`(^|\\s)@${escapeRegExp(l)}(?=\\s|$)`, 'u').test(text));
  return { mentions, mentionAll };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
