/**
 * SQLite keeps the message search index in its own file beside the main database, worked from a
 * queue committed with each message (decision 0008). Through the API: an index left by the older
 * in-database layout moves to the file on upgrade, a lost file is rebuilt at start, and searches
 * answer with everything acknowledged before them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { OpOutput, SearchMessagesResult } from '@enclave/protocol';
import { clientId, http, login, makeUser, startServer, type TestServer } from './harness.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempStore() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-search-file-'));
  dirs.push(dir);
  return {
    main: path.join(dir, 'enclave.db'),
    search: path.join(dir, 'enclave-search.db'),
    url: `sqlite:${path.join(dir, 'enclave.db')}`,
  };
}

const removeDb = (file: string) => {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
};

async function seed(url: string, texts: string[]) {
  const srv = await startServer({ databaseUrl: url });
  const u = await makeUser(srv, 'filer');
  const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
    token: u.token,
    body: { name: '档案组' },
  });
  for (const t of texts)
    await http(srv, 'POST', `/api/v1/conversations/${g.body.id}/messages`, {
      token: u.token,
      body: { clientMsgId: clientId(), content: { text: t, format: 'plain' } },
    });
  // A search waits for the indexer, so the index is complete before the server stops.
  expect(await search(srv, u.token, '归档')).toHaveLength(texts.length);
  await srv.close();
  return { user: u, conv: g.body.id };
}

async function search(srv: TestServer, token: string, q: string): Promise<string[]> {
  const r = await http<SearchMessagesResult>(srv, 'GET', `/api/v1/search/messages?q=${encodeURIComponent(q)}`, {
    token,
  });
  expect(r.status).toBe(200);
  return r.body.items.map((h) => h.message.content?.text ?? '');
}

const TEXTS = ['季度报表已归档', '归档目录在共享盘', 'archive 归档 checklist'];
const NEWEST_FIRST = [...TEXTS].reverse();

describe('search index file (SQLite)', () => {
  it('moves an index from the in-database layout to its own file on upgrade', async () => {
    const s = tempStore();
    const { user, conv } = await seed(s.url, TEXTS);
    // Put the store back as the layout before 0005_search_queue left it: the index in the main
    // database's own tables (as 0003_search made them), no queue, no search file — and the indexes
    // 0006 drops, and no recalls table (0007).
    const db = new Database(s.main);
    db.prepare('attach database ? as idx').run(s.search);
    db.exec(`
      create table search_docs (id integer primary key autoincrement, conversation_id bigint not null,
        seq bigint not null, sender_id bigint not null, ts bigint not null, flags integer default 0 not null,
        constraint search_docs_message unique (conversation_id, seq));
      create index search_docs_conv on search_docs (conversation_id, id);
      create virtual table search_fts using fts5(body, tokenize = 'trigram');
      create virtual table search_bi using fts5(grams, detail = none);
      insert into main.search_docs select * from idx.search_docs;
      insert into main.search_fts (rowid, body) select rowid, body from idx.search_fts;
      insert into main.search_bi (rowid, grams) select rowid, grams from idx.search_bi;
      drop table search_queue;
      create index members_read on members (conversation_id, read_seq);
      create index conversations_last_ts on conversations (last_ts);
      drop table recalls;
      delete from schema_migrations where name in ('0005_search_queue', '0006_write_only_indexes', '0007_recalls', '0008_search_cjk_grams');
    `);
    db.exec('detach database idx');
    expect((db.prepare('select count(*) as n from search_docs').get() as { n: number }).n).toBe(3);
    db.close();
    removeDb(s.search);

    const srv = await startServer({ databaseUrl: s.url });
    try {
      const token = (await login(srv, user.username, user.password)).token;
      expect(await search(srv, token, '归档')).toEqual(NEWEST_FIRST);
      expect(fs.existsSync(s.search)).toBe(true);
      await http(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
        token,
        body: { clientMsgId: clientId(), content: { text: '升级后：归档新规则', format: 'plain' } },
      });
      // Acknowledged, so found at once — above the moved ones.
      expect(await search(srv, token, '归档')).toEqual(['升级后：归档新规则', ...NEWEST_FIRST]);
    } finally {
      await srv.close();
    }
    const after = new Database(s.main, { readonly: true });
    const tables = after.prepare("select name from sqlite_master where name like 'search%' and type = 'table'").all();
    const dropped = after
      .prepare("select name from sqlite_master where name in ('members_read', 'conversations_last_ts')")
      .all();
    after.close();
    expect(tables).toEqual([{ name: 'search_queue' }]);
    expect(dropped).toEqual([]);
  }, 60_000);

  it('rebuilds a lost search file at start', async () => {
    const s = tempStore();
    const { user } = await seed(s.url, TEXTS);
    removeDb(s.search);
    const srv = await startServer({ databaseUrl: s.url });
    try {
      const token = (await login(srv, user.username, user.password)).token;
      let found: string[] = [];
      for (let i = 0; i < 100 && found.length < 3; i++) {
        found = await search(srv, token, '归档');
        if (found.length < 3) await new Promise((r) => setTimeout(r, 100));
      }
      expect(found).toEqual(NEWEST_FIRST);
    } finally {
      await srv.close();
    }
  }, 60_000);

  it('answers with every message acknowledged before the search, edits and recalls included', async () => {
    const s = tempStore();
    const srv = await startServer({ databaseUrl: s.url });
    try {
      const u = await makeUser(srv, 'burst');
      const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
        token: u.token,
        body: { name: '连发' },
      });
      const seqs = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const r = await http<{ seq: number }>(srv, 'POST', `/api/v1/conversations/${g.body.id}/messages`, {
            token: u.token,
            body: { clientMsgId: clientId(), content: { text: `连发测试 第${i}条 burstword`, format: 'plain' } },
          });
          return r.body.seq;
        }),
      );
      const all = async () => {
        const out: string[] = [];
        for (let cursor: string | null = null; ;) {
          const q: URLSearchParams = new URLSearchParams({
            q: 'burstword',
            limit: '50',
            ...(cursor ? { cursor } : {}),
          });
          const r: { body: SearchMessagesResult } = await http<SearchMessagesResult>(
            srv,
            'GET',
            `/api/v1/search/messages?${q}`,
            {
              token: u.token,
            },
          );
          out.push(...r.body.items.map((h) => h.message.content?.text ?? ''));
          cursor = r.body.nextCursor;
          if (!cursor) return out;
        }
      };
      expect((await all()).length).toBe(60);
      const first = Math.min(...seqs);
      const recalled = await http(srv, 'POST', `/api/v1/conversations/${g.body.id}/messages/${first}/recall`, {
        token: u.token,
        body: { clientOpId: clientId('op') },
      });
      expect(recalled.status).toBe(200);
      expect((await all()).length).toBe(59);
      const second = [...seqs].sort((a, b) => a - b)[1]!;
      const edited = await http(srv, 'PATCH', `/api/v1/conversations/${g.body.id}/messages/${second}`, {
        token: u.token,
        body: { clientOpId: clientId('op'), content: { text: '改过的内容 nomoreword', format: 'plain' } },
      });
      expect(edited.status).toBe(200);
      expect((await all()).length).toBe(58);
      expect(await search(srv, u.token, 'nomoreword')).toEqual(['改过的内容 nomoreword']);
    } finally {
      await srv.close();
    }
  }, 60_000);
});
