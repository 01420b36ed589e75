/**
 * Accounts and sessions as a user and an administrator see them: sign-in and its cookie, failed
 * sign-in throttling, forced password change, per-device sessions whose revocation closes live
 * sockets, the admin user routes, and how a WebSocket authenticates (or does not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpOutput } from '@enclave/protocol';
import { http, login, makeUser, startServer, WsClient, type HttpResult, type TestServer } from './harness.ts';

type ErrorResponse = { error: { code: string; message: string; details?: unknown } };
type LoginBody = OpOutput<'auth.login'>;

/** Sign in without throwing on failure. */
function tryLogin(srv: TestServer, username: string, password: string, headers: Record<string, string> = {}) {
  return http<LoginBody & ErrorResponse>(srv, 'POST', '/api/v1/auth/login', {
    body: { username, password, deviceName: 'test' },
    headers,
  });
}

function expectError(r: HttpResult<unknown>, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect((r.body as ErrorResponse).error.code).toBe(code);
  expect(typeof (r.body as ErrorResponse).error.message).toBe('string');
}

/** The `enclave_session` Set-Cookie header of a response, split into its attributes. */
function sessionCookie(r: HttpResult<unknown>): { value: string; attrs: string[] } {
  const line = r.headers.getSetCookie().find((c) => c.startsWith('enclave_session='));
  expect(line, 'a Set-Cookie for enclave_session').toBeDefined();
  const [pair, ...attrs] = line!.split(';').map((s) => s.trim());
  return { value: pair!.slice('enclave_session='.length), attrs: attrs.map((a) => a.toLowerCase()) };
}

async function createUser(srv: TestServer, username: string, password: string, mustChangePassword: boolean) {
  const r = await http<OpOutput<'admin.user.create'>>(srv, 'POST', '/api/v1/admin/users', {
    token: srv.adminToken,
    body: { username, displayName: username, password, mustChangePassword },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

let nameCounter = 0;
const uniqueName = (prefix: string) => `${prefix}${++nameCounter}-${Math.random().toString(36).slice(2, 7)}`;

describe('sign-in', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv.close());

  it('returns token, session and user, and sets an HttpOnly SameSite=Strict cookie (not Secure over http)', async () => {
    const u = await makeUser(srv);
    const r = await tryLogin(srv, u.username, u.password);
    expect(r.status).toBe(200);
    expect(r.body.token).toEqual(expect.any(String));
    expect(r.body.user).toMatchObject({ id: u.id, username: u.username, role: 'user', disabled: false });
    expect(r.body.session).toMatchObject({ current: true, deviceName: 'test' });
    expect(r.body.mustChangePassword).toBe(false);

    const cookie = sessionCookie(r);
    expect(cookie.value).toBe(r.body.token);
    expect(cookie.attrs).toContain('httponly');
    expect(cookie.attrs).toContain('samesite=strict');
    expect(cookie.attrs).toContain('path=/');
    expect(cookie.attrs).not.toContain('secure');

    // The cookie alone authenticates.
    const me = await http<OpOutput<'me.get'>>(srv, 'GET', '/api/v1/me', {
      headers: { cookie: `enclave_session=${cookie.value}` },
    });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(u.id);
    expect(me.body.sessionId).toBe(r.body.session.id);
  });

  it('never accepts a token in the URL', async () => {
    const u = await makeUser(srv);
    for (const q of ['token', 'access_token']) {
      expectError(await http(srv, 'GET', `/api/v1/me?${q}=${encodeURIComponent(u.token)}`), 401, 'unauthenticated');
    }
    // Nor on the WebSocket: the socket stays unauthenticated.
    const ws = await WsClient.connect({ wsUrl: `${srv.wsUrl}?token=${encodeURIComponent(u.token)}` }, null);
    const f = await ws.request('ping', {});
    expect(f.error?.code).toBe('unauthenticated');
    expect(ws.frames.some((x) => x.ev === 'hello')).toBe(false);
    ws.close();
  });

  it('a wrong password and an unknown user give the same answer', async () => {
    const u = await makeUser(srv);
    const wrong = await tryLogin(srv, u.username, 'Not-the-password-1');
    const unknown = await tryLogin(srv, uniqueName('nobody'), 'Not-the-password-1');
    expectError(wrong, 401, 'invalid_credentials');
    expectError(unknown, 401, 'invalid_credentials');
    expect(unknown.body).toEqual(wrong.body);
  });

  it('throttles the sixth attempt after five failures, even with the right password, per account', async () => {
    const u = await makeUser(srv);
    const other = await makeUser(srv);
    for (let i = 0; i < 5; i++)
      expectError(await tryLogin(srv, u.username, `Wrong-pass-${i}`), 401, 'invalid_credentials');
    const sixth = await tryLogin(srv, u.username, u.password);
    expectError(sixth, 429, 'login_throttled');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Without trusted proxies a forged X-Forwarded-For does not change the client's address.
    expectError(
      await tryLogin(srv, u.username, u.password, { 'x-forwarded-for': '198.51.100.23' }),
      429,
      'login_throttled',
    );
    // Another account from the same address is not locked.
    expect((await tryLogin(srv, other.username, other.password)).status).toBe(200);
  });

  it('a successful sign-in resets the failure count', async () => {
    const u = await makeUser(srv);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++)
        expectError(await tryLogin(srv, u.username, `Wrong-pass-${i}`), 401, 'invalid_credentials');
      // Eight failures in total would be throttled; four since the last success are not.
      expect((await tryLogin(srv, u.username, u.password)).status).toBe(200);
    }
  });
});

