/**
 * The prebuilt server (packages/server/dist/, what `npm start` runs) end to end: built when missing
 * or stale, started as its own process on a fresh SQLite data dir, ready, signing in over HTTP, the
 * pieces it loads on demand (pinyin for people search, the API docs' assets, the web client) found
 * from the bundle's directory, and a clean stop on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, DIST, freshBundle } from '../scripts/bundle.mjs';
import { http } from './harness.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PASSWORD = 'Bundle-admin-pass-1';

describe('server bundle', () => {
  let dir: string;
  let proc: ChildProcess;
  let output = '';
  let url = '';

  beforeAll(async () => {
    if (!freshBundle()) await buildBundle();
    expect(freshBundle()).not.toBeNull();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-bundle-'));
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ENCLAVE_ADMIN_PASSWORD: PASSWORD };
    for (const k of ['DATABASE_URL', 'ENCLAVE_DATA_DIR', 'PORT', 'REDIS_URL', 'NODE_OPTIONS']) delete env[k];
    proc = spawn(
      process.execPath,
      [path.join(DIST, 'enclave.mjs'), 'start', '--port', '0', '--host', '127.0.0.1', '--data', dir, '--json'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    proc.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    const deadline = Date.now() + 30_000;
    while (!url) {
      if (proc.exitCode !== null) throw new Error(`the bundle exited with ${proc.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the bundle did not start:\n${output}`);
      const line = output.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      else await new Promise((r) => setTimeout(r, 20));
    }
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is ready, and the administrator signs in over HTTP', async () => {
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const login = await http<{ token: string; user: { username: string } }>({ url }, 'POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: PASSWORD, deviceName: 'bundle test' },
    });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.user.username).toBe('admin');
    const token = login.body.token;

    // People search by pinyin initials: the pinyin library and the people index load on demand.
    const created = await http({ url }, 'POST', '/api/v1/admin/users', {
      token,
      body: { username: 'zhangsan', displayName: '张三', password: 'Zhang-san-pass-1' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const found = await http<{ items: { username: string }[] }>({ url }, 'GET', '/api/v1/people/search?q=zs', {
      token,
    });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.items.map((p) => p.username)).toContain('zhangsan');
  });

  it('serves the API description, its browsable assets and the web client from the bundle', async () => {
    const openapi = await fetch(`${url}/api/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    const css = await fetch(`${url}/api/docs/assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect((await fetch(`${url}/api/docs/assets/..%2Fpackage.json`)).status).toBe(404);
    if (fs.existsSync(path.join(root, 'packages/web/dist/index.html'))) {
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(code, output).toBe(0);
  });
});
