/**
 * Web client benchmark: how long opening a conversation takes until its latest messages are on
 * screen, on a warm server, in headless Chromium; and what a 10,000-message conversation costs when
 * scrolled back through.
 *
 *   node --import tsx packages/web/e2e/bench-open.ts [opens=40]
 *
 * The time is the client's own performance measure `enclave:open-conversation`: from the click on
 * the conversation row to the first animation frame after the history list laid out its newest rows.
 */
import { ops } from '@enclave/protocol';
import { authenticate } from '../../server/src/domain/accounts/authenticate.ts';
import { sendMessage } from '../../server/src/domain/messages/send-message.ts';
import { clientId, text, type TestServer } from '../../server/test/harness.ts';
import { http, launch, makeNamedUser, row, signedIn, startServer } from './support.ts';

const OPENS = Number(process.argv[2] ?? 40);
const BIG = 10_000;
const SMALL_CONVERSATIONS = 8;

/** Seed through the domain function the gateway calls (the socket's rate limit would make this take minutes). */
async function seed(srv: TestServer, token: string, conversationId: string, count: number, label: string) {
  const viewer = await authenticate(srv.app.deps, token);
  const batch = 500;
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    await Promise.all(
      Array.from({ length: n }, (_, k) =>
        sendMessage(
          srv.app.deps,
          viewer,
          ops['message.send'].input.parse({
            conversationId,
            clientMsgId: clientId('b'),
            content: text(`${label} #${i + k + 1}: 这是一条用于测量的消息 with some **markdown** and \`code\``),
          }),
        ),
      ),
    );
  }
}

const srv = await startServer();
const browser = await launch();
try {
  const viewer = await makeNamedUser(srv, '读者');
  const peers = await Promise.all(
    Array.from({ length: SMALL_CONVERSATIONS + 1 }, (_, i) => makeNamedUser(srv, `同事${i + 1}`)),
  );
  const started = Date.now();
  for (const [i, p] of peers.entries()) {
    const conv = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
      token: p.token,
      body: { userId: viewer.id },
    });
    await seed(srv, p.token, conv.body.id, i === 0 ? BIG : 200, `同事${i + 1}`);
  }
  console.log(`seeded ${BIG} + ${SMALL_CONVERSATIONS}×200 messages in ${Date.now() - started} ms`);

  const v = await signedIn(browser, srv, viewer, { locale: 'zh-CN' });
  const page = v.page;
  const names = peers.map((_, i) => `同事${i + 1}`);
  await row(page, names[0]!).waitFor();
  const times: number[] = [];
  for (let i = 0; i < OPENS; i++) {
    const name = names[i % names.length]!;
    await page.evaluate(() => performance.clearMeasures('enclave:open-conversation'));
    await row(page, name).click();
    await page.waitForFunction(() => performance.getEntriesByName('enclave:open-conversation').length > 0);
    const ms = await page.evaluate(() => performance.getEntriesByName('enclave:open-conversation')[0]!.duration);
    if (i >= names.length) times.push(ms); // the first round warms the client's caches of each conversation
  }
  console.log(`in order: ${times.map((t) => t.toFixed(0)).join(' ')}`);
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  console.log(
    `open conversation → latest page painted: n=${times.length} median ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms`,
  );

  // Cold: a fresh profile opening the 10,000-message conversation for the first time.
  const cold = await signedIn(browser, srv, viewer, { locale: 'zh-CN' });
  await row(cold.page, names[0]!).click();
  await cold.page.waitForFunction(() => performance.getEntriesByName('enclave:open-conversation').length > 0);
  const coldMs = await cold.page.evaluate(() => performance.getEntriesByName('enclave:open-conversation')[0]!.duration);
  console.log(`first open of the ${BIG}-message conversation in a fresh tab: ${coldMs.toFixed(1)} ms`);

  // Scroll back through 2,000 messages: pages load on scroll, the DOM stays small.
  const list = cold.page.getByTestId('message-list');
  const scrollStart = Date.now();
  let frames = 0;
  for (let i = 0; i < 200; i++) {
    await list.evaluate((el) => el.scrollBy(0, -1500));
    await cold.page.waitForTimeout(16);
    frames++;
    const loaded = await cold.page.evaluate(() => document.querySelectorAll('[data-testid="message"]').length);
    if (loaded > 120) throw new Error(`virtualisation broke: ${loaded} rows in the DOM`);
  }
  const rows = await cold.page.evaluate(() => document.querySelectorAll('[data-testid="message"]').length);
  const oldest = await list.evaluate((el) => el.querySelector('[data-seq]')?.getAttribute('data-seq'));
  console.log(
    `scrolled back ${frames} steps in ${Date.now() - scrollStart} ms; oldest rendered seq ${oldest}; ${rows} message rows in the DOM`,
  );
} finally {
  await browser.close();
  await srv.close();
}
