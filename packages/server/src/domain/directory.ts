import type { User } from '@enclave/protocol';
import { EnclaveError } from '@enclave/protocol';
import type { Store } from '../store/store.ts';
import { uidFromDb, uidToDb } from '../store/dialect.ts';

/**
 * Maps between users' internal integer ids and public ids. The pair never changes, so it is cached;
 * names and flags are read fresh.
 */
export class Directory {
  private readonly byId = new Map<number, string>();
  private readonly byUid = new Map<string, number>();
  constructor(private readonly store: Store) {}

  remember(id: number, uid: string) {
    if (this.byId.size > 500_000) {
      this.byId.clear();
      this.byUid.clear();
    }
    this.byId.set(id, uid);
    this.byUid.set(uid, id);
  }

  async uidsOf(ids: Iterable<number>): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const missing: number[] = [];
    for (const id of ids) {
      const uid = this.byId.get(id);
      if (uid) out.set(id, uid);
      else missing.push(id);
    }
    if (missing.length) {
      const rows = await this.store.reader
        .selectFrom('users')
        .select(['id', 'uid'])
        .where('id', 'in', [...new Set(missing)])
        .execute();
      for (const r of rows) {
        const uid = uidFromDb(r.uid);
        this.remember(Number(r.id), uid);
        out.set(Number(r.id), uid);
      }
    }
    return out;
  }

  async uidOf(id: number): Promise<string> {
    const uid = (await this.uidsOf([id])).get(id);
    if (!uid) throw new EnclaveError('user_not_found');
    return uid;
  }

  /** Resolve public ids; unknown ones are absent from the result. */
  async idsOf(uids: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const uid of uids) {
      const id = this.byUid.get(uid);
      if (id !== undefined) out.set(uid, id);
      else missing.push(uid);
    }
    if (missing.length) {
      const rows = await this.store.reader
        .selectFrom('users')
        .select(['id', 'uid'])
        .where(
          'uid',
          'in',
          [...new Set(missing)].map((u) => uidToDb(this.store.kind, u)),
        )
        .execute();
      for (const r of rows) {
        const uid = uidFromDb(r.uid);
        this.remember(Number(r.id), uid);
        out.set(uid, Number(r.id));
      }
    }
    return out;
  }

  async idOf(uid: string): Promise<number> {
    const id = (await this.idsOf([uid])).get(uid);
    if (id === undefined) throw new EnclaveError('user_not_found');
    return id;
  }

  /** Public user objects for these ids (fresh names and flags). */
  async users(ids: Iterable<number>): Promise<Map<number, User>> {
    const list = [...new Set(ids)];
    const out = new Map<number, User>();
    if (!list.length) return out;
    const rows = await this.store.reader
      .selectFrom('users')
      .select(['id', 'uid', 'username', 'display_name', 'role', 'disabled'])
      .where('id', 'in', list)
      .execute();
    for (const r of rows) out.set(Number(r.id), toUser(r));
    return out;
  }
}

export function toUser(r: {
  id: number;
  uid: unknown;
  username: string;
  display_name: string;
  role: 'admin' | 'user';
  disabled: number;
}): User {
  return {
    id: uidFromDb(r.uid) as User['id'],
    username: r.username,
    displayName: r.display_name,
    role: r.role,
    disabled: !!Number(r.disabled),
  };
}