describe('sign-in behind a trusted proxy', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ config: { trustedProxies: ['127.0.0.1'] } });
  });
  afterAll(() => srv.close());

  it('throttles by (account, client IP): the same account from another address can still sign in', async () => {
    const u = await makeUser(srv);
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 5; i++)
      expectError(await tryLogin(srv, u.username, `Wrong-pass-${i}`, from('203.0.113.7')), 401, 'invalid_credentials');
    expectError(await tryLogin(srv, u.username, u.password, from('203.0.113.7')), 429, 'login_throttled');
    const elsewhere = await tryLogin(srv, u.username, u.password, from('203.0.113.8'));
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.session.ip).toBe('203.0.113.8');
  });
});

describe('sign-in behind https', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ config: { publicUrl: 'https://chat.example.test' } });
  });
  afterAll(() => srv.close());

  it('marks the session cookie Secure when PUBLIC_URL is https', async () => {
    const u = await makeUser(srv);
    const cookie = sessionCookie(await tryLogin(srv, u.username, u.password));
    expect(cookie.attrs).toContain('secure');
    expect(cookie.attrs).toContain('httponly');
    expect(cookie.attrs).toContain('samesite=strict');
    expect(cookie.attrs).toContain('path=/');
  });

  it('accepts a WebSocket from the public origin and refuses any other', async () => {
    const u = await makeUser(srv);
    const good = await WsClient.connect(srv, u.token, { headers: { origin: 'https://chat.example.test' } });
    expect(good.frames.some((f) => f.ev === 'hello')).toBe(true);
    good.close();
    const bad = await WsClient.connect(srv, null, {
      headers: { origin: 'http://chat.example.test', authorization: `Bearer ${u.token}` },
    });
    expect((await bad.waitClosed(2_000)).code).toBe(4004);
    expect(bad.frames).toEqual([]);
  });
});

