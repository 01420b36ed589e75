import { EnclaveError } from '@enclave/protocol';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { Connection, type ConnectionState } from './connection.ts';
import { RequestTracker } from './request.ts';
import { ME } from './test-factories.ts';

const TOKEN = 'secret-token';
const hello = (heartbeatMs: number) => ({
  ev: 'hello',
  data: {
    user: { id: ME, username: 'me', displayName: 'Me', role: 'user', disabled: false },
    sessionId: '00000000-0000-7000-8000-0000000000e1',
    deviceId: '00000000-0000-7000-8000-0000000000d1',
    serverTime: Date.now(),
    heartbeatMs,
    mustChangePassword: false,
  },
});
const emptySync = { token: 'T1', userEvents: [], conversations: [], limited: false, totalUnread: 0, serverTime: 1 };

interface ServerOptions {
  heartbeatMs?: number;
  /** Per connection number (1-based): answer nothing at all after hello. */
  silentOn?: number;
}

/** A minimal Enclave server: auth by header or first frame, hello, replies to ping and sync. */
async function startServer(opts: ServerOptions = {}) {
  const wss = new WebSocketServer({ port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const seen = {
    connections: 0,
    authHeaders: [] as (string | undefined)[],
    ops: [] as string[],
    sockets: [] as WebSocket[],
  };
  wss.on('connection', (ws, req: IncomingMessage) => {
    const n = ++seen.connections;
    seen.sockets.push(ws);
    seen.authHeaders.push(req.headers.authorization);
    let authed = req.headers.authorization === `Bearer ${TOKEN}`;
    const greet = () => ws.send(JSON.stringify(hello(opts.heartbeatMs ?? 25_000)));
    if (authed) greet();
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as { op: string; ref: string | number; data: { token?: string } };
      seen.ops.push(f.op);
      if (!authed) {
        if (f.op === 'auth' && f.data.token === TOKEN) {
          authed = true;
          ws.send(JSON.stringify({ ref: f.ref, ok: true, data: {} }));
          return greet();
        }
        return ws.close(4002, 'unauthenticated');
      }
      if (opts.silentOn === n) return;
      if (f.op === 'ping') ws.send(JSON.stringify({ ref: f.ref, ok: true, data: { serverTime: Date.now() } }));
      if (f.op === 'sync') ws.send(JSON.stringify({ ref: f.ref, ok: true, data: emptySync }));
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return { wss, seen, baseUrl: `http://127.0.0.1:${port}` };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function connect(baseUrl: string, opts: { headerAuth: boolean; token?: string }) {
  const states: ConnectionState[] = [];
  const conn = new Connection({
    baseUrl,
    WebSocket,
    headerAuth: opts.headerAuth,
    getToken: () => opts.token ?? TOKEN,
    backoff: { baseMs: 20, capMs: 50 },
    synchronize: async () => {
      await requests.request('sync', {});
    },
  });
  const requests = new RequestTracker((f) => conn.send(f), { timeoutMs: 2000 });
  conn.on('reply', (f) => requests.handleReply(f));
  conn.on('disconnected', () => requests.rejectAll());
  conn.on('state', ({ state }) => states.push(state));
  cleanup.push(async () => conn.close());
  return { conn, states, requests };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('Connection against a real ws server', () => {
  it('authenticates with the Authorization header, syncs, and becomes ready', async () => {
    const server = await startServer();
    cleanup.push(async () => server.wss.close());
    const { conn, states } = connect(server.baseUrl, { headerAuth: true });
    conn.connect();
    await until(() => conn.state === 'ready');
    expect(states).toEqual(['connecting', 'authenticating', 'syncing', 'ready']);
    expect(server.seen.authHeaders).toEqual([`Bearer ${TOKEN}`]);
    expect(server.seen.ops).toEqual(['sync']);
  });

  it('sends an auth frame first when it cannot send a header', async () => {
    const server = await startServer();
    cleanup.push(async () => server.wss.close());
    const { conn } = connect(server.baseUrl, { headerAuth: false });
    conn.connect();
    await until(() => conn.state === 'ready');
    expect(server.seen.authHeaders).toEqual([undefined]);
    expect(server.seen.ops).toEqual(['auth', 'sync']);
  });

  it('goes to failed on close 4003 (revoked), fires auth-lost and never reconnects', async () => {
    const server = await startServer();
    cleanup.push(async () => server.wss.close());
    const { conn, states } = connect(server.baseUrl, { headerAuth: true });
    const lost: number[] = [];
    conn.on('auth-lost', (e) => lost.push(e.code));
    conn.connect();
    await until(() => conn.state === 'ready');
    server.seen.sockets[0]!.close(4003, 'revoked');
    await until(() => conn.state === 'failed');
    await new Promise((r) => setTimeout(r, 300)); // many backoff windows (cap 50 ms)
    expect(server.seen.connections).toBe(1);
    expect(lost).toEqual([4003]);
    expect(states.at(-1)).toBe('failed');
  });

  it('fails on a rejected token (4002) without retrying', async () => {
    const server = await startServer();
    cleanup.push(async () => server.wss.close());
    const { conn } = connect(server.baseUrl, { headerAuth: false, token: 'wrong' });
    conn.connect();
    await until(() => conn.state === 'failed');
    await new Promise((r) => setTimeout(r, 200));
    expect(server.seen.connections).toBe(1);
  });

  it('reconnects after an ordinary drop; pending requests reject as retryable', async () => {
    const server = await startServer({ silentOn: 1 });
    cleanup.push(async () => server.wss.close());
    const { conn, states, requests } = connect(server.baseUrl, { headerAuth: true });
    conn.connect();
    await until(() => conn.state === 'syncing'); // the silent server never answers sync
    const pending = requests.request('ping', {});
    server.seen.sockets[0]!.close(1011, 'crash');
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnclaveError);
    expect((err as EnclaveError).retryable).toBe(true);
    await until(() => conn.state === 'ready');
    expect(server.seen.connections).toBe(2);
    expect(states).toEqual([
      'connecting',
      'authenticating',
      'syncing',
      'reconnecting',
      'authenticating',
      'syncing',
      'ready',
    ]);
  });

  it('pings every heartbeat and drops a silent server after 2× heartbeat', async () => {
    const server = await startServer({ heartbeatMs: 60, silentOn: 2 });
    cleanup.push(async () => server.wss.close());
    const { conn } = connect(server.baseUrl, { headerAuth: true });
    conn.connect();
    await until(() => conn.state === 'ready');
    await until(() => server.seen.ops.filter((o) => o === 'ping').length >= 2);
    expect(conn.state).toBe('ready');
    server.seen.sockets[0]!.terminate(); // vanishes without a close frame
    await until(() => server.seen.connections === 2);
    // Connection 2 is silent: no hello reply to sync, no pong; the watchdog drops it.
    await until(() => server.seen.connections === 3, 2000);
    await until(() => conn.state === 'ready');
  });
});
