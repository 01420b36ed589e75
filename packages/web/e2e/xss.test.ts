import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { http, launch, makeNamedUser, row, signedIn, startServer, type TestServer, poll, shutdown } from './support.ts';

/** Each payload calls window.__xss(tag) if anything in it ever runs. */
const payloads: { text: string; format?: 'plain' }[] = [
  { text: `<script>window.__xss('script')</script>` },
  { text: `[click me](javascript:window.__xss('md-link'))` },
  { text: `<a href="javascript:window.__xss('html-link')">html link</a>` },
  { text: `<svg onload="window.__xss('svg')"><circle r="10"/></svg>` },
  { text: `<img src=x onerror="window.__xss('img')">` },
  { text: `<iframe src="javascript:window.__xss('iframe')"></iframe>` },
  { text: `<details open ontoggle="window.__xss('toggle')"><summary>x</summary></details>` },
  { text: `<math><mtext><table><mglyph><style><img src=x onerror="window.__xss('mxss')">` },
  { text: '```html\n<script>window.__xss("code")</script>\n```' },
  {
    text: `![tracker](http://198.51.100.7/pixel.png) and [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
  },
  { text: `<javascript:window.__xss('autolink')>` },
  { text: `**bold** <b onmouseover="window.__xss('hover')">hover me</b>`, format: 'plain' },
];

describe('web client: message content cannot run code in the real browser', () => {
  let srv: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    srv = await startServer();
    browser = await launch();
  });
  afterAll(() => shutdown(browser, srv));

  it('renders script tags, javascript: links, SVG/IMG handlers and HTML in Markdown inertly', async () => {
    const mallory = await makeNamedUser(srv, 'Mallory');
    const victim = await makeNamedUser(srv, 'Victor');
    const conv = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
      token: mallory.token,
      body: { userId: victim.id },
    });
    for (const [i, p] of payloads.entries()) {
      const r = await http(srv, 'POST', `/api/v1/conversations/${conv.body.id}/messages`, {
        token: mallory.token,
        body: { clientMsgId: `xss-${i}`, content: { text: p.text, format: p.format ?? 'markdown' } },
      });
      expect(r.status).toBe(200);
    }

    const v = await signedIn(browser, srv, victim);
    const fired: string[] = [];
    const external: string[] = [];
    const dialogs: string[] = [];
    await v.page.exposeFunction('__xssReport', (tag: string) => fired.push(tag));
    await v.page.evaluate(() => {
      (window as unknown as { __xss: (t: string) => void }).__xss = (t) =>
        (window as unknown as { __xssReport: (t: string) => void }).__xssReport(t);
    });
    v.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    v.page.on('request', (r) => {
      if (!r.url().startsWith(srv.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:'))
        external.push(r.url());
    });
    const violations: string[] = [];
    await v.page.exposeFunction('__cspReport', (d: string) => violations.push(d));
    await v.page.evaluate(() =>
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { __cspReport: (d: string) => void }).__cspReport(e.violatedDirective),
      ),
    );

    // The detector works: a deliberate call is seen.
    await v.page.evaluate(() => (window as unknown as { __xss: (t: string) => void }).__xss('control'));
    await poll(() => fired).toEqual(['control']);
    fired.length = 0;

    await row(v.page, 'Mallory').click();
    const list = v.page.getByTestId('message-list');
    await poll(() => list.getByTestId('bubble').count()).toBe(payloads.length);

    // Nothing executable made it into the DOM.
    const dom = await list.evaluate((el) => ({
      scripts: el.querySelectorAll('script, iframe, object, embed, svg .msg-text, img, style, math').length,
      handlers: [...el.querySelectorAll('.msg-text *')].filter((n) =>
        [...n.attributes].some((a) => a.name.startsWith('on')),
      ).length,
      badLinks: [...el.querySelectorAll('.msg-text a')].filter((a) => {
        const href = a.getAttribute('href');
        return href !== null && !/^(https?:|mailto:)/i.test(href);
      }).length,
    }));
    expect(dom).toEqual({ scripts: 0, handlers: 0, badLinks: 0 });

    // Payloads show as text where they were text.
    expect(await list.textContent()).toContain('<script>window.__xss("code")</script>');

    // Click every link and hover every bubble: still nothing runs, nothing leaves the network.
    for (const a of await list.locator('.msg-text a').all())
      await a.click({ modifiers: ['Control'] }).catch(() => undefined);
    for (const b of await list.getByTestId('bubble').all()) await b.hover();
    await v.page.waitForTimeout(300);
    expect(fired).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(external).toEqual([]);
    expect(violations).toEqual([]);
    await v.context.close();
  });
});
