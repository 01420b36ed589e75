import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { fastifyCookie } from '@fastify/cookie';
import { WebSocketServer, type WebSocket } from 'ws';
import { corkForThisTurn } from './coalesce.ts';

/** The parts of an upgrade request the socket handler reads (headers and parsed cookies). */
export interface UpgradeRequest {
  headers: IncomingMessage['headers'];
  cookies: Record<string, string | undefined>;
}

/**
 * WebSocket upgrades on `path`, handled by `ws` directly on the HTTP server instead of through a
 * Fastify route. A routed upgrade keeps Fastify's request, reply, response and per-request logger
 * alive for the socket's whole life (~2.5 KB and a dozen objects per connection in a heap snapshot
 * of 3,000 idle sockets) and runs the request lifecycle on every connect; here the request is
 * dropped once the handler has read its headers. `accept()` refusing → 503 with Retry-After (a
 * draining node: 1 s; too many logins pending: 1–4 s, spread so the retries do not arrive together).
 * The socket is corked for the rest of the turn, so the 101 response and the frames a token sign-in
 * answers with (hello) leave in one write instead of two; `ws` does not track the sockets itself
 * (app.ts does).
 */
export function attachWebSocket(
  http: FastifyInstance,
  opts: {
    path: string;
    maxPayload: number;
    /** null to accept; otherwise why not: 'draining' (this node is stopping) or 'busy' (too many pending logins). */
    accept: () => 'draining' | 'busy' | null;
    /** `socket`: the connection under the WebSocket (the writes to it are coalesced per turn). */
    onSocket: (ws: WebSocket, req: UpgradeRequest, socket: Socket) => void;
  },
): { close(): void } {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const refuse = (socket: Duplex, status: string, retryAfterSecs = 1) => {
    socket.end(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nRetry-After: ${retryAfterSecs}\r\nContent-Length: 0\r\n\r\n`,
    );
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== opts.path) return refuse(socket, '404 Not Found');
    const refusal = opts.accept();
    if (refusal)
      return refuse(socket, '503 Service Unavailable', refusal === 'busy' ? 1 + Math.floor(Math.random() * 4) : 1);
    corkForThisTurn(socket as Socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const cookieHeader = req.headers.cookie;
      opts.onSocket(
        ws,
        {
          headers: req.headers,
          cookies: cookieHeader ? (fastifyCookie.parse(cookieHeader) as Record<string, string | undefined>) : {},
        },
        socket as Socket,
      );
    });
  };
  http.server.on('upgrade', onUpgrade);
  return {
    close() {
      http.server.off('upgrade', onUpgrade);
      wss.close();
    },
  };
}
