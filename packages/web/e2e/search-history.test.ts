import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import type { OpOutput } from '@enclave/protocol';
import { clientId } from '../../server/test/harness.ts';
import { tmpDataDir, upload } from '../../server/test/files-support.ts';
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
} from './support.ts';

/*
 * Search and history in the web client: the list pane's search (people by pinyin, messages with
 * highlighted matches), jumping to a message far back, the history manager (tabs, search inside one
 * conversation, calendar jump) and export. History is seeded through the API under a controlled
 * clock, at noon UTC so every time zone sees the same calendar days.
 */

const MIN = 60_000;
const noon = (date: string) => Date.parse(`${date}T12:00:00Z`);
const MEETING = '明天下午三点开会议，请准时参加';
const FIRST_OF_DAY = '三月三日的第一条消息';

/** The message (bubble and all) whose text contains `text`, in the open conversation. */
const msg = (page: Page, text: string) =>
  page.getByTestId('message-list').locator('[data-testid="message"]', { hasText: text });

/** Whether most of `target` lies inside the visible part of the message list. */
async function inView(page: Page, target: Locator): Promise<boolean> {
  const box = await target.boundingBox();
  const list = await page.getByTestId('message-list').boundingBox();
  if (!box || !list) return false;
  const middle = box.y + box.height / 2;
  return middle >= list.y && middle <= list.y + list.height;
}

