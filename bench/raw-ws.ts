/**
 * A WebSocket client for the load generator, written on `net` directly (RFC 6455, client side):
 * the upgrade request is one pre-built string and the 101 response is checked for its status line
 * and the accept value of the process's key. The `ws` client (an `http.ClientRequest`, Node's
 * HTTP parser and the events around them for every socket) cost the generator more CPU per login
 * than the server spent answering it, and generator and server share the machine's two cores.
 *
 * What it speaks: text frames out (masked, as a client must), text/binary frames in (unmasked,
 * continuation frames joined), ping answered by pong, close answered and reported with its code.
 * Tested against the server in packages/server/test/bench-raw-ws.test.ts.
 */
import crypto from 'node:crypto';
import net from 'node:net';

/** One key per process: the server checks only its form; the accept value is computed once. */
const KEY = crypto.randomBytes(16).toString('base64');
const ACCEPT = crypto
  .createHash('sha1')
  .update(KEY + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
  .digest('base64');

/** Masks are taken from a pool refilled 64 KiB at a time (a random draw per frame costs a syscall). */
let pool = Buffer.alloc(0);
let poolAt = 0;
function maskKey(): Buffer {
  if (poolAt + 4 > pool.length) {
    pool = crypto.randomBytes(65_536);
    poolAt = 0;
  }
  poolAt += 4;
  return pool.subarray(poolAt - 4, poolAt);
}

const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BIN = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** A client frame: FIN, the opcode, the masked payload. */
function frame(op: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + n);
  out[0] = 0x80 | op;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65_536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = maskKey();
  mask.copy(out, head);
  const at = head + 4;
  for (let i = 0; i < n; i++) out[at + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

export interface RawWsOptions {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  localAddress?: string;
}

export class RawWs {
  /** Set once the socket is gone (closed by either side or destroyed). */
  closed = false;
  onmessage: (data: Buffer) => void = () => {};
  onerror: (e: Error) => void = () => {};
  /** Called once, with the close code the server sent (1006 when the connection just ended). */
  onclose: (code: number) => void = () => {};

  private readonly socket: net.Socket;
  private upgraded = false;
  private buf: Buffer | null = null;
  private fragments: Buffer[] = [];
  private closeCode = 1006;

  constructor(o: RawWsOptions) {
    const headers = Object.entries(o.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const request =
      `GET ${o.path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n${headers}\r\n`;
    this.socket = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress, noDelay: true });
    this.socket.on('connect', () => this.socket.write(request));
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (e) => this.onerror(e));
    this.socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.onclose(this.closeCode);
    });
  }

  send(text: string): void {
    if (!this.closed && this.upgraded) this.socket.write(frame(OP_TEXT, Buffer.from(text)));
  }

  /** Starts the closing handshake; the socket ends when the server answers (or on terminate()). */
  close(code = 1000): void {
    if (this.closed) return;
    const p = Buffer.allocUnsafe(2);
    p.writeUInt16BE(code);
    if (this.upgraded) this.socket.write(frame(OP_CLOSE, p));
    else this.socket.destroy();
  }

  terminate(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    let b = this.buf ? Buffer.concat([this.buf, d]) : d;
    this.buf = null;
    if (!this.upgraded) {
      const end = b.indexOf('\r\n\r\n');
      if (end < 0) {
        if (b.length > 16_384) return this.fail(new Error('upgrade response too long'));
        this.buf = b;
        return;
      }
      const head = b.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 101')) return this.fail(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      if (!head.includes(ACCEPT)) return this.fail(new Error('upgrade response without the expected accept value'));
      this.upgraded = true;
      b = b.subarray(end + 4);
    }
    let at = 0;
    while (b.length - at >= 2) {
      const b0 = b[at]!;
      const b1 = b[at + 1]!;
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (b.length - at < 4) break;
        len = b.readUInt16BE(at + 2);
        head = 4;
      } else if (len === 127) {
        if (b.length - at < 10) break;
        len = Number(b.readBigUInt64BE(at + 2));
        head = 10;
      }
      if (b1 & 0x80) return this.fail(new Error('the server sent a masked frame'));
      if (b.length - at < head + len) break;
      const payload = b.subarray(at + head, at + head + len);
      at += head + len;
      this.onFrame(b0 & 0x80 ? true : false, b0 & 0x0f, payload);
      if (this.closed) return;
    }
    if (at < b.length) this.buf = Buffer.from(b.subarray(at)); // keep the partial frame, not the chunk
  }

  private onFrame(fin: boolean, op: number, payload: Buffer): void {
    switch (op) {
      case OP_TEXT:
      case OP_BIN:
      case OP_CONT:
        if (!fin) {
          this.fragments.push(Buffer.from(payload));
          return;
        }
        if (this.fragments.length) {
          this.fragments.push(payload);
          payload = Buffer.concat(this.fragments);
          this.fragments = [];
        }
        this.onmessage(payload);
        return;
      case OP_PING:
        this.socket.write(frame(OP_PONG, payload));
        return;
      case OP_PONG:
        return;
      case OP_CLOSE:
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.socket.end(frame(OP_CLOSE, payload.subarray(0, 2)));
        return;
      default:
        this.fail(new Error(`unknown opcode ${op}`));
    }
  }

  private fail(e: Error): void {
    this.onerror(e);
    this.socket.destroy();
  }
}
