/**
 * Message search, jump-to-message, directory search and export through the API, on every store:
 * Chinese and mixed queries of 1, 2 and 3+ characters, filters, authorization (non-members and
 * removed members), edits, recalls, sign-off, and cursor paging while new messages arrive.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { OpOutput, SearchMessagesResult } from '@enclave/protocol';
import { bulkGroups, bulkUsers } from './factories.ts';
import { clientId, http, makeUser, serverOnStore, type TestServer, type TestUser } from './harness.ts';
import { allStoreTargets } from './stores.ts';

describe.each(allStoreTargets())('search on $kind', (target) => {
  describe.skipIf(target.skipReason !== null)('store', () => {
    // PostgreSQL and MySQL read the newest ids row by row before asking their full-text index (port.ts
    // `newestFirst`, at most 100 windows' worth): a first window of one id makes the tests here take
    // both paths, and the switch between them, on a corpus of a hundred messages.
    const server = serverOnStore(target, { config: { searchScanWindow: 1 } });
    let srv: TestServer;
    let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
    let g1: string;
    const seqOf = new Map<string, number>();

    async function send(u: TestUser, conv: string, textBody: string, extra: Record<string, unknown> = {}) {
      const r = await http<OpOutput<'message.send'>>(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
        token: u.token,
        body: { clientMsgId: clientId(), content: { text: textBody, format: 'plain' }, ...extra },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      seqOf.set(textBody, r.body.seq);
      return r.body.seq;
    }

    async function search(u: TestUser, q: string, extra: Record<string, string | number> = {}) {
      const params = new URLSearchParams({
        q,
        ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
      });
      const r = await http<SearchMessagesResult>(srv, 'GET', `/api/v1/search/messages?${params}`, { token: u.token });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    }
    const texts = async (u: TestUser, q: string, extra: Record<string, string | number> = {}) =>
      (await search(u, q, extra)).items.map((h) => h.message.content?.text);

    beforeAll(async () => {
      srv = server();
      [alice, bob, carol, dave] = await Promise.all([makeUser(srv), makeUser(srv), makeUser(srv), makeUser(srv)]);
      const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
        token: alice.token,
        body: { name: '项目协调群', memberIds: [bob.id] },
      });
      g1 = g.body.id;
      await send(alice, g1, '明天上午十点开会讨论私有化部署方案');
      await send(bob, g1, '请查看 https://intranet.example/doc 里的部署文档');
      await send(alice, g1, 'The Deployment of 鲲鹏 servers is done');
      await send(bob, g1, '我们用云服务吗');
      await send(alice, g1, '@bob 请确认预算', { mentions: [bob.id] });
      await send(alice, g1, '人');
    }, 60_000);

    it('finds Chinese text by 3+, 2 and 1 characters, and mixed Chinese/English', async () => {
      expect(await texts(bob, '私有化')).toEqual(['明天上午十点开会讨论私有化部署方案']);
      expect(await texts(bob, '署方案')).toEqual(['明天上午十点开会讨论私有化部署方案']);
      expect(await texts(bob, '部署')).toEqual([
        '请查看 https://intranet.example/doc 里的部署文档',
        '明天上午十点开会讨论私有化部署方案',
      ]);
      expect(await texts(bob, '云')).toEqual(['我们用云服务吗']);
      // A one-character message and a character at the end of a text are found too.
      expect(await texts(bob, '人')).toEqual(['人']);
      expect(await texts(bob, '方案')).toEqual(['明天上午十点开会讨论私有化部署方案']);
      expect(await texts(bob, '鲲鹏 deploy')).toEqual(['The Deployment of 鲲鹏 servers is done']);
      expect(await texts(bob, 'DEPLOYMENT')).toEqual(['The Deployment of 鲲鹏 servers is done']);
      expect(await texts(bob, 'ｄｅｐｌｏｙ')).toEqual(['The Deployment of 鲲鹏 servers is done']);
      expect(await texts(bob, '"十点开会"')).toEqual(['明天上午十点开会讨论私有化部署方案']);
      expect(await texts(bob, '开会 预算')).toEqual([]);
      expect(await texts(bob, '不存在的词')).toEqual([]);
    });

    it('highlights the matches in a snippet', async () => {
      const [hit] = (await search(bob, '私有化')).items;
      expect(hit!.conversation).toMatchObject({ id: g1, kind: 'group', name: '项目协调群' });
      const [s, e] = hit!.highlights[0]!;
      expect(hit!.snippet.slice(s, e)).toBe('私有化');
      const [en] = (await search(bob, 'deployment')).items;
      expect(en!.snippet.slice(...en!.highlights[0]!)).toBe('Deployment');
    });

    it('filters by sender, conversation, date, link and mention', async () => {
      expect(await texts(bob, `部署 from:${alice.username}`)).toEqual(['明天上午十点开会讨论私有化部署方案']);
      expect(await texts(bob, '部署 from:me')).toEqual(['请查看 https://intranet.example/doc 里的部署文档']);
      expect(await texts(bob, 'has:link')).toEqual(['请查看 https://intranet.example/doc 里的部署文档']);
      expect(await texts(bob, 'is:mention')).toEqual(['@bob 请确认预算']);
      expect(await texts(alice, 'is:mention')).toEqual([]);
      expect((await texts(bob, `in:${g1} 私有化`)).length).toBe(1);
      expect((await texts(bob, '私有化', { conversationId: g1 })).length).toBe(1);
      // The history manager: everything in one conversation, or one type of it, newest first, without words.
      expect(await texts(bob, '', { conversationId: g1, limit: 2 })).toEqual(['人', '@bob 请确认预算']);
      expect(await texts(bob, 'has:link', { conversationId: g1 })).toEqual([
        '请查看 https://intranet.example/doc 里的部署文档',
      ]);
      const blank = await http<{ error: { code: string } }>(srv, 'GET', '/api/v1/search/messages?q=', {
        token: bob.token,
      });
      expect(blank.body.error.code).toBe('search_query_invalid');
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      expect((await texts(bob, `on:${today} 私有化`)).length).toBe(1);
      expect((await texts(bob, `before:${today} 私有化`)).length).toBe(0);
      expect((await texts(bob, `after:${yesterday} 私有化`)).length).toBe(1);
      expect((await texts(bob, `after:${today} 私有化`)).length).toBe(0);
      const bad = await http<{ error: { code: string } }>(srv, 'GET', '/api/v1/search/messages?q=before:2026-13-45', {
        token: bob.token,
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('search_query_invalid');
      const cursor = await http<{ error: { code: string } }>(srv, 'GET', '/api/v1/search/messages?q=x&cursor=bogus', {
        token: bob.token,
      });
      expect(cursor.body.error.code).toBe('search_cursor_invalid');
    });

    it('from: finds what a sender said where they were a member, after they left too, and nothing elsewhere', async () => {
      const [eve, frank] = await Promise.all([makeUser(srv), makeUser(srv)]);
      const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
        token: alice.token,
        body: { name: '交接群', memberIds: [eve.id, frank.id] },
      });
      await send(eve, g.body.id, '离职前的交接清单');
      const r = await http(srv, 'DELETE', `/api/v1/groups/${g.body.id}/members/${eve.id}`, { token: alice.token });
      expect(r.status).toBe(200);
      expect(await texts(frank, `交接 from:${eve.username}`)).toEqual(['离职前的交接清单']);
      expect(await texts(alice, `交接 from:${eve.username}`)).toEqual(['离职前的交接清单']);
      // Bob said 部署 in a group Frank is not in; Dave shares no conversation with Eve.
      expect(await texts(frank, `部署 from:${bob.username}`)).toEqual([]);
      expect(await texts(dave, `交接 from:${eve.username}`)).toEqual([]);
      expect(await texts(frank, '交接 from:nobody-by-that-name')).toEqual([]);
    });

    it('searches more than a thousand groups joined after they began', async () => {
      // Each joined mid-stream: a seq range of its own in the index query, not the whole conversation.
      const [owner, viewer] = await bulkUsers(srv, 2, 'late');
      const ids = await bulkGroups(srv, owner!, [], 1_100);
      for (let i = 0; i < ids.length; i += 50)
        await Promise.all(
          ids.slice(i, i + 50).map(async (id) => {
            const r = await http(srv, 'POST', `/api/v1/groups/${id}/members`, {
              token: owner!.token,
              body: { userIds: [viewer!.id] },
            });
            expect(r.status).toBe(200);
          }),
        );
      const sent = await http(srv, 'POST', `/api/v1/conversations/${ids.at(-1)}/messages`, {
        token: owner!.token,
        body: { clientMsgId: clientId(), content: { text: '千群之后的通知', format: 'plain' } },
      });
      expect(sent.status).toBe(200);
      const r = await http<SearchMessagesResult>(
        srv,
        'GET',
        `/api/v1/search/messages?q=${encodeURIComponent('千群之后')}`,
        {
          token: viewer!.token,
        },
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.items.map((h) => h.message.content?.text)).toEqual(['千群之后的通知']);
    }, 120_000);

    it('answers hostile and oversized queries with a result or a stable error, never a 500', async () => {
      const hostile = [
        '"',
        '""',
        '*',
        'AND',
        'NEAR(部署 方案)',
        '部署*',
        '%',
        '_',
        '\\',
        "'; drop table search_docs; --",
        '(',
        'a" OR "b',
        '^',
        '-',
        'from:',
        'has:',
        'in:',
        '　',
        '\u0000',
        '💡',
        '💡部署',
        'x'.repeat(100),
      ];
      for (const q of hostile) {
        const r = await http<SearchMessagesResult | { error: { code: string } }>(
          srv,
          'GET',
          `/api/v1/search/messages?q=${encodeURIComponent(q)}`,
          { token: bob.token },
        );
        expect([200, 400], `${JSON.stringify(q)} → ${JSON.stringify(r.body)}`).toContain(r.status);
        if (r.status === 400)
          expect((r.body as { error: { code: string } }).error.code).toMatch(
            /^(search_query_invalid|validation_failed)$/,
          );
      }
      // A LIKE wildcard is a character like any other: '%' finds nothing here, not everything.
      expect(await texts(bob, '50%')).toEqual([]);
      expect(await texts(bob, '_部署')).toEqual([]);
      const long = await http<{ error: { code: string } }>(
        srv,
        'GET',
        `/api/v1/search/messages?q=${'部'.repeat(300)}`,
        {
          token: bob.token,
        },
      );
      expect(long.body.error.code).toBe('validation_failed');
      const many = await http<{ error: { code: string } }>(
        srv,
        'GET',
        `/api/v1/search/messages?q=${encodeURIComponent(Array.from({ length: 11 }, (_, i) => `w${i}`).join(' '))}`,
        { token: bob.token },
      );
      expect(many.body.error.code).toBe('search_query_invalid');
      const badIn = await http<{ error: { code: string } }>(srv, 'GET', '/api/v1/search/messages?q=in:general', {
        token: bob.token,
      });
      expect(badIn.body.error.code).toBe('search_query_invalid');
    });

    it('never shows a hit to a non-member; a removed member stops seeing new hits', async () => {
      expect(await texts(dave, '私有化')).toEqual([]);
      expect(await texts(dave, '部署')).toEqual([]);
      const foreign = await http<{ error: { code: string } }>(
        srv,
        'GET',
        `/api/v1/search/messages?q=%E9%83%A8%E7%BD%B2&conversationId=${g1}`,
        { token: dave.token },
      );
      expect(foreign.status).toBe(404);
      expect(foreign.body.error.code).toBe('conversation_not_found');
      // Carol joins a from_join group: she sees what is said after she joined, nothing before.
      await http(srv, 'POST', `/api/v1/groups/${g1}/members`, { token: alice.token, body: { userIds: [carol.id] } });
      expect(await texts(carol, '私有化')).toEqual([]);
      await send(alice, g1, '私有化二期启动');
      expect(await texts(carol, '私有化')).toEqual(['私有化二期启动']);
      expect(await texts(carol, '二期')).toEqual(['私有化二期启动']);
      const r = await http(srv, 'DELETE', `/api/v1/groups/${g1}/members/${carol.id}`, { token: alice.token });
      expect(r.status).toBe(200);
      await send(alice, g1, '私有化三期规划');
      expect(await texts(carol, '私有化')).toEqual([]);
      expect(await texts(carol, '三期')).toEqual([]);
      expect((await texts(bob, '私有化')).length).toBe(3);
    });

    it('re-indexes edits and drops recalled messages in the same commit', async () => {
      const seq = await send(alice, g1, '撤回测试机密文件');
      expect(await texts(bob, '机密')).toEqual(['撤回测试机密文件']);
      const r = await http(srv, 'POST', `/api/v1/conversations/${g1}/messages/${seq}/recall`, {
        token: alice.token,
        body: { clientOpId: clientId('op') },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(await texts(bob, '机密')).toEqual([]);
      expect(await texts(bob, '撤回测试')).toEqual([]);
      const e = await send(alice, g1, '原来的措辞');
      const ed = await http(srv, 'PATCH', `/api/v1/conversations/${g1}/messages/${e}`, {
        token: alice.token,
        body: { clientOpId: clientId('op'), content: { text: '修改后的表述', format: 'plain' } },
      });
      expect(ed.status, JSON.stringify(ed.body)).toBe(200);
      expect(await texts(bob, '原来的')).toEqual([]);
      expect(await texts(bob, '措辞')).toEqual([]);
      expect(await texts(bob, '修改后')).toEqual(['修改后的表述']);
    });

    it('hides sign-off bodies until signed', async () => {
      const seq = await send(bob, g1, '签收内容需保密', { signoff: true });
      expect(await texts(bob, '签收内容')).toEqual(['签收内容需保密']);
      expect(await texts(alice, '签收内容')).toEqual([]);
      expect(await texts(alice, '保密')).toEqual([]);
      await http(srv, 'POST', `/api/v1/conversations/${g1}/messages/${seq}/sign`, { token: alice.token, body: {} });
      expect(await texts(alice, '签收内容')).toEqual(['签收内容需保密']);
    });

    it('pages with a cursor that is stable while new messages arrive', async () => {
      for (let i = 1; i <= 25; i++) await send(alice, g1, `分页测试第${i}条`);
      const p1 = await search(bob, '分页测试', { limit: 10 });
      expect(p1.items.map((h) => h.message.content?.text)).toEqual(
        Array.from({ length: 10 }, (_, i) => `分页测试第${25 - i}条`),
      );
      for (let i = 26; i <= 30; i++) await send(bob, g1, `分页测试第${i}条`);
      const p2 = await search(bob, '分页测试', { limit: 10, cursor: p1.nextCursor! });
      expect(p2.items.map((h) => h.message.content?.text)).toEqual(
        Array.from({ length: 10 }, (_, i) => `分页测试第${15 - i}条`),
      );
      const p3 = await search(bob, '分页测试', { limit: 10, cursor: p2.nextCursor! });
      expect(p3.items.map((h) => h.message.content?.text)).toEqual(
        Array.from({ length: 5 }, (_, i) => `分页测试第${5 - i}条`),
      );
      expect(p3.nextCursor).toBeNull();
      // Relevance pages over a snapshot: every match once, new ones do not shift the pages.
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const r = await search(bob, '分页测试', { limit: 7, order: 'relevance', ...(cursor ? { cursor } : {}) });
        for (const h of r.items) seen.add(h.message.content!.text);
        if (page === 0) await send(alice, g1, '分页测试第31条');
        if (!r.nextCursor) break;
        cursor = r.nextCursor;
      }
      expect(seen.size).toBe(30);
    });

    it('finds a common word among the newest messages and a rare one far older, newest first', async () => {
      const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
        token: carol.token,
        body: { name: '窗口测试', memberIds: [dave.id] },
      });
      await send(carol, g.body.id, '最早的一条提到琉璃瓦');
      for (let i = 1; i <= 126; i++)
        await send(i % 2 ? carol : dave, g.body.id, i % 6 ? `普通消息${i}` : `例会纪要${i}`);
      // Every sixth message, 21 in all: windows sized from the density seen, and past 100 ids of
      // windows (this test's first window is one id) the index for the rest of the page.
      const all = Array.from({ length: 21 }, (_, k) => `例会纪要${126 - 6 * k}`);
      expect(await texts(dave, '例会纪要', { limit: 20 })).toEqual(all.slice(0, 20));
      const p1 = await search(dave, '例会纪要', { limit: 7 });
      const p2 = await search(dave, '例会纪要', { limit: 7, cursor: p1.nextCursor! });
      const p3 = await search(dave, '例会纪要', { limit: 7, cursor: p2.nextCursor! });
      expect([...p1.items, ...p2.items, ...p3.items].map((h) => h.message.content?.text)).toEqual(all);
      expect(p3.nextCursor).toBeNull();
      // Older than every window: found through the index, as is a 2-character word there.
      expect(await texts(dave, '琉璃瓦')).toEqual(['最早的一条提到琉璃瓦']);
      expect(await texts(dave, '琉璃')).toEqual(['最早的一条提到琉璃瓦']);
      // A word everywhere but in the viewer's conversations: none of it leaks.
      expect(await texts(alice, '例会纪要')).toEqual([]);
    });

    it('jumps to a message: the page around its seq', async () => {
      const seq = seqOf.get('分页测试第10条')!;
      const r = await http<OpOutput<'conversation.around'>>(
        srv,
        'GET',
        `/api/v1/conversations/${g1}/around?seq=${seq}&limit=5`,
        { token: bob.token },
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.events.map((e) => e.seq)).toEqual([seq - 2, seq - 1, seq, seq + 1, seq + 2]);
      expect(r.body.events[2]!.message?.content?.text).toBe('分页测试第10条');
      expect(r.body).toMatchObject({ anchorSeq: seq, hasMore: true, hasMoreAfter: true });
      const notVisible = await http<{ error: { code: string } }>(
        srv,
        'GET',
        `/api/v1/conversations/${g1}/around?seq=${seqOf.get('私有化三期规划')}`,
        { token: carol.token },
      );
      expect(notVisible.body.error.code).toBe('message_not_found');
    });

    it('finds my groups by name and pinyin beside people', async () => {
      for (const q of ['项目', '协调群', 'xiangmu', 'xmxtq', 'xiangmuxietiao']) {
        const r = await http<OpOutput<'search.directory'>>(
          srv,
          'GET',
          `/api/v1/search/directory?q=${encodeURIComponent(q)}`,
          {
            token: bob.token,
          },
        );
        expect(r.status).toBe(200);
        expect(
          r.body.groups.map((g) => g.name),
          q,
        ).toEqual(['项目协调群']);
      }
      const outsider = await http<OpOutput<'search.directory'>>(srv, 'GET', `/api/v1/search/directory?q=xiangmu`, {
        token: dave.token,
      });
      expect(outsider.body.groups).toEqual([]);
      const people = await http<OpOutput<'search.directory'>>(
        srv,
        'GET',
        `/api/v1/search/directory?q=${alice.username}`,
        {
          token: bob.token,
        },
      );
      expect(people.body.people.map((p) => p.username)).toContain(alice.username);
    });

    it('exports what the viewer may see as JSON, CSV and self-contained HTML', async () => {
      const json = await http<{
        conversation: { name: string };
        messages: { content: { text: string } | null; state: string }[];
      }>(srv, 'GET', `/api/v1/conversations/${g1}/export?format=json`, { token: bob.token });
      expect(json.status).toBe(200);
      expect(json.headers.get('content-disposition')).toContain('attachment');
      expect(json.body.conversation.name).toBe('项目协调群');
      const bodies = json.body.messages.map((m) => m.content?.text ?? m.state);
      expect(bodies).toContain('明天上午十点开会讨论私有化部署方案');
      expect(bodies).toContain('recalled');
      expect(bodies).not.toContain('撤回测试机密文件');
      const csv = await http<string>(srv, 'GET', `/api/v1/conversations/${g1}/export?format=csv`, { token: bob.token });
      expect(csv.headers.get('content-type')).toContain('text/csv');
      expect(csv.body.startsWith('seq,time,sender_id,sender_name,state,text\r\n')).toBe(true);
      // UTF-8 with a byte-order mark, so spreadsheet programs read Chinese (text() strips it: read bytes).
      const raw = await fetch(`${srv.url}/api/v1/conversations/${g1}/export?format=csv`, {
        headers: { authorization: `Bearer ${bob.token}` },
      });
      expect([...new Uint8Array(await raw.arrayBuffer()).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      expect(csv.body).toContain('明天上午十点开会讨论私有化部署方案');
      const html = await http<string>(srv, 'GET', `/api/v1/conversations/${g1}/export?format=html`, {
        token: bob.token,
      });
      expect(html.body).toContain('<title>项目协调群 — Enclave</title>');
      expect(html.body).not.toMatch(/<script|src="http|href="http/);
      // Carol sees only her membership period.
      const carolJson = await http<{ messages: { content: { text: string } | null }[] }>(
        srv,
        'GET',
        `/api/v1/conversations/${g1}/export?format=json`,
        { token: carol.token },
      );
      expect(carolJson.body.messages.map((m) => m.content?.text)).toEqual(['私有化二期启动']);
      const foreign = await http(srv, 'GET', `/api/v1/conversations/${g1}/export?format=json`, { token: dave.token });
      expect(foreign.status).toBe(404);
    });
  });
});
