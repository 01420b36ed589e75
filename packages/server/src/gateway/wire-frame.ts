/**
 * A server-to-client WebSocket text frame (RFC 6455 §5.2: FIN, opcode 1, unmasked, one fragment),
 * encoded once and written as it is to every socket it goes to. Through `ws.send` each socket paid
 * for the frame again — the UTF-8 length and encoding, a header, and two chunks to `writev` — which
 * a fan-out to thousands of sockets repeats thousands of times. The server never negotiates
 * permessage-deflate (ws-upgrade.ts), so ws's sender never queues: a frame written straight to the
 * TCP socket keeps its place among those ws writes (pings, close frames).
 */
export class WireFrame {
  private encoded: Buffer | null = null;

  constructor(readonly text: string) {}

  /** The whole frame, header and payload, built at the first write. */
  get bytes(): Buffer {
    return (this.encoded ??= encodeTextFrame(this.text));
  }
}

export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const head = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x81;
  if (head === 2) frame[1] = length;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, head, 'utf8');
  return frame;
}
