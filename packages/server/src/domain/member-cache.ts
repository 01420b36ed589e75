import type { Store } from '../store/store.ts';
import { precompiled } from '../store/precompiled.ts';

// One statement, so the version and the member set come from one snapshot; compiled once (a
// conversation's first message after start-up loads its list on the send path).
export const memberList = precompiled((db, conversationId: number) =>
  db
    .selectFrom('conversations as c')
    .leftJoin('members as m', (j) => j.onRef('m.conversation_id', '=', 'c.id').on('m.active', '=', 1))
    .select(['c.member_version', 'c.kind', 'c.history_mode', 'm.user_id', 'm.joined_seq'])
    .where('c.id', '=', conversationId),
);

export type MemberListRow = {
  member_version: unknown;
  kind: MemberList['kind'];
  history_mode: MemberList['historyMode'];
  user_id: unknown;
  joined_seq: unknown;
};

export interface MemberList {
  version: number;
  kind: 'direct' | 'group' | 'self';
  historyMode: 'from_join' | 'all';
  /** userId → first seq of their current membership. */
  members: Map<number, number>;
}

/**
 * Current members per conversation, cached and invalidated by membership version: every event
 * carries the version it was written under, and a list older than that is reloaded before delivery.
 * So a removal takes effect exactly at its seq on every node.
 */
export class MemberCache {
  private readonly lists = new Map<number, MemberList>();
  private readonly loading = new Map<number, Promise<MemberList>>();
  constructor(
    private readonly store: Store,
    private readonly max = 20_000,
  ) {}

  async get(conversationId: number, minVersion: number): Promise<MemberList> {
    const cached = this.lists.get(conversationId);
    if (cached && cached.version >= minVersion) return cached;
    let p = this.loading.get(conversationId);
    if (!p) {
      p = this.load(conversationId).finally(() => this.loading.delete(conversationId));
      this.loading.set(conversationId, p);
    }
    const list = await p;
    // A load that started before the write may be older than needed: load once more.
    return list.version >= minVersion ? list : this.load(conversationId);
  }

  /** Whether a list of this conversation is cached (at any version). */
  has(conversationId: number): boolean {
    return this.lists.has(conversationId);
  }

  /**
   * Keep a list read elsewhere — the rows of `memberList`, e.g. read by a send's write program in
   * its own transaction, so the event it delivers finds the list in place. An older one is ignored.
   */
  fill(conversationId: number, rows: readonly MemberListRow[]): MemberList {
    const conv = rows[0];
    const members = new Map<number, number>();
    for (const r of rows) if (r.user_id !== null) members.set(Number(r.user_id), Number(r.joined_seq));
    const list: MemberList = {
      version: Number(conv?.member_version ?? 0),
      kind: conv?.kind ?? 'group',
      historyMode: conv?.history_mode ?? 'from_join',
      members,
    };
    const cur = this.lists.get(conversationId);
    if (!cur || cur.version <= list.version) {
      if (this.lists.size >= this.max) this.lists.delete(this.lists.keys().next().value!);
      this.lists.set(conversationId, list);
    }
    return list;
  }

  private async load(conversationId: number): Promise<MemberList> {
    return this.fill(conversationId, await memberList.rows(this.store.kind, this.store.reader, conversationId));
  }

  invalidate(conversationId: number) {
    this.lists.delete(conversationId);
  }
}
