import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { WireFrame } from './wire-frame.ts';

/**
 * Frames encoded once and written straight to the TCP socket (the hub's fan-out) must read back as
 * the same text in a real WebSocket client, whatever header the payload's length needs — including
 * multi-byte UTF-8, whose byte length differs from its string length — and keep their order among
 * frames ws itself sends.
 */
describe('WireFrame', () => {
  let wss: WebSocketServer;
  let url: string;
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => wss.close(r)));

  async function roundTrip(texts: string[], viaWs: Set<number> = new Set()): Promise<string[]> {
    const client = new WebSocket(url);
    const got: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.on('message', (data, isBinary) => {
        expect(isBinary).toBe(false);
        got.push(data.toString('utf8'));
        if (got.length === texts.length) resolve();
      });
      client.on('error', reject);
      client.on('close', (code) => reject(new Error(`closed ${code}`)));
    });
    const server = await new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
    const tcp = (server as unknown as { _socket: Socket })._socket;
    texts.forEach((t, i) => (viaWs.has(i) ? server.send(t) : tcp.write(new WireFrame(t).bytes)));
    await done;
    client.removeAllListeners('close');
    client.close();
    return got;
  }

  it('reads back the same text at every header length', async () => {
    const texts = [
      '',
      'x',
      'a'.repeat(125),
      'a'.repeat(126),
      '汉'.repeat(42), // 126 bytes in UTF-8, 42 characters
      'b'.repeat(65_535),
      'c'.repeat(65_536),
      '字'.repeat(30_000), // 90,000 bytes: the 8-byte length
      JSON.stringify({ ev: 'conv', data: { text: '你好 🌏 "quoted" \\ done' } }),
    ];
    expect(await roundTrip(texts)).toEqual(texts);
  });

  it('keeps its place among frames sent through ws', async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `frame ${i} ${'é'.repeat(i * 10)}`);
    const viaWs = new Set([0, 3, 4, 9, 15, 19]);
    expect(await roundTrip(texts, viaWs)).toEqual(texts);
  });

  it('encodes once however many sockets it goes to', () => {
    const f = new WireFrame('{"ev":"conv"}');
    expect(f.bytes).toBe(f.bytes);
    expect(f.bytes.length).toBe(2 + 13);
  });
});
