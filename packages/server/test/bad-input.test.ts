/**
 * Hostile input never crashes the process, never leaks into another session, and never leaves a
 * half-written row: generated frames and bodies (fast-check) and hand-picked malformed ones, over
 * the WebSocket and REST.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { errorCodeList, limits, opNames, ops, type OpOutput } from '@enclave/protocol';
import {
  clientId,
  http,
  makeUser,
  startServer,
  text,
  WsClient,
  type Frame,
  type HttpResult,
  type TestServer,
  type TestUser,
} from './harness.ts';

type ErrorResponse = { error: { code: string; message: string; details?: unknown } };

const knownCodes = new Set<string>(errorCodeList);

/** An error body as the protocol defines it: a known code, a message, optional details — nothing else. */
function expectErrorBody(error: unknown) {
  expect(error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
  const e = error as ErrorResponse['error'];
  expect(knownCodes.has(e.code), `unknown error code ${e.code}`).toBe(true);
  expect(Object.keys(e).every((k) => k === 'code' || k === 'message' || k === 'details')).toBe(true);
  expect(e.code, `internal_error: ${e.message}`).not.toBe('internal_error');
}

function expectHttpError(r: HttpResult<unknown>, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(r.body as object)).toEqual(['error']);
  expectErrorBody((r.body as ErrorResponse).error);
  expect((r.body as ErrorResponse).error.code).toBe(code);
}

/**
 * The ref the server must echo for a frame's text: a string of at most 64 characters or an integer
 * found at `ref` of the parsed frame; anything else is answered with `ref: null`. The text is round-
 * tripped through UTF-8 first, as the socket does (a lone surrogate arrives as U+FFFD).
 */
function expectedRef(frameText: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(frameText, 'utf8').toString('utf8'));
  } catch {
    return 'null';
  }
  const ref = (parsed as { ref?: unknown } | null)?.ref;
  if (typeof ref === 'string' && ref.length <= 64) return JSON.stringify(ref);
  if (typeof ref === 'number' && Number.isInteger(ref)) return JSON.stringify(ref);
  return 'null';
}

const isReply = (f: Frame) => f.ok !== undefined;

/** Counts the reply frames a socket has received, scanning each frame once. */
class ReplyLog {
  private scanned = 0;
  readonly replies: Frame[] = [];
  constructor(readonly ws: WsClient) {}
  update(): Frame[] {
    for (; this.scanned < this.ws.frames.length; this.scanned++) {
      const f = this.ws.frames[this.scanned]!;
      if (isReply(f)) this.replies.push(f);
    }
    return this.replies;
  }
}

async function until(cond: () => boolean, timeoutMs: number, what: string) {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/* ---------------- generators ---------------- */

// Ending the storm user's own session is a legitimate op, not hostile input: it is tested elsewhere.
// Names that exist on every object must not resolve to Object.prototype's members.
const fuzzOps = [
  ...opNames.filter((n) => n !== 'auth.logout'),
  'auth',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'nope',
];

const refArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 64 }),
  fc.string({ minLength: 65, maxLength: 400 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, 1e21, 1e300, -0, 2 ** 53, -(2 ** 63)),
  fc.double(),
  fc.object({ maxDepth: 2 }),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.constantFrom(null, true, false, '', '__proto__'),
  fc.string({ unit: 'grapheme', maxLength: 64 }),
);

const hostileKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'then'];

/** Field names the ops use, so generated data reaches past the first schema check. */
const fieldNames = [
  ...new Set(
    Object.values(ops).flatMap((d) => {
      const shape = (d.input as unknown as { shape?: Record<string, unknown> }).shape;
      return shape ? Object.keys(shape) : [];
    }),
  ),
];