describe('forced password change', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv.close());

  it('allows only me.get and me.changePassword until the password is changed (REST)', async () => {
    const name = uniqueName('fresh');
    await createUser(srv, name, 'Initial-pass-1', true);
    const session = await login(srv, name, 'Initial-pass-1');
    expect(session.mustChangePassword).toBe(true);
    const me = await http<OpOutput<'me.get'>>(srv, 'GET', '/api/v1/me', { token: session.token });
    expect(me.status).toBe(200);
    expect(me.body.mustChangePassword).toBe(true);
    expectError(
      await http(srv, 'GET', '/api/v1/conversations', { token: session.token }),
      403,
      'password_change_required',
    );
    expectError(
      await http(srv, 'POST', '/api/v1/me/password', {
        token: session.token,
        body: { currentPassword: 'Initial-pass-1', newPassword: 'short' },
      }),
      400,
      'weak_password',
    );
    const changed = await http(srv, 'POST', '/api/v1/me/password', {
      token: session.token,
      body: { currentPassword: 'Initial-pass-1', newPassword: 'Chosen-pass-2' },
    });
    expect(changed.status).toBe(200);
    expect((await http(srv, 'GET', '/api/v1/conversations', { token: session.token })).status).toBe(200);
    const again = await http<OpOutput<'me.get'>>(srv, 'GET', '/api/v1/me', { token: session.token });
    expect(again.body.mustChangePassword).toBe(false);
  });

  it('the same holds over the WebSocket, and the socket works once the password is changed', async () => {
    const name = uniqueName('freshws');
    await createUser(srv, name, 'Initial-pass-1', true);
    const session = await login(srv, name, 'Initial-pass-1');
    const ws = await WsClient.connect(srv, session.token, { sync: false });
    const hello = ws.frames.find((f) => f.ev === 'hello');
    expect((hello?.data as { mustChangePassword: boolean }).mustChangePassword).toBe(true);
    expect((await ws.request('me.get', {})).ok).toBe(true);
    expect((await ws.request('conversation.list', {})).error?.code).toBe('password_change_required');
    expect((await ws.request('sync', {})).error?.code).toBe('password_change_required');
    await ws.call('me.changePassword', { currentPassword: 'Initial-pass-1', newPassword: 'Chosen-pass-2' });
    const list = await ws.request('conversation.list', {});
    expect(list.ok, JSON.stringify(list.error)).toBe(true);
    expect((await ws.request('sync', {})).ok).toBe(true);
    expect(ws.closed).toBeNull();
    ws.close();
  });

  it('a socket of the same session is released when the password is changed over REST', async () => {
    const name = uniqueName('freshrest');
    await createUser(srv, name, 'Initial-pass-1', true);
    const session = await login(srv, name, 'Initial-pass-1');
    const ws = await WsClient.connect(srv, session.token, { sync: false });
    expect((await ws.request('conversation.list', {})).error?.code).toBe('password_change_required');
    const changed = await http(srv, 'POST', '/api/v1/me/password', {
      token: session.token,
      body: { currentPassword: 'Initial-pass-1', newPassword: 'Chosen-pass-2' },
    });
    expect(changed.status).toBe(200);
    expect((await ws.request('conversation.list', {})).ok).toBe(true);
    expect(ws.closed).toBeNull();
    ws.close();
  });
});

