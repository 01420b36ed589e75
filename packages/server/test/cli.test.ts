/**
 * The `enclave` command as an operator runs it: a child process over a real SQLite file. Then an
 * in-process server on the same database proves what the CLI wrote.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_PASSWORD, http, startServer } from './harness.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'packages/server/bin/enclave.mjs');

/** The environment of an operator's shell, minus anything that would steer the CLI elsewhere. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...extra };
  delete env.ENCLAVE_ADMIN_PASSWORD;
  delete env.ENCLAVE_DATA_DIR;
  delete env.PORT;
  if (!extra.DATABASE_URL) delete env.DATABASE_URL;
  return env;
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function enclave(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  try {
    const r = await run(process.execPath, [bin, ...args], { cwd: root, env, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** The JSON line the CLI printed (--json), ignoring any log lines. */
function jsonOut<T>(r: CliResult): T {
  const lines = r.stdout.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !('level' in v)) return v as T;
    } catch {
      /* not JSON */
    }
  }
  throw new Error(`no JSON output (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
}

describe('enclave CLI', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let databaseUrl: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-cli-'));
    databaseUrl = `sqlite:${path.join(dir, 'x.db')}`;
    env = cleanEnv({ DATABASE_URL: databaseUrl });
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('migrate --json applies the schema once', async () => {
    const first = await enclave(['migrate', '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    const applied = jsonOut<{ applied: string[] }>(first).applied;
    expect(applied.length).toBeGreaterThan(0);
    expect(applied).toContain('0001_initial');
    const second = await enclave(['migrate', '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(jsonOut(second)).toEqual({ applied: [] });
  });

  it('manages users, and a server on the same database sees the result', async () => {
    // An administrator for the in-process server below (harness signs in as admin).
    const admin = await enclave(
      [
        'user',
        'create',
        'admin',
        '--name',
        'Administrator',
        '--password',
        ADMIN_PASSWORD,
        '--admin',
        '--no-change',
        '--json',
      ],
      env,
    );
    expect(admin.code, admin.stderr).toBe(0);
    expect(jsonOut<{ role: string }>(admin).role).toBe('admin');

    const created = await enclave(
      ['user', 'create', 'alice', '--name', 'Alice 张', '--password', 'Alice-pass-1', '--json'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const alice = jsonOut<{ id: string; username: string; displayName: string; role: string; disabled: boolean }>(
      created,
    );
    expect(alice).toMatchObject({ username: 'alice', displayName: 'Alice 张', role: 'user', disabled: false });
    expect(alice.id).toMatch(/^[0-9a-f-]{36}$/);

    const dup = await enclave(
      ['user', 'create', 'alice', '--name', 'Other', '--password', 'Other-pass-1', '--json'],
      env,
    );
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('username_taken');

    const disabled = await enclave(['user', 'disable', 'alice', '--json'], env);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(jsonOut<{ disabled: boolean }>(disabled).disabled).toBe(true);
    const enabled = await enclave(['user', 'enable', 'alice', '--json'], env);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(jsonOut<{ disabled: boolean }>(enabled).disabled).toBe(false);

    const unknown = await enclave(['user', 'disable', 'nobody', '--json'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('user_not_found');

    const reset = await enclave(['user', 'reset-password', 'alice', '--password', 'New-pass-123', '--json'], env);
    expect(reset.code, reset.stderr).toBe(0);
    expect(jsonOut(reset)).toEqual({ ok: true });

    const srv = await startServer({ databaseUrl });
    try {
      const old = await http<{ error: { code: string } }>(srv, 'POST', '/api/v1/auth/login', {
        body: { username: 'alice', password: 'Alice-pass-1' },
      });
      expect(old.status).toBe(401);
      expect(old.body.error.code).toBe('invalid_credentials');

      const r = await http<{ token: string; mustChangePassword: boolean; user: { id: string; displayName: string } }>(
        srv,
        'POST',
        '/api/v1/auth/login',
        { body: { username: 'alice', password: 'New-pass-123' } },
      );
      expect(r.status).toBe(200);
      expect(r.body.mustChangePassword).toBe(true);
      expect(r.body.user).toMatchObject({ id: alice.id, displayName: 'Alice 张' });

      const blocked = await http<{ error: { code: string } }>(srv, 'GET', '/api/v1/conversations', {
        token: r.body.token,
      });
      expect(blocked.status).toBe(403);
      expect(blocked.body.error.code).toBe('password_change_required');
    } finally {
      await srv.close();
    }
  }, 180_000); // six CLI processes, each a cold start
});

describe('enclave start', () => {
  let dir: string;
  let child: ChildProcess | null = null;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-start-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the administrator on first start with a printed password that must be changed', async () => {
    child = spawn(process.execPath, [bin, 'start', '--port', '0', '--host', '127.0.0.1', '--data', dir, '--json'], {
      cwd: root,
      env: cleanEnv({}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = await new Promise<{ url: string; store: string; adminCreated: boolean; adminPassword: string }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start line: ${stdout}\n${stderr}`)), 60_000);
        child!.once('exit', (code) => reject(new Error(`exited ${code}: ${stdout}\n${stderr}`)));
        child!.stdout!.on('data', (d: Buffer) => {
          stdout += d.toString();
          for (const line of stdout.split('\n')) {
            try {
              const v = JSON.parse(line) as { url?: string };
              if (v.url) {
                clearTimeout(timer);
                resolve(v as never);
              }
            } catch {
              /* partial line or log */
            }
          }
        });
      },
    );
    expect(started.store).toBe('sqlite');
    expect(started.adminCreated).toBe(true);
    expect(typeof started.adminPassword).toBe('string');
    expect(started.adminPassword.length).toBeGreaterThanOrEqual(12);
    expect(fs.existsSync(path.join(dir, 'enclave.db'))).toBe(true);

    const srv = { url: started.url.replace('localhost', '127.0.0.1') };
    const r = await http<{ token: string; mustChangePassword: boolean; user: { username: string; role: string } }>(
      srv,
      'POST',
      '/api/v1/auth/login',
      { body: { username: 'admin', password: started.adminPassword } },
    );
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ username: 'admin', role: 'admin' });
    expect(r.body.mustChangePassword).toBe(true);
    const health = await http<{ status: string }>(srv, 'GET', '/healthz');
    expect(health.body.status).toBe('ok');

    if (process.platform === 'linux') {
      // Background threads (search indexer, bulk readers) give way to the event loop: `ps -L -o nice`.
      const nice = (tid: string) =>
        Number(fs.readFileSync(`/proc/${child!.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
      expect(nice(String(child!.pid))).toBe(0);
      // Each thread sets its own as it starts, which on a loaded machine may come after the server is ready.
      await vi.waitFor(
        () => {
          const tids = fs.readdirSync(`/proc/${child!.pid}/task`);
          expect(tids.filter((t) => nice(t) === 10).length).toBeGreaterThanOrEqual(3);
        },
        { timeout: 20_000, interval: 100 },
      );
    }

    const exited = new Promise<number | null>((res) => child!.once('exit', (code) => res(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