function hostileValue(ids: () => string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(...ids()),
    fc.uuid(),
    fc.uuid().map((u) => u.toUpperCase()),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.integer(),
    fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, 1e300, -1e300, 0.5, Number.MAX_SAFE_INTEGER),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(fc.constantFrom(...ids()), fc.uuid(), fc.integer()), { maxLength: 8 }),
    fc.record({ text: fc.string({ maxLength: 30 }), format: fc.constantFrom('markdown', 'plain', 'html', 1) }),
    fc.constantFrom('true', 'false', 'yes', '1', '', ' ', '%', '_', '\\', "'; DROP TABLE users; --", '💥🏳️‍🌈', '\u0000'),
    fc.anything({ maxDepth: 2 }),
  );
}

/** A JSON object text built key by key, so `__proto__` ends up as an own key on the wire. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;
}

/** A value that is right for a field of that name most of the time, and hostile otherwise. */
function fieldValue(field: string, ids: () => string[]): fc.Arbitrary<unknown> {
  const id = fc.oneof(fc.constantFrom(...ids()), fc.uuid());
  const smallInt = fc.integer({ min: -2, max: 8 });
  const good: Record<string, fc.Arbitrary<unknown>> = {
    conversationId: id,
    userId: id,
    sessionId: id,
    userIds: fc.array(id, { maxLength: 4 }),
    memberIds: fc.array(id, { maxLength: 4 }),
    mentions: fc.array(id, { maxLength: 4 }),
    seq: smallInt,
    replyToSeq: smallInt,
    after: smallInt,
    before: smallInt,
    seqs: fc.array(smallInt, { maxLength: 6 }),
    limit: smallInt,
    conversationLimit: smallInt,
    eventsPerConversation: smallInt,
    clientMsgId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    clientOpId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    content: fc.record({
      text: fc.string({ minLength: 1, maxLength: 40 }),
      format: fc.constantFrom('markdown', 'plain'),
    }),
    emoji: fc.constantFrom('👍', '❤️', '🏳️‍🌈', 'x', ''),
    historyMode: fc.constantFrom('from_join', 'all', 'none'),
    role: fc.constantFrom('admin', 'member', 'owner', 'user'),
    mutedUntil: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 ** 48 })),
    includeLeft: fc.oneof(fc.boolean(), fc.constantFrom('true', 'false', 'yes')),
    // A sync token is opaque, but a hostile client can craft one (see 'a crafted sync token' below).
    token: fc
      .record({ u: fc.oneof(fc.integer(), fc.double()), t: fc.oneof(fc.integer(), fc.double()) })
      .map((t) => Buffer.from(JSON.stringify(t)).toString('base64url')),
  };
  const fallback = fc.oneof(fc.boolean(), fc.string({ maxLength: 20 }));
  return fc.oneof({ arbitrary: good[field] ?? fallback, weight: 8 }, { arbitrary: hostileValue(ids), weight: 1 });
}

/** Frames for a real op whose data has the op's own fields, each mostly plausible: reaches the domain. */
function nearValidFrame(ids: () => string[]): fc.Arbitrary<string> {
  return fc.constantFrom(...opNames.filter((n) => n !== 'auth.logout')).chain((op) => {
    const shape = (ops[op].input as unknown as { shape?: Record<string, unknown> }).shape ?? {};
    const fields = Object.fromEntries(Object.keys(shape).map((k) => [k, fieldValue(k, ids)]));
    return fc
      .tuple(fc.record(fields, { requiredKeys: [] }), fc.oneof(fc.uuid(), refArb))
      .map(([data, ref]) => JSON.stringify({ op, ref, data }));
  });
}

