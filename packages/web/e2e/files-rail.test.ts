import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { group, tmpDataDir } from '../../server/test/files-support.ts';
import {
  http,
  launch,
  makeNamedUser,
  poll,
  row,
  shutdown,
  signedIn,
  startServer,
  type TestServer,
  type TestUser,
  type UserPage,
} from './support.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-e2e-files-rail-'));

const fileCard = (page: Page, name: string) =>
  page.getByTestId('message-list').locator('[data-testid="file-card"]', { hasText: name });
const railItems = (page: Page) => page.getByTestId('files-rail-item');
const railNames = (page: Page) => railItems(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));

/** Choose a file with the composer's file button, as the file dialog would. */
async function choose(page: Page, name: string, text: string) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  await page.getByTestId('file-input').setInputFiles(file);
}

/** The names in a zip's central directory (what an unzip tool lists). */
function zipEntries(zip: Buffer): string[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= 0; i--)
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    names.push(zip.subarray(at + 46, at + 46 + nameLen).toString('utf8'));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

describe('web client: the Files view and folders', () => {
  let srv: TestServer;
  let browser: Browser;
  let a: UserPage;
  let b: UserPage;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    srv = await startServer({ config: { dataDir: tmpDataDir() } });
    browser = await launch();
    [alice, bob] = await Promise.all([makeNamedUser(srv, 'Alice Wang'), makeNamedUser(srv, 'Bob Li')]);
    await group(srv, alice, [bob], 'Design');
    const dm = await http(srv, 'POST', '/api/v1/conversations/direct', {
      token: alice.token,
      body: { userId: bob.id },
    });
    expect(dm.status).toBe(200);
    a = await signedIn(browser, srv, alice);
    b = await signedIn(browser, srv, bob);
  });
  afterAll(async () => {
    await shutdown(browser, srv);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists files from every conversation newest first; search, preview, open in the conversation', async () => {
    await row(a.page, 'Design').click();
    await choose(a.page, '季度报告.txt', '第一季度：收入增长 12%\n');
    await poll(() => a.page.getByTestId('transfer').count(), { timeout: 20_000 }).toBe(0);
    await fileCard(a.page, '季度报告.txt').waitFor({ timeout: 20_000 });
    await row(a.page, 'Bob Li').click();
    await choose(a.page, 'notes.txt', 'meeting notes\n');
    await fileCard(a.page, 'notes.txt').waitFor({ timeout: 20_000 });

    await b.page.getByTestId('tab-files').click();
    await poll(() => railNames(b.page), { timeout: 20_000 }).toEqual(['notes.txt', '季度报告.txt']);
    const report = b.page.locator('[data-testid="files-rail-item"][data-name="季度报告.txt"]');
    expect(await report.textContent()).toContain('Design · Alice Wang');
    expect(await railItems(b.page).first().textContent()).toContain('Alice Wang · Alice Wang');

    await b.page.getByTestId('files-rail-search').fill('报告');
    await poll(() => railNames(b.page)).toEqual(['季度报告.txt']);
    await b.page.getByTestId('files-rail-preview').click();
    await poll(() => b.page.getByTestId('preview-text').textContent()).toContain('第一季度');
    await b.page.keyboard.press('Escape');
    await poll(() => b.page.getByTestId('preview').count()).toBe(0);

    await b.page.getByTestId('files-rail-search').fill('no-such-file');
    await poll(() => b.page.getByTestId('files-rail-empty').textContent()).toBe('No file matches “no-such-file”.');

    // Back to the search hit; "open in conversation" shows the message in its chat.
    await b.page.getByTestId('files-rail-search').fill('季度');
    await poll(() => railNames(b.page)).toEqual(['季度报告.txt']);
    await b.page.getByTestId('files-rail-open').focus();
    await b.page.keyboard.press('Enter');
    await fileCard(b.page, '季度报告.txt').waitFor();
    expect(await b.page.getByTestId('chat-title').textContent()).toContain('Design');
  });

  it('sends a folder: one transfer, the recipient gets the folder and its zip has every file', async () => {
    const top = path.join(dir, '项目资料');
    fs.mkdirSync(path.join(top, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(top, 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(top, 'c.txt'), 'gamma\n');
    fs.writeFileSync(path.join(top, 'sub', '说明.md'), '# 说明\n');

    await row(a.page, 'Design').click();
    // Slow each upload a little, so the transfer can be watched.
    await a.page.route('**/api/v1/uploads/**', async (route) => {
      if (route.request().method() === 'PATCH') await new Promise((r) => setTimeout(r, 300));
      await route.continue();
    });
    await a.page.getByTestId('folder-input').setInputFiles(top);
    // One transfer row for the whole folder, counting its files.
    const folderRow = a.page.locator('[data-testid="transfer"][data-kind="folder"][data-name="项目资料"]');
    await folderRow.waitFor();
    expect(await a.page.getByTestId('transfer').count()).toBe(1);
    expect(await folderRow.getAttribute('data-size')).toBe(String(6 + 6 + Buffer.byteLength('# 说明\n')));
    expect(await folderRow.textContent()).toMatch(/[0-3]\/3 files/);
    const card = b.page.getByTestId('message-list').locator('[data-testid="file-card"][data-kind="folder"]', {
      hasText: '项目资料',
    });
    await b.page.getByTestId('tab-messages').click();
    await row(b.page, 'Design').click();
    await card.waitFor({ timeout: 20_000 });
    await poll(() => card.getByTestId('folder-count').textContent()).toBe('3 files');
    // The sender saw one transfer for the folder, now gone.
    await poll(() => a.page.getByTestId('transfer').count()).toBe(0);
    await a.page.unroute('**/api/v1/uploads/**');

    const [download] = await Promise.all([b.page.waitForEvent('download'), card.getByTestId('file-zip').click()]);
    expect(download.suggestedFilename()).toBe('项目资料.zip');
    const zip = fs.readFileSync(await download.path());
    expect(zipEntries(zip).sort()).toEqual(['项目资料/a.txt', '项目资料/c.txt', '项目资料/sub/说明.md']);

    // The Files view shows the folder too.
    await b.page.getByTestId('tab-files').click();
    await poll(() => railNames(b.page)).toContain('项目资料');
  });

  it('a folder nested deeper than the limit is refused before anything is uploaded', async () => {
    const top = path.join(dir, 'deep');
    const leaf = path.join(top, ...Array.from({ length: 33 }, (_, i) => `d${i}`));
    fs.mkdirSync(leaf, { recursive: true });
    fs.writeFileSync(path.join(leaf, 'x.txt'), 'x');
    await a.page.getByTestId('folder-input').setInputFiles(top);
    const t = a.page.locator('[data-testid="transfer"][data-name="deep"]');
    await poll(() => t.getAttribute('data-state')).toBe('refused');
    expect(await t.getByTestId('transfer-status').textContent()).toBe(
      'Not sent. A folder may be nested at most 32 levels deep.',
    );
    await t.getByTestId('transfer-dismiss').click();
    await poll(() => t.count()).toBe(0);
  });
});
