import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  launch,
  makeNamedUser,
  messages,
  row,
  send,
  signedIn,
  startServer,
  type TestServer,
  poll,
  shutdown,
} from './support.ts';

/** The message whose bubble contains `text`. */
const msg = (page: Page, text: string) =>
  page.getByTestId('message-list').locator('[data-testid="message"]', { hasText: text });

async function menu(page: Page, text: string, item: string) {
  const m = msg(page, text).last();
  await m.hover();
  await m.getByTestId('msg-menu').click();
  await m.getByRole('menuitem', { name: item, exact: true }).click();
}

describe('web client: group chat between three people', () => {
  let srv: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    srv = await startServer();
    browser = await launch();
  });
  afterAll(() => shutdown(browser, srv));

  it('mentions, receipts, replies, reactions, edit, recall, sign-off, typing, offline and failed sends', async () => {
    const [alice, bob, carol] = await Promise.all([
      makeNamedUser(srv, 'Alice Wang'),
      makeNamedUser(srv, 'Bob Li'),
      makeNamedUser(srv, 'Carol Zhao'),
    ]);
    const a = await signedIn(browser, srv, alice);
    const b = await signedIn(browser, srv, bob);
    const c = await signedIn(browser, srv, carol);

    // Alice creates the group from people found by search.
    await a.page.getByRole('button', { name: 'New group' }).click();
    await a.page.getByTestId('group-name').fill('Project Phoenix');
    for (const q of ['Bob Li', 'Carol Zhao']) {
      await a.page.getByTestId('people-search').fill(q);
      await a.page.locator('.pick-list label', { hasText: q }).getByRole('checkbox').check();
    }
    await a.page.getByTestId('picker-submit').click();
    await poll(() => a.page.getByTestId('chat-title').textContent()).toBe('Project Phoenix');

    // @mention autocomplete: type @Bo, pick with Enter.
    const input = a.page.getByTestId('composer-input');
    await input.pressSequentially('Please review @Bo');
    await poll(() => a.page.getByTestId('mention-list').textContent()).toContain('Bob Li');
    await input.press('Enter');
    await poll(() => input.inputValue()).toBe('Please review @Bob Li ');
    await input.press('Enter');
    await poll(() => row(b.page, 'Project Phoenix').textContent()).toContain('[Mentioned you]');
    await poll(() => row(b.page, 'Project Phoenix').getByTestId('unread-badge').textContent()).toBe('1');

    // Group receipts: 2 unread → 1 unread (Bob read) → all read (Carol read).
    const status = () => msg(a.page, 'Please review').getByTestId('msg-status').textContent();
    await poll(status).toBe('2 unread');
    await row(b.page, 'Project Phoenix').click();
    await poll(status).toBe('1 unread');
    await row(c.page, 'Project Phoenix').click();
    await poll(status).toBe('All read');

    // Typing indicator.
    await b.page.getByTestId('composer-input').pressSequentially('Su');
    await poll(() => a.page.getByTestId('typing').textContent()).toBe('Bob Li is typing…');
    await b.page.getByTestId('composer-input').fill('');

    // Reply with a quote, and a reaction.
    await menu(b.page, 'Please review', 'Reply');
    await send(b.page, 'On it');
    await poll(() => msg(a.page, 'On it').getByTestId('quote').textContent()).toContain('Please review');
    await menu(c.page, 'Please review', 'React 👍');
    await poll(() => msg(a.page, 'Please review').getByTestId('reaction').textContent()).toBe('👍 1');

    // Edit the last message with the Up key; everyone sees the new text marked edited.
    await send(a.page, 'Meeting at 3pm');
    await poll(() => msg(b.page, 'Meeting at 3pm').count()).toBe(1);
    await a.page.getByTestId('composer-input').press('ArrowUp');
    await poll(() => a.page.getByTestId('composer-input').inputValue()).toBe('Meeting at 3pm');
    await a.page.getByTestId('composer-input').fill('Meeting at 4pm');
    await a.page.getByTestId('composer-input').press('Enter');
    await poll(() => msg(b.page, 'Meeting at 4pm').textContent()).toContain('(edited)');

    // Recall: the message turns into a tombstone on every screen.
    await send(a.page, 'Oops wrong group');
    await poll(() => msg(b.page, 'Oops wrong group').count()).toBe(1);
    await menu(a.page, 'Oops wrong group', 'Recall');
    await poll(() => msg(b.page, 'Oops wrong group').count()).toBe(0);
    await poll(() => b.page.getByTestId('recalled').last().textContent()).toBe('Alice Wang recalled a message');
    await poll(() => a.page.getByTestId('recalled').last().textContent()).toContain('You recalled a message');

    // Sign-off: recipients see a card until they sign; the sender sees who signed.
    await a.page.getByTestId('signoff-toggle').click();
    await send(a.page, 'Quarterly numbers: 42');
    await poll(() => b.page.getByTestId('signoff-card').count()).toBe(1);
    expect(await b.page.getByTestId('message-list').textContent()).not.toContain('Quarterly numbers');
    await b.page.getByTestId('sign').click();
    await poll(() => msg(b.page, 'Quarterly numbers: 42').count()).toBe(1);
    await poll(() => a.page.getByTestId('signoff-status').last().textContent(), { timeout: 10_000 }).toContain(
      'Signed 1/2',
    );

    // The file button opens the browser's file chooser, for several files at once (files.test.ts sends them).
    const [chooser] = await Promise.all([
      a.page.waitForEvent('filechooser'),
      a.page.getByTestId('file-button').click(),
    ]);
    expect(chooser.isMultiple()).toBe(true);

    // Offline: the message waits as pending and goes out after reconnecting.
    await c.context.setOffline(true);
    await poll(() => c.page.getByTestId('connection-banner').count(), { timeout: 20_000 }).toBe(1);
    await send(c.page, 'Sent while offline');
    await poll(() => c.page.getByTestId('pending').getAttribute('data-state')).toBe('pending');
    await c.context.setOffline(false);
    await poll(() => msg(a.page, 'Sent while offline').count(), { timeout: 30_000 }).toBe(1);
    await poll(() => c.page.getByTestId('pending').count()).toBe(0);

    // A refused send (muted) fails visibly; Retry sends it once allowed again.
    await a.page.getByTestId('details-toggle').click();
    const bobRow = a.page.getByTestId('member').filter({ hasText: 'Bob Li' });
    await bobRow.locator('summary').click();
    await bobRow.getByRole('button', { name: 'Mute', exact: true }).click();
    await poll(() => bobRow.textContent()).toContain('muted');
    await send(b.page, 'Can I speak?');
    await poll(() => b.page.getByTestId('pending').getAttribute('data-state')).toBe('failed');
    await bobRow.locator('summary').click();
    await bobRow.getByRole('button', { name: 'Unmute', exact: true }).click();
    await poll(() => bobRow.textContent()).not.toContain('muted');
    await b.page.getByTestId('retry').click();
    await poll(() => msg(a.page, 'Can I speak?').count()).toBe(1);
    expect(await messages(b.page).filter({ hasText: 'Can I speak?' }).count()).toBe(1);
    await Promise.all([a.context.close(), b.context.close(), c.context.close()]);
  });
});