describe('sessions', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv.close());

  it('lists one session per device and revoking one closes its socket and ends its token', async () => {
    const u = await makeUser(srv);
    const laptop = await login(srv, u.username, u.password, 'laptop');
    const phone = await login(srv, u.username, u.password, 'phone');
    const list = await http<OpOutput<'session.list'>>(srv, 'GET', '/api/v1/me/sessions', { token: laptop.token });
    expect(list.status).toBe(200);
    const byId = new Map(list.body.items.map((s) => [s.id, s]));
    expect(byId.get(laptop.session.id)).toMatchObject({ current: true, deviceName: 'laptop' });
    expect(byId.get(phone.session.id)).toMatchObject({ current: false, deviceName: 'phone' });
    expect(list.body.items.filter((s) => s.current)).toHaveLength(1);

    const laptopWs = await WsClient.connect(srv, laptop.token);
    const phoneWs = await WsClient.connect(srv, phone.token);
    const revoked = await http(srv, 'DELETE', `/api/v1/me/sessions/${phone.session.id}`, { token: laptop.token });
    expect(revoked.status).toBe(200);
    const closed = await phoneWs.waitClosed(2_000);
    expect(closed.code).toBe(4003);
    expect(phoneWs.frames.find((f) => f.ev === 'closing')?.data).toEqual({ reason: 'revoked' });
    expectError(await http(srv, 'GET', '/api/v1/me', { token: phone.token }), 401, 'unauthenticated');

    // The revoking device is untouched.
    expect((await laptopWs.request('ping', {})).ok).toBe(true);
    const after = await http<OpOutput<'session.list'>>(srv, 'GET', '/api/v1/me/sessions', { token: laptop.token });
    expect(after.body.items.map((s) => s.id)).not.toContain(phone.session.id);
    // Revoking it again, or someone else's session, is not found.
    expectError(
      await http(srv, 'DELETE', `/api/v1/me/sessions/${phone.session.id}`, { token: laptop.token }),
      404,
      'session_not_found',
    );
    const stranger = await makeUser(srv);
    expectError(
      await http(srv, 'DELETE', `/api/v1/me/sessions/${laptop.session.id}`, { token: stranger.token }),
      404,
      'session_not_found',
    );
    expect((await laptopWs.request('ping', {})).ok).toBe(true);
    laptopWs.close();
  });

  it('logout ends the current session, clears the cookie and closes its socket', async () => {
    const u = await makeUser(srv);
    const s = await login(srv, u.username, u.password, 'tablet');
    const ws = await WsClient.connect(srv, s.token);
    const out = await http(srv, 'POST', '/api/v1/auth/logout', { token: s.token, body: {} });
    expect(out.status).toBe(200);
    const cleared = sessionCookie(out);
    expect(cleared.value).toBe('');
    expect((await ws.waitClosed(2_000)).code).toBe(4003);
    expect(ws.frames.find((f) => f.ev === 'closing')?.data).toEqual({ reason: 'logout' });
    expectError(await http(srv, 'GET', '/api/v1/me', { token: s.token }), 401, 'unauthenticated');
    // The user's other session (from makeUser) still works.
    expect((await http(srv, 'GET', '/api/v1/me', { token: u.token })).status).toBe(200);
  });

  it('logout over the WebSocket closes that socket', async () => {
    const u = await makeUser(srv);
    const s = await login(srv, u.username, u.password, 'desktop');
    const ws = await WsClient.connect(srv, s.token);
    const reply = await ws.request('auth.logout', {});
    expect(reply.ok).toBe(true);
    expect((await ws.waitClosed(2_000)).code).toBe(4003);
    expectError(await http(srv, 'GET', '/api/v1/me', { token: s.token }), 401, 'unauthenticated');
  });

  it('changing the password revokes every other session but keeps the current one', async () => {
    const u = await makeUser(srv);
    const a = await login(srv, u.username, u.password, 'a');
    const b = await login(srv, u.username, u.password, 'b');
    const aWs = await WsClient.connect(srv, a.token);
    const bWs = await WsClient.connect(srv, b.token);
    expectError(
      await http(srv, 'POST', '/api/v1/me/password', {
        token: a.token,
        body: { currentPassword: 'Wrong-current-1', newPassword: 'Brand-new-pass-9' },
      }),
      401,
      'invalid_credentials',
    );
    expect(bWs.closed).toBeNull();
    const r = await http(srv, 'POST', '/api/v1/me/password', {
      token: a.token,
      body: { currentPassword: u.password, newPassword: 'Brand-new-pass-9' },
    });
    expect(r.status).toBe(200);
    expect((await bWs.waitClosed(2_000)).code).toBe(4003);
    expect(bWs.frames.find((f) => f.ev === 'closing')?.data).toEqual({ reason: 'password_changed' });
    expectError(await http(srv, 'GET', '/api/v1/me', { token: b.token }), 401, 'unauthenticated');
    expectError(await http(srv, 'GET', '/api/v1/me', { token: u.token }), 401, 'unauthenticated');

    expect((await http(srv, 'GET', '/api/v1/me', { token: a.token })).status).toBe(200);
    expect((await aWs.request('ping', {})).ok).toBe(true);
    expect(aWs.closed).toBeNull();
    expectError(await tryLogin(srv, u.username, u.password), 401, 'invalid_credentials');
    expect((await tryLogin(srv, u.username, 'Brand-new-pass-9')).status).toBe(200);
    aWs.close();
  });
});

