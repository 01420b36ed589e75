/**
 * Screenshots of the main screens for the README (docs/screenshots/), from the real client against
 * a seeded server:  node --import tsx packages/web/e2e/screenshots.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { http, launch, makeNamedUser, row, send, signedIn, startServer, type TestServer } from './support.ts';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots');
fs.mkdirSync(out, { recursive: true });

async function post<T>(srv: TestServer, p: string, token: string, body: unknown, method = 'POST'): Promise<T> {
  const r = await http<T>(srv, method, p, { token, body });
  if (r.status !== 200) throw new Error(`${p}: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function shot(page: Page, name: string) {
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(out, `${name}.png`) });
  console.log(`docs/screenshots/${name}.png`);
}

const srv = await startServer();
const browser = await launch();
try {
  const admin = srv.adminToken;
  const hq = await post<{ id: string }>(srv, '/api/v1/admin/departments', admin, { name: '星河科技' });
  const rd = await post<{ id: string }>(srv, '/api/v1/admin/departments', admin, { name: '研发中心', parentId: hq.id });
  const pm = await post<{ id: string }>(srv, '/api/v1/admin/departments', admin, { name: '产品部', parentId: hq.id });
  await post(srv, '/api/v1/admin/departments', admin, { name: '市场部', parentId: hq.id });
  const people = [
    ['王芳', rd.id, '技术总监', '139 1000 2001'],
    ['李明', rd.id, '后端工程师', '139 1000 2002'],
    ['张伟', pm.id, '产品经理', '139 1000 2003'],
    ['陈静', pm.id, '设计师', '139 1000 2004'],
  ] as const;
  const users = [];
  for (const [name, dept, title, phone] of people) {
    const u = await makeNamedUser(srv, name);
    await post(
      srv,
      `/api/v1/admin/users/${u.id}/profile`,
      admin,
      { phone, email: `${u.username}@xinghe.example` },
      'PATCH',
    );
    await post(srv, `/api/v1/admin/users/${u.id}/posts`, admin, {
      posts: [{ departmentId: dept, title, primary: true }],
    });
    users.push(u);
  }
  const [wang, li, zhang, chen] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0], (typeof users)[0]];
  await post(srv, `/api/v1/admin/users/${li.id}/posts`, admin, {
    posts: [
      { departmentId: rd.id, title: '后端工程师', primary: true },
      { departmentId: pm.id, title: '技术顾问', primary: false },
    ],
  });

  const group = await post<{ id: string }>(srv, '/api/v1/groups', wang.token, {
    name: '凤凰项目组',
    memberIds: [li.id, zhang.id, chen.id],
  });
  await post(
    srv,
    `/api/v1/groups/${group.id}`,
    wang.token,
    { announcement: '本周五 15:00 版本评审，请提前准备材料。' },
    'PATCH',
  );
  const say = (u: { token: string }, conv: string, text: string, extra: object = {}) =>
    post<{ seq: number }>(srv, `/api/v1/conversations/${conv}/messages`, u.token, {
      clientMsgId: `s-${Math.random().toString(36).slice(2)}`,
      content: { text, format: 'markdown' },
      ...extra,
    });
  await say(zhang, group.id, '大家好，新版本的需求文档已经更新 👍');
  const q = await say(
    li,
    group.id,
    '接口已经联调完成，核心逻辑如下：\n```ts\nexport async function send(msg: Message) {\n  const ack = await client.send(msg);\n  return ack.seq;\n}\n```',
  );
  await say(chen, group.id, '设计稿也更新了，**重点**看一下消息列表的样式', { replyToSeq: q.seq });
  await post(srv, `/api/v1/conversations/${group.id}/messages/${q.seq}/reactions`, zhang.token, {
    clientOpId: 'r1',
    emoji: '👍',
    on: true,
  });
  await say(wang, group.id, '请 @李明 确认一下上线时间', { mentions: [li.id] });
  await say(wang, group.id, '版本评审材料（请签收后查看）', { signoff: true });
  const dm = await post<{ id: string }>(srv, '/api/v1/conversations/direct', zhang.token, { userId: li.id });
  await say(zhang, dm.id, '李明，下午有空聊一下排期吗？');

  // 李明 in Chinese, desktop.
  const l = await signedIn(browser, srv, li, { locale: 'zh-CN' });
  await shot(l.page, '0-conversations-zh');
  await row(l.page, '凤凰项目组').click();
  await l.page.getByTestId('message-list').getByTestId('bubble').first().waitFor();
  await shot(l.page, '1-group-chat-zh');
  await l.page.getByTestId('details-toggle').click();
  await shot(l.page, '2-group-details-zh');
  await l.page.getByTestId('tab-contacts').click();
  await l.page.locator('[data-testid="dept"][data-name="星河科技"]').click();
  await l.page.locator('[data-testid="dept"][data-name="研发中心"]').click();
  await l.page.locator('[data-testid="person"][data-name="王芳"]').click();
  await l.page.getByTestId('contact-card').waitFor();
  await shot(l.page, '3-organisation-zh');

  // 张伟 in English, dark theme.
  const z = await signedIn(browser, srv, zhang, { locale: 'en-US' });
  await z.page.getByTestId('tab-settings').click();
  await z.page.getByTestId('theme-dark').click();
  await shot(z.page, '4-settings-dark-en');
  await z.page.getByTestId('tab-messages').click();
  await row(z.page, '凤凰项目组').click();
  await send(z.page, 'Looks good — shipping on Friday 🚀');
  await shot(z.page, '5-group-chat-dark-en');

  // 陈静 on a phone.
  const c = await signedIn(browser, srv, chen, { locale: 'zh-CN', viewport: { width: 390, height: 780 } });
  await shot(c.page, '6-mobile-list-zh');
  await row(c.page, '凤凰项目组').click();
  await c.page.getByTestId('message-list').getByTestId('bubble').first().waitFor();
  await shot(c.page, '7-mobile-chat-zh');

  // The sign-in page.
  const anon = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
  const p = await anon.newPage();
  await p.goto(srv.url + '/');
  await p.locator('input[name="username"]').fill('liming');
  await p.locator('input[name="password"]').fill('wrong-password');
  await p.locator('button[type="submit"]').click();
  await p.getByTestId('login-error').waitFor();
  await shot(p, '8-login-zh');
} finally {
  await browser.close();
  await srv.close();
}
