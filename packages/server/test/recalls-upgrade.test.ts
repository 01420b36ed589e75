/**
 * Migration 0007_recalls keeps recalled messages in a table of their own, so unread counts skip them
 * without walking every unread message. A store recalled into before the migration must count the
 * same afterwards: the migration fills the table from the messages already recalled.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { OpOutput } from '@enclave/protocol';
import { clientId, http, login, makeUser, startServer, type TestServer, type TestUser } from './harness.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function counts(srv: TestServer, token: string, convId: string) {
  const list = await http<OpOutput<'conversation.list'>>(srv, 'GET', '/api/v1/conversations', { token });
  const sync = await http<{ totalUnread: number }>(srv, 'POST', '/api/v1/sync', { token, body: {} });
  expect(list.status).toBe(200);
  expect(sync.status).toBe(200);
  return { unread: list.body.items.find((c) => c.id === convId)?.unread, totalUnread: sync.body.totalUnread };
}

describe('recalled messages and unread counts across the 0007_recalls upgrade (SQLite)', () => {
  it('a message recalled before the upgrade still does not count as unread after it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-recalls-'));
    dirs.push(dir);
    const file = path.join(dir, 'enclave.db');
    const url = `sqlite:${file}`;

    let srv = await startServer({ databaseUrl: url });
    const author: TestUser = await makeUser(srv, 'author');
    const reader: TestUser = await makeUser(srv, 'reader');
    const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
      token: author.token,
      body: { name: '撤回测试', memberIds: [reader.id] },
    });
    const convId = g.body.id;
    const seqs: number[] = [];
    for (const text of ['第一条', '第二条', '第三条']) {
      const r = await http<OpOutput<'message.send'>>(srv, 'POST', `/api/v1/conversations/${convId}/messages`, {
        token: author.token,
        body: { clientMsgId: clientId(), content: { text, format: 'plain' } },
      });
      seqs.push(r.body.seq);
    }
    const recalled = await http(srv, 'POST', `/api/v1/conversations/${convId}/messages/${seqs[1]}/recall`, {
      token: author.token,
      body: { clientOpId: clientId('op') },
    });
    expect(recalled.status).toBe(200);
    expect(await counts(srv, reader.token, convId)).toEqual({ unread: 2, totalUnread: 2 });
    await srv.close();

    // Put the store back as it was before 0007: recalls known only from the messages' columns.
    const db = new Database(file);
    db.exec(
      `drop table recalls; delete from schema_migrations where name in ('0007_recalls', '0008_search_cjk_grams');`,
    );
    db.close();

    srv = await startServer({ databaseUrl: url });
    try {
      const token = (await login(srv, reader.username, reader.password)).token;
      expect(await counts(srv, token, convId)).toEqual({ unread: 2, totalUnread: 2 });
      // A recall after the upgrade lowers the count as well.
      const again = await http(srv, 'POST', `/api/v1/conversations/${convId}/messages/${seqs[2]}/recall`, {
        token: (await login(srv, author.username, author.password)).token,
        body: { clientOpId: clientId('op') },
      });
      expect(again.status).toBe(200);
      expect(await counts(srv, token, convId)).toEqual({ unread: 1, totalUnread: 1 });
    } finally {
      await srv.close();
    }
  }, 60_000);
});