describe('administration', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv.close());

  it('refuses admin routes to non-admins, over REST and WebSocket', async () => {
    const u = await makeUser(srv);
    const victim = await makeUser(srv);
    const body = { username: uniqueName('sneaky'), displayName: 'x', password: 'Sneaky-pass-1' };
    expectError(await http(srv, 'POST', '/api/v1/admin/users', { token: u.token, body }), 403, 'forbidden');
    expectError(
      await http(srv, 'POST', `/api/v1/admin/users/${victim.id}/disabled`, {
        token: u.token,
        body: { disabled: true },
      }),
      403,
      'forbidden',
    );
    expectError(
      await http(srv, 'POST', `/api/v1/admin/users/${victim.id}/password`, {
        token: u.token,
        body: { password: 'Taken-over-1' },
      }),
      403,
      'forbidden',
    );
    const ws = await WsClient.connect(srv, u.token);
    expect((await ws.request('admin.user.setDisabled', { userId: victim.id, disabled: true })).error?.code).toBe(
      'forbidden',
    );
    ws.close();
    // Nothing happened to the victim.
    expect((await http(srv, 'GET', '/api/v1/me', { token: victim.token })).status).toBe(200);
    expectError(await http(srv, 'POST', '/api/v1/admin/users', { body }), 401, 'unauthenticated');
  });

  it('disabling a user closes their sockets and blocks sign-in until enabled again', async () => {
    const u = await makeUser(srv);
    const ws = await WsClient.connect(srv, u.token);
    const r = await http<OpOutput<'admin.user.setDisabled'>>(srv, 'POST', `/api/v1/admin/users/${u.id}/disabled`, {
      token: srv.adminToken,
      body: { disabled: true },
    });
    expect(r.status).toBe(200);
    expect(r.body.disabled).toBe(true);
    expect((await ws.waitClosed(2_000)).code).toBe(4003);
    expect(ws.frames.find((f) => f.ev === 'closing')?.data).toEqual({ reason: 'disabled' });

    expectError(await tryLogin(srv, u.username, u.password), 403, 'account_disabled');
    const old = await http<ErrorResponse>(srv, 'GET', '/api/v1/me', { token: u.token });
    expect([401, 403]).toContain(old.status);
    expect(['unauthenticated', 'account_disabled']).toContain(old.body.error.code);
    const again = await WsClient.connect(srv, u.token, { sync: false });
    expect((await again.waitClosed(2_000)).code).toBe(4002);
    expect(again.frames.some((f) => f.ev === 'hello')).toBe(false);

    const enabled = await http<OpOutput<'admin.user.setDisabled'>>(
      srv,
      'POST',
      `/api/v1/admin/users/${u.id}/disabled`,
      { token: srv.adminToken, body: { disabled: false } },
    );
    expect(enabled.body.disabled).toBe(false);
    const back = await tryLogin(srv, u.username, u.password);
    expect(back.status).toBe(200);
    expect((await http(srv, 'GET', '/api/v1/me', { token: back.body.token })).status).toBe(200);
  });

  it('resetting a password ends the sessions, retires the old password and forces a change', async () => {
    const u = await makeUser(srv);
    const ws = await WsClient.connect(srv, u.token);
    const r = await http(srv, 'POST', `/api/v1/admin/users/${u.id}/password`, {
      token: srv.adminToken,
      body: { password: 'Temporary-pass-7' },
    });
    expect(r.status).toBe(200);
    expect((await ws.waitClosed(2_000)).code).toBe(4003);
    expectError(await http(srv, 'GET', '/api/v1/me', { token: u.token }), 401, 'unauthenticated');
    expectError(await tryLogin(srv, u.username, u.password), 401, 'invalid_credentials');
    const fresh = await tryLogin(srv, u.username, 'Temporary-pass-7');
    expect(fresh.status).toBe(200);
    expect(fresh.body.mustChangePassword).toBe(true);
    expectError(
      await http(srv, 'GET', '/api/v1/conversations', { token: fresh.body.token }),
      403,
      'password_change_required',
    );
  });

  it('rejects a taken username and a weak password', async () => {
    const name = uniqueName('taken');
    await createUser(srv, name, 'Good-pass-123', false);
    const dup = await http(srv, 'POST', '/api/v1/admin/users', {
      token: srv.adminToken,
      body: { username: name, displayName: 'Another', password: 'Other-pass-456' },
    });
    expectError(dup, 409, 'username_taken');
    for (const password of ['short', 'aaaaaaaaaaaa']) {
      expectError(
        await http(srv, 'POST', '/api/v1/admin/users', {
          token: srv.adminToken,
          body: { username: uniqueName('weak'), displayName: 'Weak', password },
        }),
        400,
        'weak_password',
      );
    }
    expectError(
      await http(srv, 'POST', '/api/v1/admin/users/' + (await makeUser(srv)).id + '/password', {
        token: srv.adminToken,
        body: { password: 'short' },
      }),
      400,
      'weak_password',
    );
  });
});

