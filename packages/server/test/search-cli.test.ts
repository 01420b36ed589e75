/**
 * `enclave search reindex` and `enclave export` as an operator runs them: a child process over the
 * server's SQLite file, with the server stopped; then a server on the same file proves the result.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpOutput, SearchMessagesResult } from '@enclave/protocol';
import { clientId, http, login, makeUser, startServer, type TestServer } from './harness.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'packages/server/bin/enclave.mjs');

describe('search CLI', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-search-cli-'));
  const url = `sqlite:${path.join(dir, 'enclave.db')}`;
  const env = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' };
  let srv: TestServer;
  let conv = '';
  let user = { username: '', password: '' };

  const enclave = async (args: string[]) =>
    (await run(process.execPath, [bin, ...args], { cwd: root, env, timeout: 90_000 })).stdout;
  const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;

  beforeAll(async () => {
    srv = await startServer({ databaseUrl: url });
    const u = await makeUser(srv, 'cli-searcher');
    user = u;
    const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
      token: u.token,
      body: { name: '运维群' },
    });
    conv = g.body.id;
    for (const t of ['第一条：备份已完成', '第二条：备份恢复演练', 'third: restore drill 备份'])
      await http(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
        token: u.token,
        body: { clientMsgId: clientId(), content: { text: t, format: 'plain' } },
      });
    await srv.close();
    // The index is lost (e.g. restored from an older copy): empty it behind the server's back.
    const db = new Database(path.join(dir, 'enclave-search.db'));
    db.exec('delete from search_fts; delete from search_bi; delete from search_docs;');
    db.close();
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reindex rebuilds the index in time order', async () => {
    expect(lastJson(await enclave(['search', 'reindex', '--json']))).toMatchObject({ messages: 3 });
    srv = await startServer({ databaseUrl: url });
    try {
      const token = (await login(srv, user.username, user.password)).token;
      const r = await http<SearchMessagesResult>(
        srv,
        'GET',
        `/api/v1/search/messages?q=${encodeURIComponent('备份')}`,
        {
          token,
        },
      );
      expect(r.body.items.map((h) => h.message.content?.text)).toEqual([
        'third: restore drill 备份',
        '第二条：备份恢复演练',
        '第一条：备份已完成',
      ]);
      // New messages go above the rebuilt ids.
      await http(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
        token,
        body: { clientMsgId: clientId(), content: { text: '第四条：备份新策略', format: 'plain' } },
      });
      const again = await http<SearchMessagesResult>(
        srv,
        'GET',
        `/api/v1/search/messages?q=${encodeURIComponent('备份')}`,
        {
          token,
        },
      );
      expect(again.body.items[0]!.message.content?.text).toBe('第四条：备份新策略');
    } finally {
      await srv.close();
    }
  }, 120_000);

  it('exports a conversation as a member sees it', async () => {
    const out = path.join(dir, 'export.html');
    const r = lastJson(
      await enclave(['export', conv, '--as', user.username, '--out', out, '--format', 'html', '--json']),
    );
    expect(r).toMatchObject({ file: out, format: 'html' });
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('<title>运维群 — Enclave</title>');
    expect(html).toContain('第二条：备份恢复演练');
  }, 120_000);
});