function frameArbs(ids: () => string[]) {
  const junkText = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    fc.constantFrom('', ' ', '{', '}', '[]', 'null', '"ping"', '{"op":', '{"op":"ping","ref":1', '\u0000', '😀'),
  );
  const jsonValue = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null');
  const anyData = fc.record(
    { op: fc.constantFrom(...fuzzOps), ref: refArb, data: fc.anything({ maxDepth: 3 }) },
    { requiredKeys: ['op'] },
  );
  const objectData = fc.record({
    op: fc.constantFrom(...fuzzOps),
    ref: refArb,
    data: fc.object({ maxDepth: 3, withNullPrototype: false }),
  });
  const fieldData = fc
    .tuple(
      fc.constantFrom(...fuzzOps),
      refArb,
      fc.array(fc.tuple(fc.constantFrom(...fieldNames, ...hostileKeys), hostileValue(ids)), { maxLength: 8 }),
    )
    .map(([op, ref, entries]) =>
      objectText([
        ['op', op],
        ['ref', ref],
        ['data', JSON.parse(objectText(entries))],
      ]),
    );
  const protoFrame = fc
    .tuple(
      fc.constantFrom(...fuzzOps),
      refArb,
      fc.array(fc.tuple(fc.constantFrom(...hostileKeys, 'op', 'ref', 'data'), fc.jsonValue({ maxDepth: 3 })), {
        maxLength: 6,
      }),
    )
    .map(([op, ref, extra]) =>
      objectText([['op', op], ['ref', ref], ...extra, ['__proto__', { op: 'ping', polluted: 1 }]]),
    );
  const deep = fc
    .tuple(
      fc.constantFrom(...fuzzOps),
      fc.integer({ min: 1, max: 25_000 }),
      fc.constantFrom('[', '{"a":', '{"__proto__":'),
    )
    .map(([op, depth, open]) => {
      const close = open === '[' ? ']' : '}';
      const n = Math.min(depth, Math.floor(60_000 / (open.length + 1)));
      return `{"op":${JSON.stringify(op)},"ref":"deep","data":${open.repeat(n)}1${close.repeat(n)}}`;
    });
  const frameObj = fc.oneof(anyData, objectData).map((f) => JSON.stringify(f));
  const nearValid = nearValidFrame(ids);
  return { junkText, jsonValue, frameObj, fieldData, protoFrame, deep, nearValid };
}

/* ---------------- tests ---------------- */