describe('WebSocket authentication', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ config: { authTimeoutMs: 300 } });
  });
  afterAll(() => srv.close());

  it('closes a silent socket with 4001 after the auth timeout', async () => {
    const ws = await WsClient.connect(srv, null);
    const closed = await ws.waitClosed(3_000);
    expect(closed.code).toBe(4001);
    expect(ws.frames).toEqual([]);
  });

  it('authenticates by a first auth frame: ok reply, then hello with the user', async () => {
    const u = await makeUser(srv);
    const ws = await WsClient.connect(srv, null);
    ws.send({ op: 'auth', ref: 1, data: { token: u.token } });
    const reply = await ws.waitFor((f) => f.ref === 1);
    expect(reply.ok).toBe(true);
    const hello = await ws.waitFor((f) => f.ev === 'hello');
    expect((hello.data as { user: { id: string } }).user.id).toBe(u.id);
    // It outlives the auth timeout and serves ops.
    await new Promise((r) => setTimeout(r, 500));
    expect(ws.closed).toBeNull();
    expect((await ws.request('ping', {})).ok).toBe(true);
    ws.close();
  });

  it('a bad token gets an unauthenticated error and close 4002 (auth frame and upgrade header)', async () => {
    const ws = await WsClient.connect(srv, null);
    ws.send({ op: 'auth', ref: 'a1', data: { token: 'not-a-real-token' } });
    const reply = await ws.waitFor((f) => f.ref === 'a1');
    expect(reply.ok).toBe(false);
    expect(reply.error?.code).toBe('unauthenticated');
    expect((await ws.waitClosed(2_000)).code).toBe(4002);

    const viaHeader = await WsClient.connect(srv, 'not-a-real-token', { sync: false });
    expect(viaHeader.frames[0]?.error?.code).toBe('unauthenticated');
    expect((await viaHeader.waitClosed(2_000)).code).toBe(4002);
    expect(viaHeader.frames.some((f) => f.ev === 'hello')).toBe(false);
  });

  it('refuses a foreign Origin with 4004 before authenticating', async () => {
    const u = await makeUser(srv);
    const ws = await WsClient.connect(srv, null, {
      headers: { origin: 'http://evil.example', cookie: `enclave_session=${u.token}` },
    });
    expect((await ws.waitClosed(2_000)).code).toBe(4004);
    expect(ws.frames).toEqual([]);
    const withHeader = await WsClient.connect(srv, null, {
      headers: { origin: 'http://evil.example', authorization: `Bearer ${u.token}` },
    });
    expect((await withHeader.waitClosed(2_000)).code).toBe(4004);
    expect(withHeader.frames).toEqual([]);
  });

  it('authenticates by the session cookie at upgrade', async () => {
    const u = await makeUser(srv);
    const ws = await WsClient.connect(srv, null, { headers: { cookie: `enclave_session=${u.token}` } });
    const hello = await ws.waitFor((f) => f.ev === 'hello');
    expect((hello.data as { user: { id: string } }).user.id).toBe(u.id);
    ws.close();
  });

  it('answers ops before auth with unauthenticated and keeps the socket open until the timeout', async () => {
    const ws = await WsClient.connect(srv, null);
    const r = await ws.request('ping', {});
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('unauthenticated');
    const list = await ws.request('conversation.list', {});
    expect(list.error?.code).toBe('unauthenticated');
    expect(ws.closed).toBeNull();
    expect((await ws.waitClosed(3_000)).code).toBe(4001);
    expect(ws.frames.some((f) => f.ev === 'hello' || f.ok === true)).toBe(false);
  });
});

describe('last used', () => {
  let srv: TestServer;
  let clock = Date.now();
  beforeAll(async () => {
    srv = await startServer({ now: () => clock });
  });
  afterAll(async () => srv.close());

  it('a session used again after a while shows the new time (written in batches, within about a second)', async () => {
    const users = [];
    for (let i = 0; i < 5; i++) users.push(await makeUser(srv));
    const signedInAt = clock;
    clock += 5 * 60_000;
    const sockets = await Promise.all(users.map((u) => WsClient.connect(srv, u.token, { sync: false })));
    const listed = async (token: string) =>
      (await http<OpOutput<'session.list'>>(srv, 'GET', '/api/v1/me/sessions', { token })).body.items;
    const deadline = Date.now() + 10_000;
    let seen: number[] = [];
    while (Date.now() < deadline) {
      seen = (await Promise.all(users.map(async (u) => (await listed(u.token))[0]!.lastUsedAt))).map(Number);
      if (seen.every((t) => t === clock)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toEqual(users.map(() => clock));
    expect(seen[0]).toBeGreaterThan(signedInAt);
    for (const s of sockets) s.ws.close();
  });
});
