/**
 * Admission control: past `maxPendingAuth` sockets that have not authenticated yet, an upgrade is
 * refused with 503 and a Retry-After, so a reconnect storm waits in the clients' backoff; every
 * socket that signs in or goes away frees its place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { http, makeUser, startServer, WsClient, type TestServer } from './harness.ts';

/** Try an upgrade: the HTTP status and Retry-After of a refusal, or 101 when it opened. */
function tryUpgrade(srv: TestServer): Promise<{ status: number; retryAfter: string | null }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(srv.wsUrl);
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, retryAfter: null });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: (res.headers['retry-after'] as string | undefined) ?? null });
      res.resume();
    });
    ws.once('error', (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

describe('admission control for logins', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ config: { maxPendingAuth: 2 } });
  });
  afterAll(async () => srv.close());

  it('refuses upgrades with 503 and Retry-After while too many sockets wait to authenticate', async () => {
    const user = await makeUser(srv);
    // Two sockets that have not sent their auth frame yet hold both places.
    const a = await WsClient.connect(srv, null);
    const b = await WsClient.connect(srv, null);
    const refused = await tryUpgrade(srv);
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(4);
    // Plain HTTP is not affected.
    expect((await http(srv, 'GET', '/readyz')).status).toBe(200);

    // Signing in frees a place: a new login gets in and is served.
    const auth = await a.request('auth', { token: user.token });
    expect(auth.ok).toBe(true);
    const c = await WsClient.connect(srv, user.token);
    expect((await c.request('ping', {})).ok).toBe(true);

    // So does going away.
    b.ws.close();
    await new Promise((r) => b.ws.once('close', r));
    const again = await tryUpgrade(srv);
    expect(again.status).toBe(101);
    a.ws.close();
    c.ws.close();
  });
});
