/**
 * People search through the API: names, pinyin (full, initials, any prefix, every reading of
 * polyphonic characters, surname readings), phone digits, employee numbers, usernames, department
 * names and the department filter; disabled people never appear. Contacts: favourites, follows and
 * recent contacts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Department, Person } from '@enclave/protocol';
import { clientId, http, makeUser, startServer, text, type TestServer, type TestUser } from './harness.ts';

let srv: TestServer;
let viewer: TestUser;
const people = new Map<string, TestUser>();

async function person(name: string, extra: Record<string, string> = {}): Promise<TestUser> {
  const u = await makeUser(srv);
  const r = await http(srv, 'PATCH', `/api/v1/admin/users/${u.id}/profile`, {
    token: srv.adminToken,
    body: { displayName: name, ...extra },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  people.set(name, u);
  return u;
}

async function search(q: string, extra = ''): Promise<string[]> {
  const r = await http<{ items: Person[] }>(srv, 'GET', `/api/v1/people/search?q=${encodeURIComponent(q)}${extra}`, {
    token: viewer.token,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.items.map((p) => p.displayName);
}

beforeAll(async () => {
  srv = await startServer();
  viewer = await makeUser(srv, 'searcher');
  await person('张三', { phone: '138-0013-8000', employeeNo: 'E20240001' });
  await person('张三丰');
  await person('章散');
  await person('单雄信');
  await person('曾国藩');
  await person('解缙');
  await person('区志明');
  await person('仇英');
  await person('欧阳修');
  await person('吕布');
  await person('Alice Wang', { employeeNo: 'HR-77' });
});
afterAll(async () => {
  await srv.close();
});

describe('people search', () => {
  it('finds 张三 by name, pinyin, initials and any prefix of them', async () => {
    for (const q of ['张三', '张', 'zs', 'zhangsan', 'zhangs', 'zhang san', 'ZhangSan', 'ZHANG', 'zhang']) {
      expect(await search(q), q).toContain('张三');
    }
    // Exact before prefix: 'zhangsan' is 张三 exactly and 张三丰 by prefix.
    const ranked = await search('zhangsan');
    expect(ranked.indexOf('张三')).toBeLessThan(ranked.indexOf('张三丰'));
    expect((await search('zs'))[0]).toBe('张三');
    // 章散 is also zhang san: same pinyin, found too.
    expect(await search('zhangsan')).toContain('章散');
  });

  it('yields every reading of polyphonic characters, surnames included', async () => {
    for (const [q, name] of [
      ['shan', '单雄信'],
      ['dan', '单雄信'],
      ['shanxiongxin', '单雄信'],
      ['sxx', '单雄信'],
      ['dxx', '单雄信'],
      ['zeng', '曾国藩'],
      ['ceng', '曾国藩'],
      ['zgf', '曾国藩'],
      ['xiejin', '解缙'],
      ['jiejin', '解缙'],
      ['ou', '区志明'],
      ['quzhiming', '区志明'],
      ['qiuying', '仇英'],
      ['chouying', '仇英'],
      ['ouyangxiu', '欧阳修'],
      ['oyx', '欧阳修'],
      ['lvbu', '吕布'],
      ['lubu', '吕布'],
    ]) {
      expect(await search(q!), q).toContain(name);
    }
  });

  it('finds by phone digits, employee number, username and Latin names', async () => {
    expect(await search('13800138000')).toEqual(['张三']);
    expect(await search('0013')).toContain('张三');
    expect(await search('138 0013')).toContain('张三');
    expect(await search('E20240001')).toEqual(['张三']);
    expect(await search('e2024')).toContain('张三');
    expect(await search('hr-77')).toEqual(['Alice Wang']);
    expect(await search('alice')).toEqual(['Alice Wang']);
    expect(await search('alicewang')).toEqual(['Alice Wang']);
    expect(await search('searcher')).toEqual(['searcher']);
    expect(await search('没有这个人')).toEqual([]);
  });

  it('filters by department subtree and finds people by department name', async () => {
    const mk = async (name: string, parentId: string | null) =>
      (
        await http<Department>(srv, 'POST', '/api/v1/admin/departments', {
          token: srv.adminToken,
          body: { name, parentId },
        })
      ).body;
    const hq = await mk('总部', null);
    const rd = await mk('研发中心', hq.id);
    const posts = (u: TestUser, departmentId: string) =>
      http(srv, 'POST', `/api/v1/admin/users/${u.id}/posts`, {
        token: srv.adminToken,
        body: { posts: [{ departmentId, title: '工程师' }] },
      });
    await posts(people.get('张三')!, rd.id);
    await posts(people.get('单雄信')!, hq.id);
    expect(await search('zhang', `&departmentId=${hq.id}`)).toEqual(['张三']);
    expect(await search('zhang', `&departmentId=${rd.id}`)).toEqual(['张三']);
    expect(await search('s', `&departmentId=${rd.id}`)).toEqual(['张三']);
    expect((await search('s', `&departmentId=${hq.id}`)).sort()).toEqual(['单雄信', '张三'].sort());
    expect(await search('研发中心')).toEqual(['张三']);
    // A rename re-keys the people in it.
    await http(srv, 'PATCH', `/api/v1/admin/departments/${rd.id}`, {
      token: srv.adminToken,
      body: { name: '技术部' },
    });
    expect(await search('研发中心')).toEqual([]);
    expect(await search('技术部')).toEqual(['张三']);
  });

  it('hides disabled people at once, and shows them again when enabled', async () => {
    const u = await person('禁用者');
    expect(await search('jinyongzhe')).toEqual(['禁用者']);
    const off = await http(srv, 'POST', `/api/v1/admin/users/${u.id}/disabled`, {
      token: srv.adminToken,
      body: { disabled: true },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(await search('jinyongzhe')).toEqual([]);
    expect(await search('禁用')).toEqual([]);
    await http(srv, 'POST', `/api/v1/admin/users/${u.id}/disabled`, {
      token: srv.adminToken,
      body: { disabled: false },
    });
    // Re-enabled users return with the next sweep of changed users (every 2 s).
    await expect.poll(() => search('jinyongzhe'), { timeout: 5_000, interval: 250 }).toEqual(['禁用者']);
  });

  it('finds users created a moment ago', async () => {
    await person('新同事');
    expect(await search('xts')).toContain('新同事');
  });
});

describe('contacts', () => {
  it('keeps favourites and follows idempotently, and lists recent contacts newest first', async () => {
    const me = await makeUser(srv);
    const [a, b] = [people.get('曾国藩')!, people.get('解缙')!];
    for (let i = 0; i < 2; i++)
      for (const t of [a, b]) {
        const r = await http(srv, 'POST', `/api/v1/me/favourites/${t.id}`, { token: me.token, body: { on: true } });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
      }
    const favs = await http<{ items: Person[] }>(srv, 'GET', '/api/v1/me/favourites', { token: me.token });
    expect(favs.body.items.map((p) => p.displayName)).toEqual(['曾国藩', '解缙']);
    await http(srv, 'POST', `/api/v1/me/favourites/${a.id}`, { token: me.token, body: { on: false } });
    await http(srv, 'POST', `/api/v1/me/favourites/${a.id}`, { token: me.token, body: { on: false } });
    const after = await http<{ items: Person[] }>(srv, 'GET', '/api/v1/me/favourites', { token: me.token });
    expect(after.body.items.map((p) => p.displayName)).toEqual(['解缙']);

    await http(srv, 'POST', `/api/v1/me/follows/${a.id}`, { token: me.token, body: { on: true } });
    await http(srv, 'POST', `/api/v1/me/follows/${a.id}`, { token: me.token, body: { on: true } });
    const following = await http<{ items: Person[] }>(srv, 'GET', '/api/v1/me/follows', { token: me.token });
    expect(following.body.items.map((p) => p.displayName)).toEqual(['曾国藩']);
    const self = await http<{ error: { code: string } }>(srv, 'POST', `/api/v1/me/follows/${me.id}`, {
      token: me.token,
      body: { on: true },
    });
    expect(self.body.error.code).toBe('validation_failed');

    // Recent: direct conversations by last activity.
    const talk = async (t: TestUser) => {
      const c = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
        token: me.token,
        body: { userId: t.id },
      });
      expect(c.status, JSON.stringify(c.body)).toBe(200);
      const m = await http(srv, 'POST', `/api/v1/conversations/${c.body.id}/messages`, {
        token: me.token,
        body: { clientMsgId: clientId(), content: text('你好') },
      });
      expect(m.status, JSON.stringify(m.body)).toBe(200);
    };
    await talk(a);
    await new Promise((r) => setTimeout(r, 5));
    await talk(b);
    const recent = await http<{ items: Person[] }>(srv, 'GET', '/api/v1/me/recent-contacts', { token: me.token });
    expect(recent.body.items.map((p) => p.displayName)).toEqual(['解缙', '曾国藩']);
    await new Promise((r) => setTimeout(r, 5));
    await talk(a);
    const again = await http<{ items: Person[] }>(srv, 'GET', '/api/v1/me/recent-contacts?limit=1', {
      token: me.token,
    });
    expect(again.body.items.map((p) => p.displayName)).toEqual(['曾国藩']);
  });
});
