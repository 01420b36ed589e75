import type { Store } from '../../store/store.ts';
import { everyone, type OrgIndex, type VisibilityView } from '../org/org-index.ts';
import { nameKeys, normalizeKey } from './pinyin-keys.ts';
import { DEPT_SEP, SEP, corpusOf, entryAt, newBlock, type Block } from './people-corpus.ts';

/** The profile fields the index reads. */
export interface IndexedPerson {
  id: number;
  username: string;
  displayName: string;
  disabled: boolean;
  phone: string | null;
  employeeNo: string | null;
  updatedAt: number;
}

export interface Entry {
  userId: number;
  disabled: boolean;
  sortKey: string;
  /** Name, pinyin spellings and initials, username, employee number, phone digits. */
  keys: string[];
  /** Names of the departments the person holds posts in (matches rank after personal fields). */
  deptKeys: string[];
  /** The entry's part of the corpus: \u0001key\u0001key\u0001 then \u0003dept\u0003dept\u0003. */
  hay: string;
  person: IndexedPerson;
}

export interface SearchOptions {
  limit: number;
  /** Only people counted in this department's subtree. */
  departmentId?: number;
  view?: VisibilityView;
  /** Skip these users (e.g. found disabled on presentation). */
  exclude?: ReadonlySet<number>;
}

const SWEEP_MARGIN_MS = 3_000;
const BLOCK = 1024;
const CLASSES = 6; // exact, prefix, substring on personal fields; then the same on department names

/**
 * People search over an in-memory index: names, pinyin (full, initials, any prefix, every reading),
 * username, employee number, phone digits and department names. Entries stay sorted by the pinyin of
 * the name, so a scan yields each rank class already in name order; one scan serves a query
 * (≈ 50,000 `indexOf` calls) with no sorting. Kept current by the domain functions that change
 * profiles and posts (`refreshUsers`); users created or changed elsewhere (admin API, other nodes) are
 * caught up by `catchUp` before a search.
 */
export class PeopleIndex {
  /** Entries sorted by name, in blocks; each block keeps its keys in one string, rebuilt lazily. */
  private blocks: Block[] = [];
  private readonly byUser = new Map<number, Entry>();
  private maxId = 0;
  private watermark = 0;
  private lastSweep = 0;

  constructor(
    private readonly store: Store,
    private readonly org: OrgIndex,
    private readonly now: () => number = Date.now,
    private readonly sweepEveryMs = 2_000,
  ) {}

  /** The first load, in flight or done (null: not started, or it failed and will be retried). */
  private loading: Promise<void> | null = null;

  /**
   * Build the index from the store, once: later calls (and every read path, through `catchUp` and
   * `refreshUsers`) wait for the same load. The server starts it after it listens, so building the
   * pinyin keys of every name is not on the path to `/readyz`; a search that comes first waits.
   */
  load(): Promise<void> {
    this.loading ??= this.loadAll().catch((err: unknown) => {
      this.loading = null;
      throw err;
    });
    return this.loading;
  }

  /** Resolves when no load is in flight (its failure is the caller's of `load` to report). */
  async settled(): Promise<void> {
    await this.loading?.catch(() => undefined);
  }

  private async loadAll(): Promise<void> {
    const rows = await this.selectUsers(this.store.bulk).execute();
    this.byUser.clear();
    const started = this.now();
    const all: Entry[] = [];
    for (const r of rows) {
      const p = toIndexed(r);
      const e = this.entryOf(p);
      this.byUser.set(p.id, e);
      all.push(e);
      if (this.org.isActive(p.id) === p.disabled) this.org.setActive(p.id, !p.disabled);
    }
    all.sort(bySortKey);
    this.blocks = [];
    for (let i = 0; i < all.length; i += BLOCK) this.blocks.push(newBlock(all.slice(i, i + BLOCK)));
    this.maxId = rows.reduce((m, r) => Math.max(m, Number(r.id)), 0);
    this.lastSweep = started;
    this.watermark = started - SWEEP_MARGIN_MS;
  }

