import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_ID_HEADER, type OpOutput } from '@enclave/protocol';
import { http, makeUser, startServer, type TestServer, type TestUser } from './harness.ts';
import { loadFilesConfig } from '../src/domain/files/files-config.ts';
import { purgeUploads } from '../src/jobs/purge-files.ts';
import { createUpload, download, fakeExe, patch, patchAndCut, png, tmpDataDir, tus, upload } from './files-support.ts';

const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string; details?: { rule?: string } } }).error;

describe('uploads (tus), policy, ranges and previews', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    // LibreOffice is looked up on this machine's PATH, as the server does at start.
    const files = loadFilesConfig({ PATH: process.env.PATH });
    srv = await startServer({ config: { dataDir: tmpDataDir(), files } });
    [alice, bob] = await Promise.all([makeUser(srv), makeUser(srv)]);
  });
  afterAll(async () => srv?.close());

  it('resumes after the connection dies mid-upload, from the offset the server has', async () => {
    const bytes = crypto.randomBytes(3 * 1024 * 1024 + 17);
    const c = await createUpload(srv, alice.token, bytes.length, { filename: 'video.bin' });
    expect(c.status).toBe(201);
    await patchAndCut(srv, alice.token, c.location, 0, bytes, 1024 * 1024 + 5);
    const head = await tus(srv, alice.token, 'HEAD', c.location);
    expect(head.status).toBe(200);
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(bytes.length);
    expect(head.headers.get('upload-length')).toBe(String(bytes.length));
    // Nothing of the half upload is a file yet.
    expect(
      await srv.app.deps.store.db
        .selectFrom('files')
        .select('id')
        .where('upload_id', '=', c.location.split('/').pop()!)
        .execute(),
    ).toEqual([]);

    const done = await patch(srv, alice.token, c.location, offset, bytes.subarray(offset));
    expect(done.status).toBe(204);
    const fileId = done.headers.get(FILE_ID_HEADER)!;
    expect(fileId).toMatch(/^[0-9a-f-]{36}$/);
    const got = await download(srv, alice.token, `/api/v1/files/${fileId}/content`);
    expect(crypto.createHash('sha256').update(got.bytes).digest('hex')).toBe(
      crypto.createHash('sha256').update(bytes).digest('hex'),
    );
    // A client that lost the last response asks again and learns the file id.
    const again = await tus(srv, alice.token, 'HEAD', c.location);
    expect(again.status).toBe(200);
    expect(again.headers.get('upload-offset')).toBe(String(bytes.length));
    expect(again.headers.get(FILE_ID_HEADER)).toBe(fileId);
  });

  it('refuses wrong offsets, unknown and foreign upload ids, and anonymous uploads', async () => {
    const c = await createUpload(srv, alice.token, 100, { filename: 'x.txt' });
    expect((await patch(srv, alice.token, c.location, 50, Buffer.alloc(10, 'a'))).status).toBe(409);
    expect((await patch(srv, alice.token, '/api/v1/uploads/' + 'f'.repeat(32), 0, Buffer.from('a'))).status).toBe(404);
    expect((await patch(srv, alice.token, '/api/v1/uploads/..%2F..%2Fetc%2Fpasswd', 0, Buffer.from('a'))).status).toBe(
      404,
    );
    expect((await tus(srv, alice.token, 'HEAD', '/api/v1/uploads/not-an-id')).status).toBe(404);
    // Bob cannot see, write or cancel Alice's upload.
    expect((await tus(srv, bob.token, 'HEAD', c.location)).status).toBe(404);
    expect((await patch(srv, bob.token, c.location, 0, Buffer.alloc(100, 'b'))).status).toBe(404);
    expect((await tus(srv, bob.token, 'DELETE', c.location)).status).toBe(404);
    expect((await createUpload(srv, null, 10, { filename: 'a.txt' })).status).toBe(401);
    expect((await tus(srv, null, 'HEAD', c.location)).status).toBe(401);
  });

  it('accepts the session cookie from this origin and refuses it from another', async () => {
    const host = new URL(srv.url).host;
    const cookie = { cookie: `enclave_session=${alice.token}`, 'Upload-Length': '3' };
    const meta = { 'Upload-Metadata': `filename ${Buffer.from('c.txt').toString('base64')}` };
    const own = await tus(srv, null, 'POST', '/api/v1/uploads', { ...cookie, ...meta, origin: `http://${host}` });
    expect(own.status).toBe(201);
    const loc = new URL(own.headers.get('location')!, srv.url).pathname;
    const p = await tus(
      srv,
      null,
      'PATCH',
      loc,
      { cookie: cookie.cookie, origin: `http://${host}`, 'Upload-Offset': '0' },
      Buffer.from('abc'),
    );
    expect(p.status).toBe(204);
    const id = p.headers.get(FILE_ID_HEADER)!;
    const got = await download(srv, null, `/api/v1/files/${id}/content`, { cookie: cookie.cookie });
    expect(got.bytes.toString()).toBe('abc');
    const foreign = await tus(srv, null, 'POST', '/api/v1/uploads', {
      ...cookie,
      ...meta,
      origin: 'http://evil.example',
    });
    expect(foreign.status).toBe(403);
    expect(errorOf(foreign.body).code).toBe('origin_not_allowed');
  });

  it('a truncated upload never becomes a file', async () => {
    const c = await createUpload(srv, alice.token, 1000, { filename: 'half.txt' });
    const p = await patch(srv, alice.token, c.location, 0, Buffer.alloc(400, 'h'));
    expect(p.status).toBe(204);
    expect(p.headers.get('upload-offset')).toBe('400');
    expect(p.headers.get(FILE_ID_HEADER)).toBeNull();
    // More bytes than declared are refused.
    const over = await patch(srv, alice.token, c.location, 400, Buffer.alloc(700, 'h'));
    expect(over.status).toBeGreaterThanOrEqual(400);
    const rows = await srv.app.deps.store.db
      .selectFrom('files')
      .select('name')
      .where('name', '=', 'half.txt')
      .execute();
    expect(rows).toEqual([]);
    // Abandoned: the retention job removes it once its last byte is older than the expiry.
    expect(await purgeUploads(srv.app.deps)).toBe(0);
    const files = srv.app.deps.config.files;
    const expiry = files.uploadExpiryMs;
    files.uploadExpiryMs = -1000;
    try {
      expect(await purgeUploads(srv.app.deps)).toBeGreaterThanOrEqual(1);
    } finally {
      files.uploadExpiryMs = expiry;
    }
    expect((await tus(srv, alice.token, 'HEAD', c.location)).status).toBe(404);
  });

  it('refuses names with path traversal or control characters, and bad folder paths', async () => {
    for (const filename of ['../../etc/passwd', 'a/b.txt', '..', 'a\\b.txt', 'bell\u0007.txt', '', 'x'.repeat(300)]) {
      const c = await createUpload(srv, alice.token, 10, { filename });
      expect(c.status, filename).toBe(400);
      expect(errorOf(c.body).code).toBe('file_name_invalid');
    }
    const folder = await http<{ id: string }>(srv, 'POST', '/api/v1/folders', {
      token: alice.token,
      body: { name: 'f' },
    });
    for (const path of ['../x.txt', '/abs.txt', 'a//b.txt', 'a/./b.txt']) {
      const c = await createUpload(srv, alice.token, 10, { filename: 'x.txt', folderId: folder.body.id, path });
      expect(c.status, path).toBe(400);
    }
    // Someone else's folder is not found.
    const c = await createUpload(srv, bob.token, 1, { filename: 'x.txt', folderId: folder.body.id, path: 'x.txt' });
    expect((await patch(srv, bob.token, c.location, 0, Buffer.from('x'))).status).toBe(404);
  });

  it('enforces the admin policy: size up front, types by sniffed content not by name', async () => {
    const set = await http<OpOutput<'admin.filePolicy.set'>>(srv, 'PATCH', '/api/v1/admin/file-policy', {
      token: srv.adminToken,
      body: { maxBytes: 5000, blockedTypes: ['application/x-msdownload', 'text/html', 'image/svg+xml'] },
    });
    expect(set.status).toBe(200);
    expect(
      (await http(srv, 'PATCH', '/api/v1/admin/file-policy', { token: alice.token, body: { maxBytes: 1 } })).status,
    ).toBe(403);
    try {
      const big = await createUpload(srv, alice.token, 5001, { filename: 'big.bin' });
      expect(big.status).toBe(413);
      expect(errorOf(big.body)).toMatchObject({ code: 'file_too_large', details: { rule: 'maxBytes' } });
      const check = await http<{ error: { code: string } }>(srv, 'POST', '/api/v1/files/check', {
        token: alice.token,
        body: { name: 'a.exe', size: 10, type: 'application/x-msdownload' },
      });
      expect(check.status).toBe(415);
      expect(check.body.error.code).toBe('file_type_not_allowed');

      // Disguised by extension: an executable and an HTML page named .png.
      for (const [name, bytes] of [
        ['holiday.png', fakeExe()],
        ['cat.png', Buffer.from('<!doctype html><html><script>alert(1)</script></html>')],
        [
          'logo.png',
          Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'),
        ],
      ] as const) {
        const c = await createUpload(srv, alice.token, bytes.length, { filename: name, filetype: 'image/png' });
        expect(c.status).toBe(201);
        const p = await patch(srv, alice.token, c.location, 0, bytes);
        expect(p.status, name).toBe(415);
        expect(errorOf(p.body)).toMatchObject({ code: 'file_type_not_allowed', details: { rule: 'blockedTypes' } });
        expect((await tus(srv, alice.token, 'HEAD', c.location)).status).toBe(404);
      }
      expect(
        await srv.app.deps.store.db
          .selectFrom('files')
          .select('id')
          .where('name', 'in', ['holiday.png', 'cat.png', 'logo.png'])
          .execute(),
      ).toEqual([]);
      // A real PNG still passes.
      await upload(srv, alice, 'real.png', await png(10, 10));
    } finally {
      await http(srv, 'PATCH', '/api/v1/admin/file-policy', {
        token: srv.adminToken,
        body: { maxBytes: 2 * 1024 ** 3, blockedTypes: [], allowedTypes: [] },
      });
    }
  });

  it('HTML and SVG are served as attachments, never inline; images and PDFs may be inline', async () => {
    const html = await upload(
      srv,
      alice,
      'page.png',
      Buffer.from('<html><body><script>alert(1)</script></body></html>'),
    );
    const r = await download(srv, alice.token, `/api/v1/files/${html}/content?disposition=inline`);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('content-security-policy')).toContain('sandbox');
    const img = await upload(srv, alice, 'p.png', await png(30, 20, 9));
    const i = await download(srv, alice.token, `/api/v1/files/${img}/content?disposition=inline`);
    expect(i.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(i.headers.get('content-type')).toBe('image/png');
  });

  it('serves byte ranges so downloads resume', async () => {
    const bytes = crypto.randomBytes(100_000);
    const id = await upload(srv, alice, 'data.bin', bytes);
    const url = `/api/v1/files/${id}/content`;
    const a = await download(srv, alice.token, url, { range: 'bytes=0-9999' });
    expect(a.status).toBe(206);
    expect(a.headers.get('content-range')).toBe(`bytes 0-9999/${bytes.length}`);
    expect(a.bytes.equals(bytes.subarray(0, 10_000))).toBe(true);
    const b = await download(srv, alice.token, url, { range: 'bytes=10000-' });
    expect(Buffer.concat([a.bytes, b.bytes]).equals(bytes)).toBe(true);
    const tail = await download(srv, alice.token, url, { range: 'bytes=-10' });
    expect(tail.bytes.equals(bytes.subarray(-10))).toBe(true);
    const empty = await upload(srv, alice, 'empty.txt', Buffer.alloc(0));
    const e = await download(srv, alice.token, `/api/v1/files/${empty}/content`);
    expect(e.status).toBe(200);
    expect(e.bytes.length).toBe(0);
    const bad = await download(srv, alice.token, url, { range: 'bytes=100000-' });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    const stale = await download(srv, alice.token, url, { range: 'bytes=0-9', 'if-range': '"other"' });
    expect(stale.status).toBe(200);
    expect(stale.bytes.length).toBe(bytes.length);
    expect(a.headers.get('accept-ranges')).toBe('bytes');
  });

  it('says how a file can be previewed, and plainly when Office conversion is unavailable', async () => {
    const txt = await upload(srv, alice, 'code.ts', Buffer.from('export const x = 1;\n'));
    const p = await http<OpOutput<'file.preview'>>(srv, 'GET', `/api/v1/files/${txt}/preview`, { token: alice.token });
    expect(p.body).toMatchObject({
      kind: 'text',
      available: true,
      url: `/api/v1/files/${txt}/content?disposition=inline`,
    });
    // A minimal .docx is a zip with [Content_Types].xml and word/document.xml.
    const docx = await minimalDocx();
    const d = await upload(srv, alice, '报告.docx', docx);
    const dp = await http<OpOutput<'file.preview'>>(srv, 'GET', `/api/v1/files/${d}/preview`, { token: alice.token });
    expect(dp.body.kind).toBe('office');
    const files = srv.app.deps.config.files;
    // CI installs LibreOffice (.ci/run), so the conversion itself is exercised there.
    if (files.soffice) {
      expect(dp.body).toMatchObject({ available: true, url: `/api/v1/files/${d}/preview.pdf` });
      const pdf = await download(srv, alice.token, dp.body.url!);
      expect(pdf.status).toBe(200);
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(pdf.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    }
    // Without LibreOffice the API says so plainly.
    const soffice = files.soffice;
    files.soffice = null;
    try {
      const off = await http<OpOutput<'file.preview'>>(srv, 'GET', `/api/v1/files/${d}/preview`, {
        token: alice.token,
      });
      expect(off.body).toMatchObject({ kind: 'office', available: false, url: null });
      expect(off.body.reason).toMatch(/LibreOffice/);
      const pdf = await download(srv, alice.token, `/api/v1/files/${d}/preview.pdf`);
      expect(pdf.status).toBe(409);
    } finally {
      files.soffice = soffice;
    }
    expect((await http(srv, 'GET', `/api/v1/files/${d}/preview`, { token: bob.token })).status).toBe(404);
  });
});

async function minimalDocx(): Promise<Buffer> {
  const yazl = (await import('yazl')).default;
  const zip = new yazl.ZipFile();
  zip.addBuffer(
    Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    ),
    '[Content_Types].xml',
  );
  zip.addBuffer(
    Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    ),
    '_rels/.rels',
  );
  zip.addBuffer(
    Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>季度报告</w:t></w:r></w:p></w:body></w:document>',
    ),
    'word/document.xml',
  );
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
