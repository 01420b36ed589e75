import type { GroupHit, Person } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { nameKeys, normalizeKey } from '../people/pinyin-keys.ts';
import { searchPeople } from '../people/search-people.ts';
import { loadScope } from './scope.ts';

const keyCache = new Map<string, string[]>();

/** A group name's search keys: itself, every pinyin spelling and initials (cached per name). */
function keysOf(name: string): string[] {
  let keys = keyCache.get(name);
  if (!keys) {
    const k = nameKeys(name);
    keys = [...new Set([normalizeKey(name), ...k.full, ...k.initials])];
    if (keyCache.size >= 10_000) keyCache.clear();
    keyCache.set(name, keys);
  }
  return keys;
}

/**
 * People (the people index: name, pinyin, phone, employee number, department) and the groups I am a
 * member of by name or pinyin (full spelling or initials, any reading of polyphonic characters).
 * Groups rank exact > prefix > substring, then by name. File names are found by message search: a
 * file message indexes its file's name.
 */
export async function searchDirectory(
  deps: Deps,
  viewer: Viewer,
  input: { q: string; limit: number },
): Promise<{ people: Person[]; groups: GroupHit[] }> {
  const people = await searchPeople(deps, viewer, { q: input.q, limit: input.limit });
  const key = normalizeKey(input.q);
  const scope = await loadScope(deps.store.kind, deps.store.reader, viewer.userId);
  const ranked: { rank: number; hit: GroupHit }[] = [];
  for (const c of scope.values()) {
    if (c.kind !== 'group' || !key) continue;
    const keys = keysOf(c.name);
    let rank = 9;
    for (const s of keys) {
      if (s === key) rank = Math.min(rank, 0);
      else if (s.startsWith(key)) rank = Math.min(rank, 1);
      else if (s.includes(key)) rank = Math.min(rank, 2);
    }
    if (rank < 9) ranked.push({ rank, hit: { id: c.uid as GroupHit['id'], name: c.name, memberCount: c.memberCount } });
  }
  ranked.sort((a, b) => a.rank - b.rank || a.hit.name.localeCompare(b.hit.name, 'zh-CN'));
  return { people, groups: ranked.slice(0, input.limit).map((r) => r.hit) };
}
