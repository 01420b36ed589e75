import { beforeAll, describe, expect, it } from 'vitest';
import type { FileInfo, OpOutput } from '@enclave/protocol';
import { clientId, http, makeUser, serverOnStore, text, type TestServer, type TestUser } from './harness.ts';
import { allStoreTargets } from './stores.ts';
import { download, group, png, tmpDataDir, upload } from './files-support.ts';
import { purgeFiles } from '../src/jobs/purge-files.ts';

const DAY = 86_400_000;

describe.each(allStoreTargets())('files on $kind', (target) => {
  describe.skipIf(target.skipReason !== null)('store', () => {
    const server = serverOnStore(target, () => ({ now: () => clock, config: { dataDir: tmpDataDir() } }));
    let srv: TestServer;
    let alice: TestUser;
    let bob: TestUser;
    let carol: TestUser;
    let mallory: TestUser;
    let convId: string;
    let clock = Date.now();

    beforeAll(async () => {
      srv = server();
      [alice, bob, carol, mallory] = await Promise.all([makeUser(srv), makeUser(srv), makeUser(srv), makeUser(srv)]);
      convId = await group(srv, alice, [bob, carol]);
    }, 120_000);

    const send = (user: TestUser, fileId: string, conversationIds: string[]) =>
      http<OpOutput<'file.send'>>(srv, 'POST', `/api/v1/files/${fileId}/send`, {
        token: user.token,
        body: { conversationIds, clientMsgId: clientId('f') },
      });

    it('sends an uploaded image as a message: members see it with a thumbnail, others get 404', async () => {
      const bytes = await png(800, 600, 1);
      const fileId = await upload(srv, alice, '截图 2026.png', bytes);
      const sent = await send(alice, fileId, [convId]);
      expect(sent.status).toBe(200);
      const seq = sent.body.items[0]!.seq;

      const msg = await http<{ kind: string; file: FileInfo | null; content: { text: string } }>(
        srv,
        'GET',
        `/api/v1/conversations/${convId}/messages/${seq}`,
        { token: bob.token },
      );
      expect(msg.body.kind).toBe('file');
      expect(msg.body.file).toMatchObject({ id: fileId, name: '截图 2026.png', mime: 'image/png', kind: 'image' });
      expect(msg.body.file).toMatchObject({ width: 800, height: 600, thumbnail: true, size: bytes.length });

      const got = await download(srv, bob.token, `/api/v1/files/${fileId}/content`);
      expect(got.status).toBe(200);
      expect(got.bytes.equals(bytes)).toBe(true);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');
      expect(got.headers.get('content-disposition')).toBe(
        `attachment; filename="__ 2026.png"; filename*=UTF-8''${encodeURIComponent('截图 2026.png')}`,
      );
      const thumb = await download(srv, carol.token, `/api/v1/files/${fileId}/thumbnail`);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      expect(thumb.bytes.length).toBeGreaterThan(20);

      for (const p of ['content', 'thumbnail']) {
        expect((await download(srv, mallory.token, `/api/v1/files/${fileId}/${p}`)).status).toBe(404);
        expect((await download(srv, null, `/api/v1/files/${fileId}/${p}`)).status).toBe(401);
      }
      expect((await http(srv, 'GET', `/api/v1/files/${fileId}`, { token: mallory.token })).status).toBe(404);
    });

    it('stores the same content once however many times it is uploaded, and forwards without re-upload', async () => {
      const bytes = Buffer.from('quarterly report, 季度报告\n'.repeat(500));
      const a = await upload(srv, alice, 'report.txt', bytes);
      const b = await upload(srv, bob, 'copy.txt', bytes);
      expect(a).not.toBe(b);
      const blobs = await srv.app.deps.store.db.selectFrom('file_blobs').selectAll().execute();
      const mine = blobs.filter((x) => Number(x.size) === bytes.length);
      expect(mine).toHaveLength(1);
      expect(Number(mine[0]!.refcount)).toBe(2);

      // Bob forwards Alice's file after she sent it to him in a 1:1: no bytes move.
      const direct = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
        token: alice.token,
        body: { userId: bob.id },
      });
      expect((await send(alice, a, [direct.body.id])).status).toBe(200);
      const bobDm = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
        token: bob.token,
        body: { userId: carol.id },
      });
      const fwd = await send(bob, a, [bobDm.body.id, convId]);
      expect(fwd.status).toBe(200);
      expect(fwd.body.items).toHaveLength(2);
      expect((await download(srv, carol.token, `/api/v1/files/${a}/content`)).bytes.equals(bytes)).toBe(true);
      // Mallory can reach neither; nor can she forward it.
      expect((await send(mallory, a, [bobDm.body.id])).status).toBe(404);
    });

    it('recall removes access through that message only; the blob stays', async () => {
      const bytes = Buffer.from('recall me '.repeat(100));
      const fileId = await upload(srv, alice, 'secret.txt', bytes);
      const s = await send(alice, fileId, [convId]);
      const seq = s.body.items[0]!.seq;
      expect((await download(srv, bob.token, `/api/v1/files/${fileId}/content`)).status).toBe(200);
      const r = await http(srv, 'POST', `/api/v1/conversations/${convId}/messages/${seq}/recall`, {
        token: alice.token,
        body: { clientOpId: clientId('r') },
      });
      expect(r.status).toBe(200);
      expect((await download(srv, bob.token, `/api/v1/files/${fileId}/content`)).status).toBe(404);
      const msg = await http<{ state: string; file: unknown }>(
        srv,
        'GET',
        `/api/v1/conversations/${convId}/messages/${seq}`,
        {
          token: bob.token,
        },
      );
      expect(msg.body.state).toBe('recalled');
      expect(msg.body.file).toBeNull();
      // The uploader keeps access; the bytes are still stored.
      expect((await download(srv, alice.token, `/api/v1/files/${fileId}/content`)).bytes.equals(bytes)).toBe(true);
    });

    it('a member removed from the group loses files sent after, keeps none sent before in from_join history', async () => {
      const late = await makeUser(srv);
      const before = await upload(srv, alice, 'before.txt', Buffer.from('before join'));
      await send(alice, before, [convId]);
      await http(srv, 'POST', `/api/v1/groups/${convId}/members`, { token: alice.token, body: { userIds: [late.id] } });
      const after = await upload(srv, alice, 'after.txt', Buffer.from('after join'));
      await send(alice, after, [convId]);
      expect((await download(srv, late.token, `/api/v1/files/${before}/content`)).status).toBe(404);
      expect((await download(srv, late.token, `/api/v1/files/${after}/content`)).status).toBe(200);
      await http(srv, 'DELETE', `/api/v1/groups/${convId}/members/${late.id}`, { token: alice.token });
      const third = await upload(srv, alice, 'third.txt', Buffer.from('after leave'));
      await send(alice, third, [convId]);
      expect((await download(srv, late.token, `/api/v1/files/${third}/content`)).status).toBe(404);
    });

    it('group file space: lists, searches, sorts; admins delete; members may not', async () => {
      const g = await group(srv, alice, [bob], 'space');
      for (const [name, size] of [
        ['合同-final.pdf', 30],
        ['budget.xlsx', 10],
        ['notes.txt', 20],
      ] as const)
        await send(bob, await upload(srv, bob, name, Buffer.alloc(size, `${name}:`)), [g]);
      const list = (q = '', sort = 'time', order = 'desc') =>
        http<OpOutput<'group.files'>>(
          srv,
          'GET',
          `/api/v1/conversations/${g}/files?q=${encodeURIComponent(q)}&sort=${sort}&order=${order}`,
          {
            token: alice.token,
          },
        );
      expect((await list()).body.items.map((i) => i.file.name)).toEqual(['notes.txt', 'budget.xlsx', '合同-final.pdf']);
      expect((await list('合同')).body.items.map((i) => i.file.name)).toEqual(['合同-final.pdf']);
      expect((await list('', 'size', 'asc')).body.items.map((i) => i.file.size)).toEqual([10, 20, 30]);
      expect((await list('%')).body.total).toBe(0);
      const target = (await list('budget')).body.items[0]!;
      expect(
        (await http(srv, 'DELETE', `/api/v1/conversations/${g}/files/${target.seq}`, { token: bob.token })).status,
      ).toBe(403);
      expect(
        (await http(srv, 'DELETE', `/api/v1/conversations/${g}/files/${target.seq}`, { token: alice.token })).status,
      ).toBe(200);
      expect((await list()).body.total).toBe(2);
      expect((await download(srv, alice.token, `/api/v1/files/${target.file.id}/content`)).status).toBe(404);
      expect((await http(srv, 'GET', `/api/v1/conversations/${g}/files`, { token: mallory.token })).status).toBe(404);
    });

    it('folders keep their tree and download as a zip', async () => {
      const f = await http<FileInfo>(srv, 'POST', '/api/v1/folders', {
        token: alice.token,
        body: { name: '项目资料' },
      });
      expect(f.status).toBe(200);
      await upload(srv, alice, 'a.txt', Buffer.from('A'), { folderId: f.body.id, path: 'docs/a.txt' });
      await upload(srv, alice, 'b.txt', Buffer.from('BB'), { folderId: f.body.id, path: 'docs/deep/b.txt' });
      const s = await send(alice, f.body.id, [convId]);
      expect(s.status).toBe(200);
      const info = await http<FileInfo>(srv, 'GET', `/api/v1/files/${f.body.id}`, { token: bob.token });
      expect(info.body.kind).toBe('folder');
      expect(info.body.size).toBe(3);
      expect(info.body.entries!.map((e) => e.path)).toEqual(['docs/a.txt', 'docs/deep/b.txt']);
      const zip = await download(srv, bob.token, `/api/v1/files/${f.body.id}/zip`);
      expect(zip.status).toBe(200);
      expect(zip.bytes.subarray(0, 2).toString('latin1')).toBe('PK');
      expect(zip.bytes.includes(Buffer.from('项目资料/docs/deep/b.txt'))).toBe(true);
      // Files inside the folder are reachable through it, not elsewhere.
      const entry = info.body.entries![1]!.fileId;
      expect((await download(srv, bob.token, `/api/v1/files/${entry}/content`)).bytes.toString()).toBe('BB');
      expect((await download(srv, mallory.token, `/api/v1/files/${entry}/content`)).status).toBe(404);
    });

    it('retention removes expired files and frees blobs nothing references', async () => {
      const keep = Buffer.from('shared bytes kept by a newer upload');
      const old = await upload(srv, alice, 'old.txt', keep);
      const lonely = await upload(srv, alice, 'lonely.txt', Buffer.from('nobody else has these bytes'));
      await send(alice, old, [convId]);
      clock += 20 * DAY;
      const fresh = await upload(srv, bob, 'fresh.txt', keep);
      clock += 11 * DAY; // old and lonely are past 30 days; fresh is 11 days old
      const before = await srv.app.deps.store.db.selectFrom('file_blobs').select('id').execute();
      const r = await purgeFiles(srv.app.deps);
      expect(r.files).toBeGreaterThanOrEqual(2);
      expect((await download(srv, bob.token, `/api/v1/files/${old}/content`)).status).toBe(404);
      expect((await download(srv, alice.token, `/api/v1/files/${lonely}/content`)).status).toBe(404);
      expect((await download(srv, bob.token, `/api/v1/files/${fresh}/content`)).bytes.equals(keep)).toBe(true);
      const after = await srv.app.deps.store.db.selectFrom('file_blobs').select(['id', 'refcount']).execute();
      expect(after.length).toBeLessThan(before.length);
      expect(after.every((b) => Number(b.refcount) > 0)).toBe(true);
      // Every reference count equals the files that point at the blob (folders and their entries included).
      const files = await srv.app.deps.store.db
        .selectFrom('files')
        .select('blob_id')
        .where('blob_id', 'is not', null)
        .execute();
      const uses = new Map<number, number>();
      for (const f of files) uses.set(Number(f.blob_id), (uses.get(Number(f.blob_id)) ?? 0) + 1);
      expect(new Map(after.map((b) => [Number(b.id), Number(b.refcount)]))).toEqual(uses);
      // The message stays; its file is gone.
      const msgs = await http(srv, 'GET', `/api/v1/conversations/${convId}/events`, { token: bob.token });
      expect(msgs.status).toBe(200);
      expect((await purgeFiles(srv.app.deps)).files).toBe(0);
    });

    it('sends to several conversations at once, idempotently', async () => {
      const other = await group(srv, bob, [carol], 'other');
      const fileId = await upload(srv, bob, 'multi.txt', Buffer.from('to many'));
      const body = { conversationIds: [convId, other], clientMsgId: clientId('multi') };
      const a = await http<OpOutput<'file.send'>>(srv, 'POST', `/api/v1/files/${fileId}/send`, {
        token: bob.token,
        body,
      });
      const b = await http<OpOutput<'file.send'>>(srv, 'POST', `/api/v1/files/${fileId}/send`, {
        token: bob.token,
        body,
      });
      expect(a.body.items.map((i) => i.duplicate)).toEqual([false, false]);
      expect(b.body.items.map((i) => i.duplicate)).toEqual([true, true]);
      expect(b.body.items.map((i) => i.seq)).toEqual(a.body.items.map((i) => i.seq));
      // A file message cannot be edited into text.
      const e = await http(srv, 'PATCH', `/api/v1/conversations/${other}/messages/${a.body.items[1]!.seq}`, {
        token: bob.token,
        body: { content: text('x'), clientOpId: clientId('e') },
      });
      expect(e.status).toBe(400);
    });
  });
});
