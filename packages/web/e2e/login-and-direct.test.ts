import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  http,
  lastText,
  launch,
  makeNamedUser,
  messages,
  openDirectFromContacts,
  row,
  send,
  signedIn,
  startServer,
  type TestServer,
  poll,
  shutdown,
} from './support.ts';

describe('web client: sign-in and 1:1 chat in the real browser', () => {
  let srv: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    srv = await startServer();
    browser = await launch();
  });
  afterAll(() => shutdown(browser, srv));

  it('is served at / with a strict CSP, long-cached hashed assets and an SPA fallback', async () => {
    const index = await fetch(srv.url + '/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeTruthy();
    const js = await fetch(srv.url + asset!);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const deep = await fetch(srv.url + '/some/client/route');
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    const api = await fetch(srv.url + '/api/v1/nope');
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const traversal = await fetch(srv.url + '/..%2f..%2f..%2f..%2fetc%2fpasswd');
    expect(traversal.status).toBe(404);
    expect(await traversal.text()).not.toContain('root:');
    expect((await fetch(srv.url + '/missing.js')).status).toBe(404);
  });

  it('says what went wrong at sign-in: wrong password, lockout, server unreachable', async () => {
    const user = await makeNamedUser(srv, 'Lockout Liu');
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(srv.url + '/');
    await page.locator('input[name="username"]').fill(user.username);
    await page.locator('input[name="password"]').fill('wrong-password');
    await page.locator('button[type="submit"]').click();
    await poll(() => page.getByTestId('login-error').textContent()).toBe('Wrong username or password.');

    // Past the free attempts the account is throttled; the form says when to try again.
    for (let i = 0; i < 7; i++)
      await http(srv, 'POST', '/api/v1/auth/login', { body: { username: user.username, password: 'nope-nope' } });
    await page.locator('button[type="submit"]').click();
    await poll(() => page.getByTestId('login-error').textContent()).toMatch(
      /Too many failed attempts\. Try again in \d+ s\./,
    );

    // The network fails: the form says the server cannot be reached.
    await page.route('**/api/v1/auth/login', (r) => r.abort('connectionrefused'));
    await page.locator('button[type="submit"]').click();
    await poll(() => page.getByTestId('login-error').textContent()).toContain('Cannot reach the server');
    await context.close();
  });

  it('two people chat 1:1: unread badge, live delivery, read receipt, reply both ways, stays signed in', async () => {
    const alice = await makeNamedUser(srv, '王小明');
    const bob = await makeNamedUser(srv, 'Bob Chen');
    const a = await signedIn(browser, srv, alice);
    const b = await signedIn(browser, srv, bob);

    await openDirectFromContacts(a.page, 'Bob Chen', 'Bob');
    await send(a.page, 'Hello **Bob**, the report is ready');
    await poll(() => messages(a.page).last().textContent()).toContain('Hello Bob, the report is ready');
    await poll(() => a.page.getByTestId('msg-status').last().textContent()).toBe('Unread');

    // Bob sees the conversation appear with an unread badge, and the total in the rail and title.
    await poll(() => row(b.page, '王小明').getByTestId('unread-badge').textContent()).toBe('1');
    await poll(() => b.page.getByTestId('total-unread').textContent()).toBe('1');
    await poll(() => b.page.title()).toBe('(1) Enclave');
    await row(b.page, '王小明').click();
    await poll(() => messages(b.page).last().innerHTML()).toContain('<strong>Bob</strong>');
    await poll(() => row(b.page, '王小明').getByTestId('unread-badge').count()).toBe(0);
    await poll(() => b.page.title()).toBe('Enclave');

    // Alice sees it read; Bob answers and Alice receives it live.
    await poll(() => a.page.getByTestId('msg-status').last().textContent()).toBe('Read');
    await send(b.page, '收到，谢谢！');
    await poll(() => lastText(a.page)).toBe('收到，谢谢！');

    // A reload keeps the session (cookie) and the history.
    await b.page.reload();
    await row(b.page, '王小明').click();
    await poll(() => messages(b.page).count()).toBe(2);
    await a.context.close();
    await b.context.close();
  });
});
