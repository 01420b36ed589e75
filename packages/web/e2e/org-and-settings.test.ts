import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  http,
  launch,
  makeNamedUser,
  row,
  send,
  signedIn,
  startServer,
  type TestServer,
  poll,
  shutdown,
} from './support.ts';

async function department(srv: TestServer, name: string, parentId: string | null = null): Promise<string> {
  const r = await http<{ id: string }>(srv, 'POST', '/api/v1/admin/departments', {
    token: srv.adminToken,
    body: { name, parentId },
  });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return r.body.id;
}

async function posts(
  srv: TestServer,
  userId: string,
  list: { departmentId: string; title: string; primary: boolean }[],
) {
  const r = await http(srv, 'POST', `/api/v1/admin/users/${userId}/posts`, {
    token: srv.adminToken,
    body: { posts: list },
  });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
}

describe('web client: organisation, presence, language, theme, phone layout', () => {
  let srv: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    srv = await startServer();
    browser = await launch();
  });
  afterAll(() => shutdown(browser, srv));

  it('browses the tree with headcounts, finds people by pinyin, shows the card, favourites and live presence', async () => {
    const hq = await department(srv, '总部');
    const rd = await department(srv, '研发部', hq);
    const mk = await department(srv, '市场部', hq);
    const zhang = await makeNamedUser(srv, '张三');
    const li = await makeNamedUser(srv, '李四');
    await http(srv, 'PATCH', `/api/v1/admin/users/${zhang.id}/profile`, {
      token: srv.adminToken,
      body: { phone: '138 0000 1234', email: 'zhangsan@example.cn' },
    });
    await posts(srv, zhang.id, [
      { departmentId: rd, title: '工程师', primary: true },
      { departmentId: mk, title: '顾问', primary: false },
    ]);
    await posts(srv, li.id, [{ departmentId: rd, title: '经理', primary: true }]);

    // 李四 uses the client in Chinese (the browser's language); 张三 is online in another browser.
    const l = await signedIn(browser, srv, li, { locale: 'zh-CN' });
    const z = await signedIn(browser, srv, zhang, { locale: 'zh-CN' });
    await l.page.getByTestId('tab-contacts').click();
    const hqRow = l.page.locator('[data-testid="dept"][data-name="总部"]');
    await poll(() => hqRow.getByTestId('headcount').textContent()).toBe('(在线 2 / 共 2)');
    await hqRow.click();
    await l.page.locator('[data-testid="dept"][data-name="市场部"]').click();
    await poll(() => l.page.getByTestId('people-list').textContent()).toContain('张三');

    // Pinyin initials find 张三; the card lists both posts, phone and email.
    await l.page.getByTestId('org-search').fill('zs');
    await l.page.locator('[data-testid="person"][data-name="张三"]').click();
    const card = l.page.getByTestId('contact-card');
    await poll(() => card.textContent()).toContain('研发部 · 工程师');
    expect(await card.textContent()).toContain('市场部 · 顾问');
    expect(await card.textContent()).toContain('138 0000 1234');
    await poll(() => card.getByTestId('card-presence').textContent()).toBe('在线');

    // 张三 sets busy: 李四 sees it live on the card.
    await z.page.getByTestId('tab-settings').click();
    await z.page.getByTestId('status-busy').click();
    await poll(() => card.getByTestId('card-presence').textContent()).toBe('忙碌');

    // Favourite, then the favourites list has 张三.
    await card.getByTestId('favourite').click();
    await l.page.getByTestId('org-search').fill('');
    await poll(() => l.page.getByTestId('people-list').textContent()).toContain('张三');

    // From the card to a chat.
    await l.page.locator('[data-testid="person"][data-name="张三"]').click();
    await l.page.getByTestId('send-message').click();
    await poll(() => l.page.getByTestId('chat-title').textContent()).toBe('张三');
    await send(l.page, '你好，张三');
    await z.page.getByTestId('tab-messages').click();
    await poll(() => row(z.page, '李四').getByTestId('unread-badge').textContent()).toBe('1');

    // Language switch: every label follows; the choice survives a reload.
    await l.page.getByTestId('tab-settings').click();
    await l.page.getByRole('combobox', { name: '语言' }).selectOption('en');
    await poll(() => l.page.getByTestId('tab-messages').getAttribute('aria-label')).toBe('Messages');
    await l.page.reload();
    await poll(() => l.page.getByTestId('tab-contacts').getAttribute('aria-label')).toBe('Contacts');

    // Dark theme.
    await l.page.getByTestId('tab-settings').click();
    await l.page.getByTestId('theme-dark').click();
    await poll(() => l.page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await Promise.all([l.context.close(), z.context.close()]);
  });

  it('on a phone shows one pane at a time: list → chat → back', async () => {
    const ann = await makeNamedUser(srv, 'Ann Mobile');
    const ben = await makeNamedUser(srv, 'Ben Desk');
    const b = await signedIn(browser, srv, ben);
    await b.page.getByTestId('tab-contacts').click();
    await b.page.getByTestId('org-search').fill('Ann');
    await b.page.locator('[data-testid="person"][data-name="Ann Mobile"]').click();
    await b.page.getByTestId('send-message').click();
    await send(b.page, 'Ping from the desk');

    const a = await signedIn(browser, srv, ann, { viewport: { width: 390, height: 844 } });
    const railBox = await a.page.locator('nav.rail').boundingBox();
    expect(railBox!.y).toBeGreaterThan(700); // a bottom tab bar
    await row(a.page, 'Ben Desk').click();
    await poll(() => a.page.getByTestId('chat-title').textContent()).toBe('Ben Desk');
    expect(await a.page.locator('[data-testid="conv-row"]').count()).toBe(0); // the list is gone
    await a.page.getByTestId('back').click();
    await poll(() => row(a.page, 'Ben Desk').count()).toBe(1);
    expect(await a.page.getByTestId('chat-pane').count()).toBe(0);
    await Promise.all([a.context.close(), b.context.close()]);
  });
});
