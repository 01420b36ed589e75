/**
 * End-to-end support: the real server (test harness, temp SQLite, port 0) serving the built client,
 * and Debian's Chromium driven by playwright-core (it never downloads a browser).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { http, makeUser, startServer, type TestServer, type TestUser } from '../../server/test/harness.ts';

export { http, makeUser, startServer, type TestServer, type TestUser };

const here = path.dirname(fileURLToPath(import.meta.url));
export const webDist = process.env.ENCLAVE_WEB_DIST ?? path.resolve(here, '..', 'dist');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Fail loudly when the client was not built (`npm test` builds it first). */
export function assertBuilt(): void {
  if (!fs.existsSync(path.join(webDist, 'index.html')))
    throw new Error('packages/web/dist is missing: run `npm run build:web` (npm test does this first)');
}

export async function launch(): Promise<Browser> {
  assertBuilt();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export interface UserPage {
  context: BrowserContext;
  page: Page;
  user: TestUser;
}

/** A fresh browser profile for one person, signed in through the login form. */
export async function signedIn(
  browser: Browser,
  srv: TestServer,
  user: TestUser,
  opts: { locale?: string; viewport?: { width: number; height: number } } = {},
): Promise<UserPage> {
  const context = await browser.newContext({
    locale: opts.locale ?? 'en-US',
    viewport: opts.viewport ?? { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto(srv.url + '/');
  await page.locator('input[name="username"]').fill(user.username);
  await page.locator('input[name="password"]').fill(user.password);
  await page.locator('button[type="submit"]').click();
  await page.getByTestId('tab-messages').waitFor();
  return { context, page, user };
}

/** Create a user with a display name (Chinese works) through the admin API. */
export async function makeNamedUser(srv: TestServer, displayName: string): Promise<TestUser> {
  const u = await makeUser(srv);
  const r = await http(srv, 'PATCH', `/api/v1/admin/users/${u.id}/profile`, {
    token: srv.adminToken,
    body: { displayName },
  });
  if (r.status !== 200) throw new Error(`rename ${u.username}: ${JSON.stringify(r.body)}`);
  return u;
}

/** Open (or create) the 1:1 conversation with `peer` from the contacts search, as a user would. */
export async function openDirectFromContacts(page: Page, peerName: string, query: string): Promise<void> {
  await page.getByTestId('tab-contacts').click();
  await page.getByTestId('org-search').fill(query);
  await page.locator(`[data-testid="person"][data-name="${peerName}"]`).click();
  await page.getByTestId('send-message').click();
  await page.getByTestId('composer-input').waitFor();
}

export async function send(page: Page, text: string): Promise<void> {
  const input = page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/** The conversation row in the list with this name. */
export function row(page: Page, name: string) {
  return page.locator(`[data-testid="conv-row"][data-name="${name}"]`);
}

export function messages(page: Page) {
  return page.getByTestId('message-list').getByTestId('bubble');
}

/** The text of the newest message bubble, trimmed. */
export async function lastText(page: Page): Promise<string> {
  return ((await messages(page).last().textContent()) ?? '').trim();
}

/** expect.poll with a timeout that tolerates a busy CI machine (vitest's default is 1 s). */
export function poll<T>(fn: () => T | Promise<T>, opts: { timeout?: number; interval?: number } = {}) {
  return expect.poll(fn, { timeout: 10_000, interval: 100, ...opts });
}

/** Close the browser and the server, never hanging the suite on a slow shutdown of a busy machine. */
export async function shutdown(browser: Browser | undefined, srv: TestServer | undefined): Promise<void> {
  const within = async (what: string, p: Promise<unknown> | undefined, ms: number) => {
    if (!p) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        console.warn(`e2e: ${what} did not finish in ${ms} ms; going on`);
        resolve();
      }, ms);
    });
    await Promise.race([p.catch(() => undefined), late]);
    clearTimeout(timer);
  };
  await within('closing the browser', browser?.close(), 15_000);
  await within('closing the server', srv?.close(), 30_000);
}
