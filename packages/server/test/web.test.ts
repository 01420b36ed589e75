/**
 * The web client's static route (gateway/web.ts) on its own: SPA fallback, caching, CSP, gzip,
 * traversal and the "not built" page. The browser suites in packages/web/e2e cover the real client.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWeb, WEB_CSP } from '../src/gateway/web.ts';
import { EnclaveError } from '@enclave/protocol';

describe('web client route', () => {
  let dir: string;
  const app = Fastify();
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-web-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    fs.writeFileSync(path.join(dir, 'assets', 'app-abc123.js'), 'console.log(1);'.repeat(200));
    fs.writeFileSync(path.join(os.tmpdir(), 'enclave-web-secret.txt'), 'TOP-SECRET-CONTENT');
    app.setErrorHandler((err, _req, reply) => {
      const e = err instanceof EnclaveError ? err : new EnclaveError('internal_error');
      void reply.status(e.status).send({ error: e.toBody() });
    });
    registerWeb(app, dir);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / and for client routes, with the CSP and no-cache', async () => {
    for (const url of ['/', '/chat/some-id', '/settings/']) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBe(200);
      expect(r.body).toContain('id="root"');
      expect(r.headers['content-security-policy']).toBe(WEB_CSP);
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('serves hashed assets immutable and gzipped when asked', async () => {
    const r = await app.inject({ url: '/assets/app-abc123.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toContain('immutable');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['content-type']).toContain('javascript');
  });

  it('keeps JSON 404s for /api and missing files, and never leaves the directory', async () => {
    for (const url of [
      '/api/v1/nothing',
      '/assets/missing.js',
      '/..%2fenclave-web-secret.txt',
      '/%2e%2e/enclave-web-secret.txt',
      '/%00',
      '/%E0%A4%A',
    ]) {
      const r = await app.inject({ url });
      // Fastify itself refuses a malformed escape with 400; everything else is our 404.
      expect([400, 404], url).toContain(r.statusCode);
      expect(r.body).not.toContain('TOP-SECRET-CONTENT');
    }
  });

  it('says how to build when dist is missing', async () => {
    const bare = Fastify();
    registerWeb(bare, path.join(dir, 'nope'));
    const r = await bare.inject({ url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('npm run build:web');
    await bare.close();
  });
});
