/**
 * Bulk builders for tests that need thousands of users or memberships: they write rows through the
 * store directly (one argon2 hash shared by all) instead of thousands of slow sign-ups. Behaviour is
 * still asserted through HTTP and WebSocket.
 */
import { insertReturningId, uidToDb } from '../src/store/dialect.ts';
import { hashToken, newToken, newUid } from '../src/lib/ids.ts';
import { createConversation } from '../src/domain/conversations/create-conversation.ts';
import type { TestServer } from './harness.ts';

export interface BulkUser {
  id: string;
  userId: number;
  username: string;
  token: string;
}

let sharedHash: Promise<string> | null = null;
let seq = 0;

export async function bulkUsers(srv: TestServer, n: number, prefix = 'bulk'): Promise<BulkUser[]> {
  const { store, directory } = srv.app.deps;
  sharedHash ??= srv.app.deps.hasher.hash('Bulk-password-1');
  const hash = await sharedHash;
  const now = Date.now();
  const out: BulkUser[] = [];
  const run = ++seq;
  for (let i = 0; i < n; i += 200) {
    const chunk = Array.from({ length: Math.min(200, n - i) }, (_, j) => ({
      uid: newUid(),
      username: `${prefix}${run}-${i + j}`,
      token: newToken(),
    }));
    await store.db.transaction().execute(async (trx) => {
      for (const u of chunk) {
        const userId = await insertReturningId(store.kind, trx, 'users', {
          uid: uidToDb(store.kind, u.uid),
          username: u.username,
          display_name: u.username,
          password_hash: hash,
          role: 'user',
          disabled: 0,
          must_change_password: 0,
          last_useq: 0,
          created_at: now,
          updated_at: now,
        });
        const deviceId = await insertReturningId(store.kind, trx, 'devices', {
          uid: uidToDb(store.kind, newUid()),
          user_id: userId,
          name: 'bulk',
          created_at: now,
          last_seen_at: now,
        });
        await insertReturningId(store.kind, trx, 'sessions', {
          uid: uidToDb(store.kind, newUid()),
          user_id: userId,
          device_id: deviceId,
          token_hash: hashToken(u.token),
          created_at: now,
          last_used_at: now,
          revoked_at: null,
          ip: null,
          user_agent: null,
        });
        directory.remember(userId, u.uid);
        out.push({ id: u.uid, userId, username: u.username, token: u.token });
      }
    });
  }
  return out;
}

/** `count` groups, each with `owner` and `others` as members, created in batches through the domain. */
export async function bulkGroups(
  srv: TestServer,
  owner: BulkUser,
  others: BulkUser[],
  count: number,
): Promise<string[]> {
  const { deps } = srv.app;
  const ids: string[] = [];
  for (let i = 0; i < count; i += 100) {
    const n = Math.min(100, count - i);
    const made = await deps.writer.run(0, async (trx, out) => {
      const list: string[] = [];
      for (let k = 0; k < n; k++) {
        const c = await createConversation(deps, trx, out, {
          kind: 'group',
          name: `g${i + k}`,
          directKey: null,
          historyMode: 'from_join',
          creatorId: owner.userId,
          creatorUid: owner.id,
          members: [
            { userId: owner.userId, uid: owner.id, role: 'owner' },
            ...others.map((o) => ({ userId: o.userId, uid: o.id, role: 'member' as const })),
          ],
        });
        list.push(c.uid);
      }
      return list;
    });
    ids.push(...made);
  }
  return ids;
}
