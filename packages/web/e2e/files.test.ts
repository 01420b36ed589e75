import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page, Route } from 'playwright-core';
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

const MiB = 1024 * 1024;

/** The file message (card or image) whose file is named `name`, in the open conversation. */
const fileCard = (page: Page, name: string) =>
  page.getByTestId('message-list').locator('[data-testid="file-card"]', { hasText: name });
const transfer = (page: Page, name: string) => page.locator(`[data-testid="transfer"][data-name="${name}"]`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-e2e-files-'));

/** Choose a file with the composer's file button, as the file dialog would (from disk: large buffers are slow to pass). */
async function choose(page: Page, name: string, buffer: Buffer) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, buffer);
  await page.getByTestId('file-input').setInputFiles(file);
}

/** Bytes that do not compress or deduplicate by accident. */
function noise(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}

/** A one-page PDF with a filled dark rectangle and no fonts, with a correct cross-reference table. */
function tinyPdf(): Buffer {
  const content = '0.1 0.3 0.8 rg 50 50 200 120 re f';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 220] /Contents 4 0 R /Resources << >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** The smallest .docx the server recognises by its content. */
async function minimalDocx(): Promise<Buffer> {
  const yazl = (await import('yazl')).default;
  const zip = new yazl.ZipFile();
  const parts: [string, string][] = [
    [
      '[Content_Types].xml',
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    ],
    [
      '_rels/.rels',
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ],
    [
      'word/document.xml',
      '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>季度报告</w:t></w:r></w:p></w:body></w:document>',
    ],
  ];
  for (const [name, xml] of parts) zip.addBuffer(Buffer.from(xml), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('web client: files', () => {
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
    await group(srv, alice, [bob], 'Files Team');
    a = await signedIn(browser, srv, alice);
    b = await signedIn(browser, srv, bob);
    await row(a.page, 'Files Team').click();
    await row(b.page, 'Files Team').click();
  });
  afterAll(async () => {
    await shutdown(browser, srv);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a pasted screenshot arrives as an inline thumbnail; clicking opens the original', async () => {
    await a.page.getByTestId('composer-input').focus();
    await a.page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 400;
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#1f6feb';
      g.fillRect(0, 0, 640, 400);
      g.fillStyle = '#ffcc00';
      g.fillRect(100, 100, 300, 150);
      const blob = await new Promise<Blob>((res) => canvas.toBlob((x) => res(x!), 'image/png'));
      const dt = new DataTransfer();
      dt.items.add(new File([blob], 'image.png', { type: 'image/png' }));
      const input = document.querySelector('[data-testid="composer-input"]')!;
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    });

    // Bob sees the server's thumbnail inline, in a box of the image's shape (640×400 → 240×150).
    const img = b.page.getByTestId('message-list').getByTestId('file-image').locator('img');
    await poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth), { timeout: 20_000 }).toBe(
      320,
    );
    expect(await img.getAttribute('src')).toContain('/thumbnail');
    const box = await b.page.getByTestId('message-list').getByTestId('file-image').boundingBox();
    expect([Math.round(box!.width), Math.round(box!.height)]).toEqual([240, 150]);
    // The list shows "[Image]" for it.
    await poll(() => row(a.page, 'Files Team').textContent()).toContain('[Image]');

    // The preview shows the original image, not the thumbnail.
    await b.page.getByTestId('message-list').getByTestId('file-image').click();
    const original = b.page.getByTestId('preview-image');
    await poll(() => original.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(640);
    await b.page.keyboard.press('Escape');
    await poll(() => b.page.getByTestId('preview').count()).toBe(0);
  });

  it('a large upload survives a dropped connection and arrives whole', async () => {
    const size = 24 * MiB;
    let patches = 0;
    let dropped = 0;
    const cut = async (route: Route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      patches++;
      // The second PATCH dies mid-way, as when the network drops; tus asks for the offset and goes on.
      if (patches === 2) {
        dropped++;
        return route.abort('connectionreset');
      }
      return route.continue();
    };
    await a.page.route('**/api/v1/uploads/**', cut);
    await choose(a.page, 'big.bin', noise(size, 7));
    await poll(() => transfer(a.page, 'big.bin').count()).toBe(1);

    const card = fileCard(b.page, 'big.bin');
    await card.waitFor({ timeout: 60_000 });
    expect(dropped).toBe(1);
    expect(patches).toBeGreaterThanOrEqual(6); // 24 MiB in 4 MiB chunks, plus the retried one
    expect(await card.getByTestId('file-size').textContent()).toBe('24.0 MB');
    await poll(() => transfer(a.page, 'big.bin').count()).toBe(0);
    await a.page.unroute('**/api/v1/uploads/**', cut);

    // Bob downloads it: every byte is there.
    const [download] = await Promise.all([b.page.waitForEvent('download'), card.getByTestId('file-download').click()]);
    expect(download.suggestedFilename()).toBe('big.bin');
    expect(fs.statSync(await download.path()).size).toBe(size);
  });

  it('pause stops the upload; resume continues from where it stopped', async () => {
    const size = 20 * MiB;
    // A slow line: each PATCH waits before it goes out.
    const slow = async (route: Route) => {
      if (route.request().method() === 'PATCH') await new Promise((r) => setTimeout(r, 700));
      await route.continue().catch(() => undefined); // a paused upload aborted this request
    };
    await a.page.route('**/api/v1/uploads/**', slow);
    await choose(a.page, 'pause.bin', noise(size, 11));
    const t = transfer(a.page, 'pause.bin');
    const sent = async () => Number((await t.getAttribute('data-sent')) ?? 0);
    await poll(sent, { timeout: 20_000 }).toBeGreaterThanOrEqual(8 * MiB);

    await t.getByTestId('transfer-pause').click();
    await poll(() => t.getAttribute('data-state')).toBe('paused');
    const stoppedAt = await sent();
    expect(stoppedAt).toBeGreaterThan(0);
    expect(await t.getByTestId('transfer-status').textContent()).toMatch(/^Paused · \d+%$/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await sent()).toBe(stoppedAt);
    expect(await t.getAttribute('data-state')).toBe('paused');

    // Watch every progress value after resuming: none goes below where it stopped.
    await t.evaluate((el) => {
      const seen: number[] = [];
      (window as unknown as { seen: number[] }).seen = seen;
      new MutationObserver(() => seen.push(Number(el.getAttribute('data-sent')))).observe(el, {
        attributes: true,
        attributeFilter: ['data-sent'],
      });
    });
    await t.getByTestId('transfer-resume').click();
    await fileCard(b.page, 'pause.bin').waitFor({ timeout: 60_000 });
    const seen = await a.page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(stoppedAt);
    await a.page.unroute('**/api/v1/uploads/**', slow);
  });

  it('a file the policy refuses shows the rule before uploading, and nothing is sent', async () => {
    const set = await http(srv, 'PATCH', '/api/v1/admin/file-policy', {
      token: srv.adminToken,
      body: { maxBytes: MiB },
    });
    expect(set.status).toBe(200);
    try {
      const uploads: string[] = [];
      const watch = (r: { url(): string }) => r.url().includes('/api/v1/uploads') && uploads.push(r.url());
      a.page.on('request', watch);
      const before = await b.page.getByTestId('message-list').getByTestId('message').count();
      await choose(a.page, 'too-big.bin', noise(2 * MiB, 3));
      const t = transfer(a.page, 'too-big.bin');
      await poll(() => t.getAttribute('data-state')).toBe('refused');
      expect(await t.getByTestId('transfer-status').textContent()).toBe(
        'Not sent. Refused by the file policy: files may be at most 1.00 MB.',
      );
      await new Promise((r) => setTimeout(r, 500));
      a.page.off('request', watch);
      expect(uploads).toEqual([]);
      expect(await b.page.getByTestId('message-list').getByTestId('message').count()).toBe(before);
      expect(await fileCard(b.page, 'too-big.bin').count()).toBe(0);
      await t.getByTestId('transfer-dismiss').click();
      await poll(() => t.count()).toBe(0);
    } finally {
      await http(srv, 'PATCH', '/api/v1/admin/file-policy', {
        token: srv.adminToken,
        body: { maxBytes: 2 * 1024 * MiB },
      });
    }
  });

  it('the group file space lists what was sent; search by name finds it', async () => {
    await b.page.getByTestId('files-toggle').click();
    const list = b.page.getByTestId('group-file');
    await poll(() => list.count()).toBe(3);
    const names = async () => list.evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    // Newest first.
    expect((await names()).slice(0, 2)).toEqual(['pause.bin', 'big.bin']);
    await b.page.getByTestId('group-files-sort').selectOption('size');
    await poll(names).toEqual(['big.bin', 'pause.bin', expect.stringMatching(/^screenshot-.*\.png$/)]);
    await b.page.getByTestId('group-files-search').fill('pause');
    await poll(names).toEqual(['pause.bin']);
    await b.page.getByTestId('group-files-search').fill('nothing-like-this');
    await poll(() => b.page.getByTestId('group-files-empty').textContent()).toBe(
      'No file matches “nothing-like-this”.',
    );
    // Bob is a member, not an admin: no delete.
    expect(await b.page.getByTestId('group-file-delete').count()).toBe(0);
    await b.page.keyboard.press('Escape');
    await poll(() => b.page.getByTestId('group-files').count()).toBe(0);
  });

  it('a PDF previews page by page with the bundled pdf.js', async () => {
    await choose(a.page, 'plan.pdf', tinyPdf());
    const card = fileCard(b.page, 'plan.pdf');
    await card.waitFor({ timeout: 20_000 });
    await card.getByTestId('file-preview').click();
    const canvas = b.page.getByTestId('pdf-canvas');
    await poll(() => canvas.getAttribute('data-rendered'), { timeout: 20_000 }).toBe('1');
    expect(await b.page.getByTestId('pdf-page').textContent()).toBe('Page 1 of 1');
    // Something was drawn: the blue rectangle's pixels are on the canvas.
    const blue = await canvas.evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 2]! > 150 && d[i]! < 80) n++;
      return n;
    });
    expect(blue).toBeGreaterThan(1000);
    await b.page.keyboard.press('Escape');
  });

  it('an Office document on a server without a converter says so, and can still be downloaded', async () => {
    const files = srv.app.deps.config.files;
    const soffice = files.soffice;
    files.soffice = null;
    try {
      await choose(a.page, '季度报告.docx', await minimalDocx());
      const card = fileCard(b.page, '季度报告.docx');
      await card.waitFor({ timeout: 20_000 });
      expect(await card.locator('.file-icon').textContent()).toBe('DOCX');
      await card.getByTestId('file-preview').click();
      await poll(() => b.page.getByTestId('preview-unavailable').textContent()).toBe(
        'The server has no document converter installed, so Office documents cannot be previewed here. Download the file to open it.',
      );
      expect(await b.page.getByTestId('preview-download').getAttribute('href')).toMatch(/\/content$/);
      await b.page.keyboard.press('Escape');
    } finally {
      files.soffice = soffice;
    }
  });

  it('forwards a received file to another conversation without uploading it again', async () => {
    await group(srv, bob, [alice], 'Second Team');
    await row(b.page, 'Second Team').waitFor();
    const uploads: string[] = [];
    const watch = (r: { url(): string }) => r.url().includes('/api/v1/uploads') && uploads.push(r.url());
    b.page.on('request', watch);
    const m = b.page.getByTestId('message-list').locator('[data-testid="message"]', { hasText: 'plan.pdf' });
    await m.hover();
    await m.getByTestId('msg-menu').click();
    await m.getByTestId('forward').click();
    await b.page.locator('[data-testid="forward-target"][data-name="Second Team"]').click();
    await b.page.getByTestId('forward-send').click();
    await poll(() => b.page.getByTestId('forward-dialog').count()).toBe(0);
    b.page.off('request', watch);
    expect(uploads).toEqual([]);
    await poll(() => row(b.page, 'Second Team').textContent()).toContain('[File] plan.pdf');
    await poll(() => row(a.page, 'Second Team').textContent()).toContain('Bob Li: [File] plan.pdf');
  });

  it('an upload interrupted by a page reload continues from where it stopped when the file is chosen again', async () => {
    const size = 16 * MiB;
    const offsets: number[] = [];
    const slow = async (route: Route) => {
      if (route.request().method() === 'PATCH') {
        offsets.push(Number(route.request().headers()['upload-offset']));
        await new Promise((r) => setTimeout(r, 700));
      }
      await route.continue().catch(() => undefined); // the reload cut this request
    };
    await a.page.route('**/api/v1/uploads/**', slow);
    await choose(a.page, 'reload.bin', noise(size, 13));
    const t = transfer(a.page, 'reload.bin');
    await poll(async () => Number((await t.getAttribute('data-sent')) ?? 0), {
      timeout: 20_000,
    }).toBeGreaterThanOrEqual(8 * MiB);

    await a.page.reload();
    await row(a.page, 'Files Team').click();
    await poll(() => t.getAttribute('data-state')).toBe('interrupted');
    expect(await t.getByTestId('transfer-status').textContent()).toContain('Choose the same file to continue');
    const before = offsets.length;
    const [chooser] = await Promise.all([a.page.waitForEvent('filechooser'), t.getByTestId('transfer-choose').click()]);
    await chooser.setFiles(path.join(dir, 'reload.bin'));
    await fileCard(b.page, 'reload.bin').waitFor({ timeout: 60_000 });
    // The first PATCH after the reload started where the server had stopped, not at 0.
    expect(offsets[before]).toBeGreaterThanOrEqual(4 * MiB);
    expect(await fileCard(b.page, 'reload.bin').getByTestId('file-size').textContent()).toBe('16.0 MB');
    await a.page.unroute('**/api/v1/uploads/**', slow);
  });
});