describe('web client: search and history', () => {
  let srv: TestServer;
  let browser: Browser;
  /** The server's clock: a fixed time while seeding history, the real time otherwise. */
  let clock: number | null = null;
  let wang: TestUser, li: TestUser;
  let group: string;

  async function say(u: TestUser, conv: string, at: number | null, text: string) {
    clock = at;
    const r = await http<OpOutput<'message.send'>>(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
      token: u.token,
      body: { clientMsgId: clientId(), content: { text, format: 'plain' } },
    });
    if (r.status !== 200) throw new Error(`send: ${JSON.stringify(r.body)}`);
  }

  beforeAll(async () => {
    srv = await startServer({ now: () => clock ?? Date.now(), config: { dataDir: tmpDataDir() } });
    browser = await launch();
    let zhang: TestUser;
    [wang, li, zhang] = await Promise.all([
      makeNamedUser(srv, '王芳'),
      makeNamedUser(srv, '李明'),
      makeNamedUser(srv, '张伟'),
    ]);
    clock = noon('2025-03-01');
    const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
      token: wang.token,
      body: { name: '项目协调群', memberIds: [li.id, zhang.id] },
    });
    group = g.body.id;
    await say(wang, group, noon('2025-03-03'), FIRST_OF_DAY);
    for (let i = 1; i <= 5; i++) await say(i % 2 ? li : wang, group, noon('2025-03-03') + i * MIN, `三月三日 第${i}条`);
    await say(wang, group, noon('2025-03-10'), MEETING);
    await say(li, group, noon('2025-03-17'), '设计文档在 https://intranet.example/design 请查阅');
    clock = noon('2025-03-17') + MIN;
    const fileId = await upload(srv, wang, 'meeting-notes.txt', Buffer.from('Agenda: budget, schedule\n'));
    const sent = await http(srv, 'POST', `/api/v1/files/${fileId}/send`, {
      token: wang.token,
      body: { conversationIds: [group], clientMsgId: clientId('f') },
    });
    if (sent.status !== 200) throw new Error(`file.send: ${JSON.stringify(sent.body)}`);
    // Enough newer messages that the meeting is far outside the latest page.
    for (let i = 1; i <= 70; i++) await say(i % 2 ? li : wang, group, noon('2025-03-24') + i * MIN, `进度同步 #${i}`);
    // A direct chat that also talks about meetings.
    clock = null;
    const direct = await http<OpOutput<'conversation.openDirect'>>(srv, 'POST', '/api/v1/conversations/direct', {
      token: li.token,
      body: { userId: zhang.id },
    });
    if (direct.status !== 200) throw new Error(`openDirect: ${JSON.stringify(direct.body)}`);
    await say(zhang, direct.body.id, null, '会议室已订好');
    await say(wang, group, null, '最新消息：周报已发');
  }, 120_000);
  afterAll(() => shutdown(browser, srv));

  it('finds messages and people from the list pane and jumps to a message far back', async () => {
    const { page } = await signedIn(browser, srv, li, { locale: 'zh-CN' });
    await row(page, '项目协调群').waitFor();
    const search = page.getByTestId('list-search');

    // Two Chinese characters: both conversations' hits, the match highlighted.
    await search.fill('会议');
    const hits = page.getByTestId('search-message');
    await poll(() => hits.count()).toBe(2);
    const meeting = hits.filter({ hasText: '请准时参加' });
    await poll(() => meeting.locator('mark').allTextContents()).toEqual(['会议']);
    await poll(() => meeting.textContent()).toContain('王芳: ');
    await poll(() => hits.filter({ hasText: '会议室已订好' }).locator('mark').allTextContents()).toEqual(['会议']);

    // Clicking opens the group at that message, scrolled into view and highlighted.
    await meeting.click();
    await poll(() => page.getByTestId('chat-title').textContent()).toBe('项目协调群');
    const target = msg(page, MEETING);
    await target.waitFor();
    await poll(() => inView(page, target)).toBe(true);
    await poll(() => page.locator('.row-wrap[data-jumped="true"]').textContent()).toContain(MEETING);
    // Reading on from there: the messages before it are loaded around it.
    await poll(() => msg(page, '三月三日 第5条').count()).toBe(1);
    // Far from the latest messages, one click goes back to them.
    await page.getByRole('button', { name: '回到最新消息' }).click();
    await poll(() => msg(page, '最新消息：周报已发').count()).toBe(1);
    await poll(() => inView(page, msg(page, '最新消息：周报已发'))).toBe(true);
    // Jump again, then read on downwards: newer pages load until they meet the latest messages.
    await search.fill('请准时参加');
    await poll(() => hits.count()).toBe(1);
    await hits.first().click();
    await poll(() => page.locator('.row-wrap[data-jumped="true"]').textContent()).toContain(MEETING);
    const list = page.getByTestId('message-list');
    await poll(
      async () => {
        await list.evaluate((el) => el.scrollBy(0, 600));
        return page.getByRole('button', { name: '回到最新消息' }).count();
      },
      { timeout: 20_000, interval: 200 },
    ).toBe(0);
    await list.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await poll(() => msg(page, '最新消息：周报已发').count()).toBe(1);
    expect(await page.locator('.timeline-gap').count()).toBe(0);

    // Chats already in the list that match by name come first while searching, and open directly.
    await search.fill('协调');
    const chat = page.getByTestId('search-chats').locator('.conv-row', { hasText: '项目协调群' });
    await chat.waitFor();
    await chat.click();
    await poll(() => page.getByTestId('chat-title').textContent()).toBe('项目协调群');

    // People by pinyin initials; a person opens the direct chat.
    await search.fill('zw');
    const person = page.locator('[data-testid="search-person"][data-name="张伟"]');
    await person.waitFor();
    await person.click();
    await poll(() => page.getByTestId('chat-title').textContent()).toBe('张伟');
  });

  it('history manager: tabs, search inside the conversation, calendar jump and export', async () => {
    const { page } = await signedIn(browser, srv, li, { locale: 'zh-CN' });
    await row(page, '项目协调群').click();
    await page.getByTestId('history-toggle').click();
    const items = page.getByTestId('history-item');
    // All: newest first.
    await poll(() => items.first().textContent()).toContain('最新消息：周报已发');

    await page.getByTestId('history-tab-files').click();
    await poll(() => items.allTextContents()).toEqual([expect.stringContaining('meeting-notes.txt')]);
    await page.getByTestId('history-tab-links').click();
    await poll(() => items.allTextContents()).toEqual([expect.stringContaining('https://intranet.example/design')]);

    // Searching inside this conversation finds its meeting, not the one in the direct chat.
    await page.getByTestId('history-tab-all').click();
    await page.getByTestId('history-search').fill('会议');
    await poll(() => items.allTextContents()).toEqual([expect.stringContaining(MEETING)]);
    expect(await items.first().textContent()).toContain('王芳');
    await poll(() => items.first().locator('mark').allTextContents()).toEqual(['会议']);
    await items.first().click();
    await poll(() => page.locator('.row-wrap[data-jumped="true"]').textContent()).toContain(MEETING);

    // Calendar: the first message of a past day comes into view.
    await page.getByTestId('history-date').fill('2025-03-03');
    const first = msg(page, FIRST_OF_DAY);
    await first.waitFor();
    await poll(() => inView(page, first)).toBe(true);
    await poll(() => page.locator('.row-wrap[data-jumped="true"]').textContent()).toContain(FIRST_OF_DAY);
    // A day after the last message says so.
    await page.getByTestId('history-date').fill('2099-01-01');
    await poll(() => page.getByTestId('history-note').textContent()).toContain('2099-01-01');

    // Export as HTML downloads the conversation as this reader sees it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-html').click()]);
    expect(download.suggestedFilename()).toMatch(/\.html$/);
    const html = fs.readFileSync((await download.path())!, 'utf8');
    expect(html).toContain(MEETING);
    expect(html).toContain('最新消息：周报已发');
  });
});
