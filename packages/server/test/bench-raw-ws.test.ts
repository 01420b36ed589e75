// The load generator's own WebSocket client (bench/raw-ws.ts) against the real server: the
// benchmarks are only as true as the protocol their client speaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawWs } from '../../../bench/raw-ws.ts';
import { closeCodes, limits } from '@enclave/protocol';
import { makeUser, startServer, type TestServer, type TestUser } from './harness.ts';

let srv: TestServer;
let alice: TestUser;

beforeAll(async () => {
  // Pings every 100 ms: a client that did not answer them would be cut within the test.
  srv = await startServer({ config: { heartbeatMs: 100 } });
  alice = await makeUser(srv);
});
afterAll(async () => srv?.close());

interface Session {
  ws: RawWs;
  frames: Record<string, unknown>[];
  /** Payload bytes of each frame received. */
  sizes: number[];
  closed: Promise<number>;
  errors: Error[];
  waitFor(pred: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function open(token: string): Session {
  const url = new URL(srv.url);
  const ws = new RawWs({
    host: url.hostname,
    port: Number(url.port),
    path: '/api/v1/ws',
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: Record<string, unknown>[] = [];
  const sizes: number[] = [];
  const errors: Error[] = [];
  const waiters = new Set<() => void>();
  ws.onmessage = (d) => {
    sizes.push(d.length);
    frames.push(JSON.parse(d.toString('utf8')) as Record<string, unknown>);
    for (const w of [...waiters]) w();
  };
  ws.onerror = (e) => errors.push(e);
  const closed = new Promise<number>((resolve) => {
    ws.onclose = (code) => {
      resolve(code);
      for (const w of [...waiters]) w();
    };
  });
  return {
    ws,
    frames,
    sizes,
    closed,
    errors,
    waitFor: (pred) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const f = frames.find(pred);
          if (f) {
            waiters.delete(check);
            resolve(f);
          } else if (ws.closed) {
            waiters.delete(check);
            reject(new Error(`closed before the frame came; errors: ${errors.map((e) => e.message).join('; ')}`));
          }
        };
        waiters.add(check);
        check();
      }),
  };
}

describe('the load generator’s WebSocket client', () => {
  it('signs in, answers the server’s pings, reads frames of both short length encodings, sends a long one', async () => {
    const s = open(alice.token);
    const hello = await s.waitFor((f) => f.ev === 'hello');
    expect(hello.data).toMatchObject({ heartbeatMs: 100 });

    s.ws.send(JSON.stringify({ op: 'sync', ref: 's', data: {} }));
    expect(await s.waitFor((f) => f.ref === 's')).toMatchObject({ ok: true });

    // Seven heartbeats later the socket is still open and answering: every ping had its pong.
    await new Promise((r) => setTimeout(r, 700));
    expect(s.ws.closed).toBe(false);

    // Frames of both short length encodings came in (≤ 125 bytes, and 126–65,535 with a 16-bit length).
    s.ws.send(JSON.stringify({ op: 'ping', ref: 'p', data: {} }));
    expect(await s.waitFor((f) => f.ref === 'p')).toMatchObject({ ok: true });
    expect(Math.min(...s.sizes)).toBeLessThanOrEqual(125);
    expect(Math.max(...s.sizes)).toBeGreaterThan(125);
    expect(s.errors).toEqual([]);

    // A frame over 64 KiB goes out with a 64-bit length; the server's limit refuses it with its code.
    s.ws.send(JSON.stringify({ op: 'ping', ref: 'big', data: { pad: 'y'.repeat(limits.maxFrameBytes + 10) } }));
    expect(await s.closed).toBe(closeCodes.frameTooLarge);
  });

  it('reports the server’s close code for a token it refuses', async () => {
    const s = open('not-a-token');
    expect(await s.closed).toBe(closeCodes.unauthenticated);
    expect(s.frames.filter((f) => f.ev === 'hello')).toEqual([]);
  });

  it('reports a refused upgrade as an error', async () => {
    const url = new URL(srv.url);
    const ws = new RawWs({ host: url.hostname, port: Number(url.port), path: '/no/such/socket', headers: {} });
    const errors: Error[] = [];
    ws.onerror = (e) => errors.push(e);
    const code = await new Promise<number>((resolve) => (ws.onclose = resolve));
    expect(code).toBe(1006);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^upgrade refused: HTTP\/1.1 404/)]);
  });

  it('closes with code 1000 when asked to', async () => {
    const s = open(alice.token);
    await s.waitFor((f) => f.ev === 'hello');
    s.ws.close(1000);
    expect(await s.closed).toBe(1000);
  });
});