describe('hostile WebSocket frames (property)', () => {
  let srv: TestServer;
  let mallory: TestUser;
  let carol: TestUser;
  let bystander: TestUser;
  let bystanderWs: WsClient;
  let pool: ReplyLog[] = [];
  let next = 0;
  let sent = 0;
  const realIds: string[] = [];

  beforeAll(async () => {
    srv = await startServer();
    [mallory, carol, bystander] = await Promise.all([makeUser(srv), makeUser(srv), makeUser(srv)]);
    // Real ids the storm may hit: Mallory's own group with Carol, Carol, Mallory, and the
    // bystander's own direct conversation with Carol (foreign to Mallory).
    const group = await http<{ id: string }>(srv, 'POST', '/api/v1/groups', {
      token: mallory.token,
      body: { name: 'storm', memberIds: [carol.id] },
    });
    const foreign = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
      token: bystander.token,
      body: { userId: carol.id },
    });
    realIds.push(group.body.id, foreign.body.id, carol.id, mallory.id);
    // Connected from here on: everything it receives from now is the storm's doing or its own.
    bystanderWs = await WsClient.connect(srv, bystander.token);
    // Each socket has its own rate-limit bucket (50/s, burst 100): rotating over several keeps most
    // generated frames answered on their merits rather than with rate_limited.
    pool = await Promise.all(
      Array.from({ length: 16 }, async () => new ReplyLog(await WsClient.connect(srv, mallory.token))),
    );
    for (const p of pool) p.update();
  });
  afterAll(async () => {
    for (const p of pool) p.ws.close();
    bystanderWs?.close();
    await srv.close();
  });

  /** Send frames on one socket; every frame gets exactly one reply, with the ref it was due. */
  async function storm(frames: string[]): Promise<void> {
    const log = pool[next++ % pool.length]!;
    const before = log.update().length;
    for (const f of frames) log.ws.send(f);
    sent += frames.length;
    await until(() => log.update().length >= before + frames.length || log.ws.closed !== null, 10_000, 'replies');
    expect(log.ws.closed).toBeNull();
    const got = log.replies.slice(before);
    expect(got.length).toBe(frames.length);
    expect(got.map((f) => JSON.stringify(f.ref ?? null)).sort()).toEqual(frames.map(expectedRef).sort());
    for (const r of got) {
      if (r.ok) expect(r).toHaveProperty('data');
      else {
        expect(r.ok).toBe(false);
        expectErrorBody(r.error);
      }
    }
  }

  const batch = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 1, maxLength: 25 });

  it('answers garbage text and arbitrary JSON with exactly one error reply each', async () => {
    const g = frameArbs(() => realIds);
    await fc.assert(
      fc.asyncProperty(batch(fc.oneof(g.junkText, g.jsonValue)), (frames) => storm(frames)),
      { numRuns: 100 },
    );
  });

  it('answers op frames with random data and refs with exactly one reply each, never internal_error', async () => {
    const g = frameArbs(() => realIds);
    await fc.assert(
      fc.asyncProperty(batch(fc.oneof(g.frameObj, g.fieldData, g.nearValid, g.nearValid, g.nearValid)), (frames) =>
        storm(frames),
      ),
      { numRuns: 200 },
    );
  });

  it('survives prototype-pollution keys and deep nesting', async () => {
    const g = frameArbs(() => realIds);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(g.protoFrame, g.protoFrame, g.deep), { minLength: 1, maxLength: 8 }),
        (frames) => storm(frames),
      ),
      { numRuns: 100 },
    );
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).op).toBeUndefined();
  });

  it('after the storm: every socket still answers, the bystander saw nothing, the server is healthy', async () => {
    expect(sent).toBeGreaterThanOrEqual(2_000);
    // No late or duplicate replies arrived after each batch was accounted for. The wait also lets
    // every socket's rate-limit bucket (burst 100, 50/s, charged for every frame) refill.
    await new Promise((r) => setTimeout(r, 2_100));
    for (const p of pool) {
      const settled = p.update().length;
      const pong = await p.ws.request('ping', {});
      expect(pong.error ?? null).toBeNull();
      expect(pong.ok).toBe(true);
      expect(p.update().length).toBe(settled + 1);
    }
    const byst = await bystanderWs.request('ping', {});
    expect(byst.ok).toBe(true);
    // hello, the sync reply, the ping reply: nothing from Mallory's storm.
    expect(bystanderWs.frames.filter((f) => f.ev !== 'hello' && !isReply(f))).toEqual([]);
    expect(bystanderWs.frames.filter(isReply).map((f) => f.ref)).toEqual(['r1', 'r2']);
    expect(bystanderWs.closed).toBeNull();
    const health = await http<{ status: string }>(srv, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    // Carol, a member of Mallory's group, still has a working account.
    expect((await http(srv, 'GET', '/api/v1/me', { token: carol.token })).status).toBe(200);
  });
});

