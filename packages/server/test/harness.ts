/**
 * Test support: a real server in-process on port 0 over a real store, real HTTP and WebSocket
 * clients. Shared builders live here (STYLE.md: one factories file).
 */
import { afterAll, beforeAll } from 'vitest';
import { WebSocket } from 'ws';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config.ts';
import { buildApp, type App } from '../src/app.ts';
import { ensureAdmin } from '../src/domain/accounts/ensure-admin.ts';
import { sqliteTarget, type StoreTarget } from './stores.ts';
import type { OpInput, OpName, OpOutput } from '@enclave/protocol';

export const ADMIN_PASSWORD = 'Admin-pass-2026';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  adminToken: string;
  close(): Promise<void>;
}

export async function startServer(
  opts: { databaseUrl?: string; config?: Partial<Config>; now?: () => number } = {},
): Promise<TestServer> {
  const db = opts.databaseUrl ? null : await sqliteTarget().create();
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    databaseUrl: opts.databaseUrl ?? db!.url,
    adminPassword: ADMIN_PASSWORD,
    logLevel: 'silent',
    busFaults: Number(process.env.ENCLAVE_BUS_FAULTS ?? 0),
    ...opts.config,
  };
  const app = await buildApp(config, { log: pino({ level: 'silent' }), ...(opts.now ? { now: opts.now } : {}) });
  await ensureAdmin(app.deps);
  const address = await app.http.listen({ port: 0, host: '127.0.0.1' });
  const url = address;
  const srv: TestServer = {
    app,
    url,
    wsUrl: url.replace(/^http/, 'ws') + '/api/v1/ws',
    adminToken: '',
    async close() {
      await app.close();
      await db?.drop();
    },
  };
  srv.adminToken = (await login(srv, 'admin', ADMIN_PASSWORD)).token;
  return srv;
}

/** What `serverOnStore` passes on to `startServer`; as a function, evaluated when the server starts. */
type StoreServerOptions = Omit<NonNullable<Parameters<typeof startServer>[0]>, 'databaseUrl'>;

/**
 * A server on a fresh database of `target` for the enclosing `describe` (a store-matrix suite):
 * created and started before its tests, stopped and dropped after them. Call the returned function
 * in the tests (or a later `beforeAll`) for the server.
 */
export function serverOnStore(
  target: StoreTarget,
  opts: StoreServerOptions | (() => StoreServerOptions) = {},
): () => TestServer {
  let srv: TestServer | undefined;
  let db: { url: string; drop(): Promise<void> } | undefined;
  beforeAll(async () => {
    db = await target.create();
    srv = await startServer({ ...(typeof opts === 'function' ? opts() : opts), databaseUrl: db.url });
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await db?.drop();
  });
  return () => {
    if (!srv) throw new Error('the server is not started yet (use it inside a test or a later beforeAll)');
    return srv;
  };
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export async function http<T = unknown>(
  srv: { url: string },
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const res = await fetch(srv.url + path, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

export async function login(srv: TestServer, username: string, password: string, deviceName = 'test') {
  const r = await http<OpOutput<'auth.login'>>(srv, 'POST', '/api/v1/auth/login', {
    body: { username, password, deviceName },
  });
  if (r.status !== 200) throw new Error(`login ${username} failed: ${JSON.stringify(r.body)}`);
  return r.body;
}

let userCounter = 0;

export interface TestUser {
  id: string;
  username: string;
  password: string;
  token: string;
}

/** Create a user through the admin API and sign them in (password already changed). */
export async function makeUser(srv: TestServer, name?: string): Promise<TestUser> {
  const username = name ?? `user${++userCounter}-${Math.random().toString(36).slice(2, 7)}`;
  const password = `Pw-${username}-secret`;
  const r = await http<OpOutput<'admin.user.create'>>(srv, 'POST', '/api/v1/admin/users', {
    token: srv.adminToken,
    body: { username, displayName: username, password, mustChangePassword: false },
  });
  if (r.status !== 200) throw new Error(`create ${username}: ${JSON.stringify(r.body)}`);
  const session = await login(srv, username, password);
  return { id: r.body.id, username, password, token: session.token };
}

export interface Frame {
  ref?: string | number | null;
  ok?: boolean;
  data?: unknown;
  error?: { code: string; message: string; details?: unknown };
  ev?: string;
}

/** A raw WebSocket client speaking the frame protocol; it records every byte it receives. */
export class WsClient {
  readonly frames: Frame[] = [];
  readonly rawText: string[] = [];
  private nextRef = 1;
  private readonly waiters = new Set<() => void>();
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const text = d.toString();
      this.rawText.push(text);
      try {
        this.frames.push(JSON.parse(text) as Frame);
      } catch {
        this.frames.push({ ev: 'unparsable' });
      }
      for (const w of [...this.waiters]) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of [...this.waiters]) w();
    });
  }

  static async connect(
    srv: { wsUrl: string },
    token: string | null,
    opts: { headers?: Record<string, string>; sync?: boolean } = {},
  ): Promise<WsClient> {
    const ws = new WebSocket(srv.wsUrl, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers },
    });
    const c = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    if (token) {
      await c.waitFor((f) => f.ev === 'hello' || f.ok === false);
      if (opts.sync !== false) await c.call('sync', {});
    }
    return c;
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Send an op and wait for its reply frame (ok or error). */
  async request(op: string, data: unknown, timeoutMs = 15_000): Promise<Frame> {
    const ref = `r${this.nextRef++}`;
    this.send({ op, ref, data });
    return this.waitFor((f) => f.ref === ref, timeoutMs);
  }

  /** Send an op and return its data, throwing on an error reply. */
  async call<N extends OpName>(op: N, data: OpInput<N> | Record<string, unknown>): Promise<OpOutput<N>> {
    const f = await this.request(op, data);
    if (!f.ok) throw Object.assign(new Error(`${op}: ${f.error?.code} ${f.error?.message}`), { code: f.error?.code });
    return f.data as OpOutput<N>;
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const found = this.frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.frames.find(pred);
        if (f) {
          cleanup();
          resolve(f);
        } else if (this.closed) {
          cleanup();
          reject(new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a frame; got ${this.frames.length} frames`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Durable conversation events received so far (`ev: conv`). */
  convEvents(conversationId?: string): { seq: number; type: string; conversationId: string; message: unknown }[] {
    return this.frames
      .filter((f) => f.ev === 'conv')
      .map((f) => f.data as { seq: number; type: string; conversationId: string; message: unknown })
      .filter((e) => !conversationId || e.conversationId === conversationId);
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.ws.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  close() {
    this.ws.close();
  }
}

let msgCounter = 0;
export const clientId = (prefix = 'm') => `${prefix}-${Date.now().toString(36)}-${++msgCounter}`;

export function text(t: string) {
  return { text: t, format: 'markdown' as const };
}
