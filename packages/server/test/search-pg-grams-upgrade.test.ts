/**
 * Migration 0008_search_cjk_grams (PostgreSQL): one- and two-character Chinese terms are looked up
 * through search_docs.grams instead of checked row by row. Messages indexed before the migration must
 * be found the same way afterwards: the migration fills the column for the rows already there.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { OpOutput, SearchMessagesResult } from '@enclave/protocol';
import { clientId, http, login, makeUser, startServer, type TestServer } from './harness.ts';
import { postgresTarget } from './stores.ts';

const target = postgresTarget();
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d();
});

async function search(srv: TestServer, token: string, q: string): Promise<string[]> {
  const r = await http<SearchMessagesResult>(srv, 'GET', `/api/v1/search/messages?q=${encodeURIComponent(q)}`, {
    token,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.items.map((h) => h.message.content?.text ?? '');
}

describe.skipIf(target.skipReason !== null)('search grams across the 0008 upgrade (PostgreSQL)', () => {
  it('finds one- and two-character words in messages indexed before the upgrade', async () => {
    const db = await target.create();
    drops.push(db.drop);
    // One-id windows: every query below reaches the index, where the grams do the narrowing.
    const config = { searchScanWindow: 1 };
    let srv = await startServer({ databaseUrl: db.url, config });
    const u = await makeUser(srv, 'grams');
    const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
      token: u.token,
      body: { name: '升级前' },
    });
    const texts = ['鳄梨沙拉的做法', '今天的会议改到下午', 'avocado 鳄梨 salad', '无关的一条'];
    for (const text of texts)
      expect(
        (
          await http(srv, 'POST', `/api/v1/conversations/${g.body.id}/messages`, {
            token: u.token,
            body: { clientMsgId: clientId(), content: { text, format: 'plain' } },
          })
        ).status,
      ).toBe(200);
    await srv.close();

    // Back to the layout before 0008: no grams column, the migration not applied.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('alter table search_docs drop column grams');
    await c.query(`delete from schema_migrations where name = '0008_search_cjk_grams'`);
    await c.end();

    srv = await startServer({ databaseUrl: db.url, config });
    try {
      const token = (await login(srv, u.username, u.password)).token;
      expect(await search(srv, token, '鳄梨')).toEqual(['avocado 鳄梨 salad', '鳄梨沙拉的做法']);
      expect(await search(srv, token, '会')).toEqual(['今天的会议改到下午']);
      expect(await search(srv, token, '梨 salad')).toEqual(['avocado 鳄梨 salad']);
      expect(await search(srv, token, '橙子')).toEqual([]);
      const c2 = new pg.Client({ connectionString: db.url });
      await c2.connect();
      const filled = await c2.query(`select count(*)::int as n from search_docs where cardinality(grams) > 0`);
      const indexes = await c2.query(
        `select indexname from pg_indexes where indexname = 'search_docs_grams' and schemaname = current_schema()`,
      );
      await c2.end();
      expect(filled.rows[0].n).toBe(4);
      expect(indexes.rows).toHaveLength(1);
    } finally {
      await srv.close();
    }
  });
});