describe('malformed WebSocket frames', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  beforeAll(async () => {
    srv = await startServer();
    [alice, bob, carol] = await Promise.all([makeUser(srv), makeUser(srv), makeUser(srv)]);
  });
  afterAll(() => srv.close());

  it('bad JSON gets bad_json with ref null and the socket stays open', async () => {
    const ws = await WsClient.connect(srv, alice.token);
    ws.send('{"op":"ping","ref":"x"');
    const f = await ws.waitFor((x) => x.ok === false);
    expect(f).toEqual({ ref: null, ok: false, error: { code: 'bad_json', message: expect.any(String) } });
    expect((await ws.request('ping', {})).ok).toBe(true);
    ws.close();
  });

  it('a binary frame gets bad_request', async () => {
    const ws = await WsClient.connect(srv, alice.token);
    ws.ws.send(Buffer.from(JSON.stringify({ op: 'ping', ref: 'bin', data: {} })), { binary: true });
    const f = await ws.waitFor((x) => x.ok === false);
    expect(f.ref).toBeNull();
    expect(f.error?.code).toBe('bad_request');
    expect((await ws.request('ping', {})).ok).toBe(true);
    ws.close();
  });

  it('a frame over maxFrameBytes closes that socket with 1009; others keep being served', async () => {
    const other = await WsClient.connect(srv, bob.token);
    const ws = await WsClient.connect(srv, alice.token);
    const big = JSON.stringify({ op: 'ping', ref: 'big', data: { pad: 'x'.repeat(limits.maxFrameBytes) } });
    ws.send(big);
    expect((await ws.waitClosed(5_000)).code).toBe(1009);
    expect(ws.frames.some((f) => f.ref === 'big')).toBe(false);
    expect((await other.request('ping', {})).ok).toBe(true);
    const again = await WsClient.connect(srv, alice.token);
    expect((await again.request('ping', {})).ok).toBe(true);
    expect((await http(srv, 'GET', '/healthz')).status).toBe(200);
    other.close();
    again.close();
  });

  it('an unknown op, or an HTTP-only op, gets unknown_op', async () => {
    const ws = await WsClient.connect(srv, alice.token);
    for (const op of ['nope', 'message.explode', '__proto__', 'constructor', 'toString', 'auth.login']) {
      const f = await ws.request(op, { username: 'admin', password: 'x' });
      expect(f.error?.code, op).toBe('unknown_op');
    }
    ws.close();
  });

  it('a conversation the user is not in is not found, exactly like one that does not exist', async () => {
    const direct = await http<{ id: string }>(srv, 'POST', '/api/v1/conversations/direct', {
      token: alice.token,
      body: { userId: bob.id },
    });
    await http(srv, 'POST', `/api/v1/conversations/${direct.body.id}/messages`, {
      token: alice.token,
      body: { clientMsgId: clientId(), content: text('private') },
    });
    const ws = await WsClient.connect(srv, carol.token);
    for (const conversationId of [direct.body.id, '0190a6f2-1234-7abc-8def-0123456789ab']) {
      const calls: [string, Record<string, unknown>][] = [
        ['conversation.get', { conversationId }],
        ['conversation.events', { conversationId, after: 0 }],
        ['message.get', { conversationId, seq: 1 }],
        ['message.send', { conversationId, clientMsgId: clientId(), content: text('hi') }],
        ['conversation.read', { conversationId, seq: 1 }],
        ['conversation.focus', { conversationId }],
        ['group.members', { conversationId }],
      ];
      for (const [op, data] of calls) {
        const f = await ws.request(op, data);
        expect(f.error?.code, `${op} ${conversationId}`).toBe('conversation_not_found');
      }
      expectHttpError(
        await http(srv, 'GET', `/api/v1/conversations/${conversationId}`, { token: carol.token }),
        404,
        'conversation_not_found',
      );
    }
    // Nothing reached Carol's socket but her own replies.
    expect(ws.frames.filter((f) => f.ev !== 'hello' && !isReply(f))).toEqual([]);
    ws.close();
  });

  it('a crafted sync token is validation_failed, not internal_error', async () => {
    const craft = (t: unknown) => Buffer.from(JSON.stringify(t)).toString('base64url');
    const ws = await WsClient.connect(srv, alice.token);
    for (const t of [
      { u: 0, t: 0, c: {} },
      { u: 0, t: 0, c: [[]] },
      { u: 0, t: 0, c: ['a', 'b'] },
      { u: 0, t: 0, n: 'x' },
      { u: 0, t: 0, n: {}, c: [1] },
      { u: 'x', t: 0 },
      'not an object',
    ]) {
      const f = await ws.request('sync', { token: craft(t) });
      expect(f.error?.code, JSON.stringify(t)).toBe('validation_failed');
      const r = await http(srv, 'POST', '/api/v1/sync', { token: alice.token, body: { token: craft(t) } });
      expectHttpError(r, 400, 'validation_failed');
    }
    ws.close();
  });

  it('a malformed uuid gets validation_failed with the issues', async () => {
    const ws = await WsClient.connect(srv, alice.token);
    const f = await ws.request('conversation.get', { conversationId: 'not-a-uuid' });
    expect(f.error?.code).toBe('validation_failed');
    const issues = (f.error?.details as { issues: { path: string; message: string }[] }).issues;
    expect(issues).toEqual([expect.objectContaining({ path: 'conversationId', message: expect.any(String) })]);
    const r = await http<ErrorResponse>(srv, 'GET', '/api/v1/conversations/not-a-uuid', { token: alice.token });
    expectHttpError(r, 400, 'validation_failed');
    expect((r.body.error.details as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      'conversationId',
    ]);
    ws.close();
  });
});