  /** Re-read these users from the store (after a profile, post or department change). */
  async refreshUsers(userIds: Iterable<number>): Promise<void> {
    await this.load();
    const ids = [...new Set(userIds)];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.selectUsers()
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) this.put(toIndexed(r));
    }
  }

  /** New users (by id) every time; users changed since the last sweep (by updated_at) every few seconds. */
  async catchUp(): Promise<void> {
    await this.load();
    const now = this.now();
    const fresh = await this.selectUsers().where('id', '>', this.maxId).execute();
    for (const r of fresh) {
      this.put(toIndexed(r));
      this.maxId = Math.max(this.maxId, Number(r.id));
    }
    if (now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    // The margin covers writes that committed late with an earlier updated_at (and clock skew
    // between nodes); rows already seen with the same updated_at are skipped.
    const since = this.watermark;
    this.watermark = now - SWEEP_MARGIN_MS;
    const changed = await this.selectUsers().where('updated_at', '>=', since).execute();
    for (const r of changed) {
      const p = toIndexed(r);
      const old = this.byUser.get(p.id);
      if (!old || old.person.updatedAt !== p.updatedAt || old.disabled !== p.disabled) this.put(p);
    }
  }

  /** Insert or replace one person (also used by the benchmark to build an index without a store). */
  put(p: IndexedPerson): void {
    const old = this.byUser.get(p.id);
    if (old) this.remove(old);
    const entry = this.entryOf(p);
    this.byUser.set(p.id, entry);
    this.insert(entry);
    if (this.org.isActive(p.id) === p.disabled) this.org.setActive(p.id, !p.disabled);
  }

  /** Mark a user disabled (seen on presentation before the sweep noticed). */
  markDisabled(userId: number): void {
    const e = this.byUser.get(userId);
    if (e) this.put({ ...e.person, disabled: true });
  }

  get size(): number {
    return this.byUser.size;
  }

  /**
   * Ranked user ids: exact > prefix > substring, personal fields before department names, then by
   * name. All entries' keys live in one string (rebuilt lazily after changes), so finding matches is
   * V8's string search over one flat buffer instead of 50,000 calls; each match is classified by the
   * separators around it, and the scan stops once the top `limit` cannot change.
   */
  search(query: string, o: SearchOptions): number[] {
    const q = queryKey(query);
    if (!q) return [];
    const view = o.view ?? everyone;
    const allowed = (e: Entry) =>
      !e.disabled &&
      !o.exclude?.has(e.userId) &&
      (o.departmentId === undefined || this.org.countedIn(e.userId).has(o.departmentId)) &&
      view.canSee(e.userId);
    // Exact matches first: they may be anywhere in name order.
    const exact: Entry[] = [];
    const exactSet = new Set<Entry>();
    const whole = SEP + q + SEP;
    for (const b of this.blocks) {
      const text = corpusOf(b);
      for (let at = text.indexOf(whole); at >= 0; at = text.indexOf(whole, at + 1)) {
        const e = b.entries[entryAt(b.starts, at)]!;
        if (!exactSet.has(e) && allowed(e)) {
          exact.push(e);
          exactSet.add(e);
        }
        if (exact.length >= o.limit) return exact.map((x) => x.userId);
      }
    }
    const buckets: number[][] = Array.from({ length: CLASSES }, () => []);
    const full = () => exact.length + buckets[1]!.length >= o.limit;
    for (const b of this.blocks) {
      const text = corpusOf(b);
      let cur = -1;
      let best = CLASSES;
      const flush = () => {
        const e = b.entries[cur];
        if (e && best < CLASSES && !exactSet.has(e) && allowed(e) && buckets[best]!.length < o.limit)
          buckets[best]!.push(e.userId);
      };
      for (let at = text.indexOf(q); at >= 0; at = text.indexOf(q, at + 1)) {
        if (at >= b.starts[cur + 1]!) {
          flush();
          if (full()) break;
          cur = entryAt(b.starts, at);
          best = CLASSES;
        }
        const before = text[at - 1];
        const inDept = at >= b.deptStarts[cur]!;
        const c = before === (inDept ? DEPT_SEP : SEP) ? (text[at + q.length] === before ? 0 : 1) : 2;
        best = Math.min(best, inDept ? c + 3 : c);
      }
      flush();
      if (full()) break;
    }
    return [...exact.map((e) => e.userId), ...buckets.flat()].slice(0, o.limit);
  }

  private remove(e: Entry): void {
    const bi = this.blockFor(e);
    const b = this.blocks[bi]!;
    const at = b.entries.indexOf(e);
    if (at < 0) return;
    b.entries.splice(at, 1);
    b.text = null;
    if (!b.entries.length) this.blocks.splice(bi, 1);
  }

  private insert(e: Entry): void {
    if (!this.blocks.length) this.blocks.push(newBlock([]));
    const b = this.blocks[this.blockFor(e)]!;
    let lo = 0;
    let hi = b.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bySortKey(b.entries[mid]!, e) <= 0) lo = mid + 1;
      else hi = mid;
    }
    b.entries.splice(lo, 0, e);
    b.text = null;
    if (b.entries.length > 2 * BLOCK) {
      const at = this.blocks.indexOf(b);
      this.blocks.splice(at, 1, newBlock(b.entries.slice(0, BLOCK)), newBlock(b.entries.slice(BLOCK)));
    }
  }

  /** The block whose name range holds the entry: the first whose last entry sorts at or after it. */
  private blockFor(e: Entry): number {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const last = this.blocks[mid]!.entries.at(-1);
      if (last && bySortKey(last, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private entryOf(p: IndexedPerson): Entry {
    const names = nameKeys(p.displayName);
    const keys = new Set<string>([normalizeKey(p.displayName), ...names.full, ...names.initials]);
    keys.add(p.username.toLowerCase());
    if (p.employeeNo) keys.add(normalizeKey(p.employeeNo));
    const digits = p.phone?.replace(/\D/g, '');
    if (digits) keys.add(digits);
    keys.delete('');
    const deptKeys = [...this.org.postsOfUser(p.id)]
      .map((d) => this.org.get(d)?.name)
      .filter((n): n is string => !!n)
      .map(normalizeKey);
    return {
      userId: p.id,
      disabled: p.disabled,
      sortKey: `${names.sortKey}${SEP}${p.displayName}${SEP}${p.id}`,
      keys: [...keys],
      deptKeys,
      hay: `${SEP}${[...keys].join(SEP)}${SEP}${DEPT_SEP}${deptKeys.join(DEPT_SEP)}${DEPT_SEP}`,
      person: p,
    };
  }

  private selectUsers(db = this.store.reader) {
    return db
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'disabled', 'phone', 'employee_no', 'updated_at']);
  }
}

function toIndexed(r: {
  id: number;
  username: string;
  display_name: string;
  disabled: number;
  phone: string | null;
  employee_no: string | null;
  updated_at: number;
}): IndexedPerson {
  return {
    id: Number(r.id),
    username: r.username,
    displayName: r.display_name,
    disabled: !!Number(r.disabled),
    phone: r.phone,
    employeeNo: r.employee_no,
    updatedAt: Number(r.updated_at),
  };
}

/** The query as a key: 'Zhang San' → 'zhangsan'; a phone number typed with separators → its digits. */
export function queryKey(query: string): string {
  const trimmed = query.trim();
  if (/^[0-9+\-() ]+$/.test(trimmed) && /\d{3}/.test(trimmed.replace(/\D/g, ''))) return trimmed.replace(/\D/g, '');
  return normalizeKey(trimmed);
}

const bySortKey = (a: Entry, b: Entry): number => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0);
