/**
 * Monitoring endpoints of one node: `/metrics` in Prometheus text format counts what a user did
 * (a socket, a message in, a frame out, fan-out latency), `/readyz` reports the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientId, http, makeUser, startServer, text, WsClient, type TestServer } from './harness.ts';

const value = (body: string, name: string): number => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(body);
  return m ? Number(m[1]) : NaN;
};

describe('metrics and readiness', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv.close();
  });

  it('/readyz reports the store; /metrics counts sockets, writes, frames and fan-out latency', async () => {
    const ready = await http<{ status: string; store: string; storeUp: boolean }>(srv, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', store: 'sqlite', storeUp: true });

    const first = await http<string>(srv, 'GET', '/metrics');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/plain');
    expect(value(first.body, 'enclave_connections')).toBe(0);

    const [alice, bob] = [await makeUser(srv), await makeUser(srv)];
    const a = await WsClient.connect(srv, alice.token);
    const b = await WsClient.connect(srv, bob.token);
    const conv = await a.call('conversation.openDirect', { userId: bob.id });
    await a.call('message.send', { conversationId: conv.id, clientMsgId: clientId(), content: text('你好 metrics') });
    await b.waitFor((f) => f.ev === 'conv' && (f.data as { type: string }).type === 'message.created');

    const m = await http<string>(srv, 'GET', '/metrics');
    expect(value(m.body, 'enclave_connections')).toBe(2);
    expect(value(m.body, 'enclave_writes_total')).toBeGreaterThanOrEqual(1);
    expect(value(m.body, 'enclave_frames_out_total')).toBeGreaterThanOrEqual(2);
    expect(value(m.body, 'enclave_fanout_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value(m.body, 'enclave_store_commit_seconds_count')).toBeGreaterThanOrEqual(1);
    // SQLite: the send's acknowledgement waited for a WAL fsync, timed on its own.
    expect(value(m.body, 'enclave_store_wal_sync_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value(m.body, 'enclave_store_wal_sync_seconds_sum')).toBeGreaterThan(0);
    expect(value(m.body, 'enclave_event_loop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.body).toContain('process_cpu_seconds_total');
    // Single node: no Redis metrics.
    expect(m.body).not.toContain('enclave_redis_up');
    a.close();
    b.close();
  });
});