describe('malformed HTTP requests', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bystander: TestUser;
  beforeAll(async () => {
    srv = await startServer();
    [alice, bystander] = await Promise.all([makeUser(srv), makeUser(srv)]);
  });
  afterAll(() => srv.close());

  it('invalid JSON is 400 bad_json', async () => {
    for (const body of ['{"name":', '{name: "x"}', "{'a':1}", '\u0000']) {
      expectHttpError(await http(srv, 'POST', '/api/v1/groups', { token: alice.token, body }), 400, 'bad_json');
    }
    expectHttpError(await http(srv, 'POST', '/api/v1/auth/login', { body: '{"username":"a",' }), 400, 'bad_json');
  });

  it('a body over 256 KiB is 413 body_too_large', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(limits.maxBodyBytes + 1) });
    expectHttpError(await http(srv, 'POST', '/api/v1/groups', { token: alice.token, body }), 413, 'body_too_large');
    expectHttpError(
      await http(srv, 'POST', '/api/v1/auth/login', {
        body: { username: 'x'.repeat(limits.maxBodyBytes), password: 'y' },
      }),
      413,
      'body_too_large',
    );
  });

  it('missing or wrong fields are 400 validation_failed with the issues', async () => {
    const r = await http<ErrorResponse>(srv, 'POST', '/api/v1/groups', { token: alice.token, body: {} });
    expectHttpError(r, 400, 'validation_failed');
    const issues = (r.body.error.details as { issues: { path: string; message: string }[] }).issues;
    expect(issues.map((i) => i.path)).toContain('name');
    const login = await http<ErrorResponse>(srv, 'POST', '/api/v1/auth/login', { body: { username: 'admin' } });
    expectHttpError(login, 400, 'validation_failed');
    expect((login.body.error.details as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(
      'password',
    );
    const wrongType = await http<ErrorResponse>(
      srv,
      'POST',
      `/api/v1/conversations/${'0190a6f2-1234-7abc-8def-0123456789ab'}/messages`,
      { token: alice.token, body: { clientMsgId: 'has spaces', content: { text: 42 } } },
    );
    expectHttpError(wrongType, 400, 'validation_failed');
  });

  it('an unknown route or method is a JSON 404 not_found', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nope'],
      ['GET', '/api/v2/me'],
      ['PUT', '/api/v1/me'],
      ['GET', '/api/v1/conversations/x/y/z/w'],
      ['POST', '/../../etc/passwd'],
    ] as const) {
      expectHttpError(await http(srv, method, path, { token: alice.token }), 404, 'not_found');
    }
  });

  it('a body that is not JSON, or JSON that is not an object, is a 400 with the error shape', async () => {
    const plain = await http(srv, 'POST', '/api/v1/groups', {
      token: alice.token,
      body: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(plain.status).toBeGreaterThanOrEqual(400);
    expect(plain.status).toBeLessThan(500);
    expectErrorBody((plain.body as ErrorResponse).error);
    for (const body of ['[]', '"x"', '42', 'null', 'true']) {
      const r = await http(srv, 'POST', '/api/v1/groups', { token: alice.token, body });
      expect(r.status, body).toBe(400);
      expectErrorBody((r.body as ErrorResponse).error);
    }
  });

  it('generated bodies, queries and path parameters on every route get a 2xx or a well-formed 4xx', async () => {
    const routes = Object.entries(ops)
      .filter(([name, d]) => d.http && name !== 'auth.logout')
      .map(([name, d]) => ({ name, ...d.http! }));
    const segment = fc.oneof(
      fc.uuid(),
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.constantFrom(bystander.id, '0', '-1', '1e300', '..', '%00', '__proto__', 'constructor'),
    );
    const bodyArb = fc.oneof(
      fc.object({ maxDepth: 3 }),
      fc.dictionary(
        fc.constantFrom(...fieldNames, ...hostileKeys),
        hostileValue(() => [bystander.id]),
        {
          maxKeys: 6,
        },
      ),
    );
    const queryArb = fc.dictionary(
      fc.constantFrom(...fieldNames, ...hostileKeys),
      fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('1e300', '-1', 'NaN', 'true', '')),
      { maxKeys: 4 },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(segment, { minLength: 4, maxLength: 4 }),
        bodyArb,
        queryArb,
        async (route, segs, body, query) => {
          let i = 0;
          const path = route.path.replace(/:[A-Za-z]+/g, () => encodeURIComponent(segs[i++]!));
          const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
          const qs = new URLSearchParams(query).toString();
          const r = await http<ErrorResponse>(srv, route.method, hasBody ? path : `${path}?${qs}`, {
            token: alice.token,
            ...(hasBody ? { body: objectText(Object.entries(body as object)) } : {}),
          });
          n++;
          expect(r.status, `${route.method} ${path} → ${JSON.stringify(r.body)}`).toBeLessThan(500);
          if (r.status >= 400) {
            expect(Object.keys(r.body)).toEqual(['error']);
            expectErrorBody(r.body.error);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(n).toBeGreaterThanOrEqual(300);
    // Alice's session survived it all, and the bystander's account is untouched.
    expect((await http(srv, 'GET', '/api/v1/me', { token: alice.token })).status).toBe(200);
    const list = await http<OpOutput<'conversation.list'>>(srv, 'GET', '/api/v1/conversations', {
      token: bystander.token,
    });
    expect(list.status).toBe(200);
  });
});

describe('nothing half-written', () => {
  let srv: TestServer;
  let owner: TestUser;
  let member: TestUser;
  beforeAll(async () => {
    srv = await startServer();
    [owner, member] = await Promise.all([makeUser(srv), makeUser(srv)]);
  });
  afterAll(() => srv.close());

  it('a rejected send leaves the conversation head unchanged and the next send takes the next seq', async () => {
    const ws = await WsClient.connect(srv, owner.token);
    const group = await ws.call('group.create', { name: 'audit', memberIds: [member.id] });
    const first = await ws.call('message.send', {
      conversationId: group.id,
      clientMsgId: clientId(),
      content: text('one'),
    });
    const head = async () => (await ws.call('conversation.get', { conversationId: group.id })).lastSeq;
    const start = await head();
    expect(start).toBe(first.seq);

    const tooMany = Array.from({ length: limits.maxMentions + 1 }, () => member.id);
    const rejected = await ws.request('message.send', {
      conversationId: group.id,
      clientMsgId: clientId(),
      content: text('@everyone?'),
      mentions: tooMany,
    });
    expect(rejected.error?.code).toBe('validation_failed');
    expect((rejected.error?.details as { issues: { path: string }[] }).issues.some((i) => i.path === 'mentions')).toBe(
      true,
    );
    expect(await head()).toBe(start);

    // A check that fails inside the transaction, after the counter row was touched, rolls back too.
    const badQuote = await ws.request('message.send', {
      conversationId: group.id,
      clientMsgId: clientId(),
      content: text('re: nothing'),
      replyToSeq: 999,
    });
    expect(badQuote.error?.code).toBe('message_not_found');
    const badMention = await ws.request('message.send', {
      conversationId: group.id,
      clientMsgId: clientId(),
      content: text('hi'),
      mentions: ['not-a-uuid'],
    });
    expect(badMention.error?.code).toBe('validation_failed');
    expect(await head()).toBe(start);

    const next = await ws.call('message.send', {
      conversationId: group.id,
      clientMsgId: clientId(),
      content: text('two'),
    });
    expect(next.seq).toBe(start + 1);
    const hist = await http<{ events: { seq: number; type: string }[] }>(
      srv,
      'GET',
      `/api/v1/conversations/${group.id}/events?after=0`,
      { token: member.token },
    );
    const seqs = hist.body.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(hist.body.events.filter((e) => e.type === 'message.created')).toHaveLength(2);
    ws.close();
  });
});
