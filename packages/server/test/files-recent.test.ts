import { beforeAll, describe, expect, it } from 'vitest';
import type { OpOutput } from '@enclave/protocol';
import { clientId, http, makeUser, serverOnStore, type TestServer, type TestUser } from './harness.ts';
import { allStoreTargets } from './stores.ts';
import { group, tmpDataDir, upload } from './files-support.ts';

type Recent = OpOutput<'files.recent'>;

describe.each(allStoreTargets())('files.recent on $kind', (target) => {
  describe.skipIf(target.skipReason !== null)('store', () => {
    const server = serverOnStore(target, () => ({ config: { dataDir: tmpDataDir() } }));
    let srv: TestServer;
    let alice: TestUser;
    let bob: TestUser;
    let mallory: TestUser;

    beforeAll(async () => {
      srv = server();
      [alice, bob, mallory] = await Promise.all([makeUser(srv), makeUser(srv), makeUser(srv)]);
    }, 120_000);

    const sendNew = async (user: TestUser, name: string, conversationIds: string[]) => {
      const fileId = await upload(srv, user, name, Buffer.from(`${name} ${Math.random()}`));
      const r = await http<OpOutput<'file.send'>>(srv, 'POST', `/api/v1/files/${fileId}/send`, {
        token: user.token,
        body: { conversationIds, clientMsgId: clientId('f') },
      });
      expect(r.status).toBe(200);
      return { fileId, seq: r.body.items[0]!.seq };
    };
    const recent = async (user: TestUser, query: Record<string, string | number> = {}) => {
      const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
      const r = await http<Recent>(srv, 'GET', `/api/v1/files/recent${qs ? `?${qs}` : ''}`, { token: user.token });
      expect(r.status).toBe(200);
      return r.body;
    };
    const names = (r: Recent) => r.items.map((i) => i.file.name);

    it('lists my files across conversations newest first, with where and by whom; never a non-member’s', async () => {
      const g1 = await group(srv, alice, [bob], '设计组');
      const g2 = await group(srv, alice, [bob], '市场部');
      const dm = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
        token: alice.token,
        body: { userId: bob.id },
      });
      const secret = await group(srv, alice, [mallory], 'no bob');
      await sendNew(alice, 'first.txt', [g1]);
      await sendNew(alice, '季度报告 2026.txt', [g2]);
      await sendNew(alice, 'secret-plan.txt', [secret]);
      await sendNew(bob, 'from-bob.txt', [dm.body.id]);

      const mine = await recent(bob);
      expect(names(mine)).toEqual(['from-bob.txt', '季度报告 2026.txt', 'first.txt']);
      expect(mine.nextCursor).toBeNull();
      expect(mine.items[1]).toMatchObject({
        conversation: { id: g2, kind: 'group', name: '市场部' },
        senderId: alice.id,
        file: { name: '季度报告 2026.txt', kind: 'file' },
      });
      expect(mine.items[0]!.conversation).toMatchObject({ id: dm.body.id, kind: 'direct', name: alice.username });
      expect(mine.items[0]!.sentAt).toBeGreaterThanOrEqual(mine.items[1]!.sentAt);

      expect(names(await recent(mallory))).toEqual(['secret-plan.txt']);
      expect(names(await recent(alice))).toContain('secret-plan.txt');
    });

    it('searches by name, Chinese included, case-insensitively', async () => {
      expect(names(await recent(bob, { q: '报告' }))).toEqual(['季度报告 2026.txt']);
      expect(names(await recent(bob, { q: '  FIRST ' }))).toEqual(['first.txt']);
      expect(names(await recent(bob, { q: '100%' }))).toEqual([]);
    });

    it('a recalled file message disappears', async () => {
      const g = await group(srv, alice, [bob], 'recall');
      const { seq } = await sendNew(alice, 'oops.txt', [g]);
      expect(names(await recent(bob, { q: 'oops' }))).toEqual(['oops.txt']);
      const r = await http(srv, 'POST', `/api/v1/conversations/${g}/messages/${seq}/recall`, {
        token: alice.token,
        body: { clientOpId: clientId('r') },
      });
      expect(r.status).toBe(200);
      expect(names(await recent(bob, { q: 'oops' }))).toEqual([]);
    });

    it('a member sees only files from their membership; a removed member stops seeing the group’s files', async () => {
      const late = await makeUser(srv);
      const g = await group(srv, alice, [bob], 'membership');
      await sendNew(alice, 'mm-before.txt', [g]);
      await http(srv, 'POST', `/api/v1/groups/${g}/members`, { token: alice.token, body: { userIds: [late.id] } });
      await sendNew(alice, 'mm-during.txt', [g]);
      expect(names(await recent(late))).toEqual(['mm-during.txt']);
      await http(srv, 'DELETE', `/api/v1/groups/${g}/members/${late.id}`, { token: alice.token });
      await sendNew(alice, 'mm-after.txt', [g]);
      expect(names(await recent(late))).toEqual([]);
      expect(names(await recent(bob, { q: 'mm-' }))).toEqual(['mm-after.txt', 'mm-during.txt', 'mm-before.txt']);
    });

    it('a group that shows all history shows a newcomer the files sent before they joined', async () => {
      const newcomer = await makeUser(srv);
      const g = await http<{ id: string }>(srv, 'POST', '/api/v1/groups', {
        token: alice.token,
        body: { name: 'open history', memberIds: [bob.id], historyMode: 'all' },
      });
      expect(g.status).toBe(200);
      await sendNew(alice, 'hist-old.txt', [g.body.id]);
      await http(srv, 'POST', `/api/v1/groups/${g.body.id}/members`, {
        token: alice.token,
        body: { userIds: [newcomer.id] },
      });
      await sendNew(alice, 'hist-new.txt', [g.body.id]);
      expect(names(await recent(newcomer))).toEqual(['hist-new.txt', 'hist-old.txt']);
    });

    it('pages with a stable cursor: every file once, in order', async () => {
      const pager = await makeUser(srv);
      const g = await group(srv, alice, [pager], 'pages');
      const dm = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
        token: alice.token,
        body: { userId: pager.id },
      });
      for (let n = 0; n < 7; n++) await sendNew(alice, `page-${n}.txt`, n % 2 ? [g] : [dm.body.id]);
      // One file to both conversations at once: two rows with the same time.
      await sendNew(alice, 'page-both.txt', [g, dm.body.id]);
      const all = await recent(pager);
      expect(all.items).toHaveLength(9);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page: Recent = await recent(pager, cursor ? { limit: 2, cursor } : { limit: 2 });
        seen.push(...page.items.map((i) => `${i.conversation.id}:${i.seq}`));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toEqual(all.items.map((i) => `${i.conversation.id}:${i.seq}`));
      expect(new Set(seen).size).toBe(9);
      expect(names(all).slice(0, 2)).toEqual(['page-both.txt', 'page-both.txt']);

      const bad = await http(srv, 'GET', '/api/v1/files/recent?cursor=not-a-cursor', { token: pager.token });
      expect(bad.status).toBe(400);
    });
  });
});
