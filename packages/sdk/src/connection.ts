import {
  closeCodes,
  EnclaveError,
  HelloData,
  type ErrorBody,
  type ServerEventData,
  type ServerEventName,
} from '@enclave/protocol';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { TypedEmitter } from './emitter.ts';
import { websocketUrl, WS_OPEN, type WebSocketConstructor, type WebSocketLike } from './websocket.ts';

/**
 * The connection as the UI can show it (STYLE 6). `connecting` is the first attempt only; after a
 * drop the state stays `reconnecting` until the next socket has authenticated, so a flapping
 * network does not make the indicator flicker.
 */
export type ConnectionState =
  'idle' | 'connecting' | 'authenticating' | 'syncing' | 'ready' | 'reconnecting' | 'failed' | 'closed';

export type Hello = ServerEventData<'hello'>;

export type ReplyFrame =
  { ref: string | number; ok: true; data: unknown } | { ref: string | number | null; ok: false; error: ErrorBody };
export interface EventFrame {
  ev: ServerEventName;
  data: unknown;
}

export interface ConnectionEvents {
  state: { state: ConnectionState; previous: ConnectionState };
  /** The server greeted an authenticated socket; `synchronize` runs next. */
  hello: Hello;
  /** A reply to a request (`{ref, ok, …}`), except the SDK's own heartbeat and auth frames. */
  reply: ReplyFrame;
  /** A server event other than `hello`. */
  event: EventFrame;
  /** The socket went away (any cause); pending requests should fail. */
  disconnected: { code: number; reason: string };
  /** The server rejected or revoked the credentials; the connection is `failed` and will not retry. */
  'auth-lost': { code: number; reason: string };
}

export interface ConnectionOptions {
  baseUrl: string;
  WebSocket: WebSocketConstructor;
  /** The bearer token, read at every attempt; undefined when the browser's cookie authenticates. */
  getToken?: () => string | undefined;
  /** True when the constructor can send an `Authorization` header on the upgrade (ws in Node). */
  headerAuth?: boolean;
  /** Runs in `syncing` after hello; the connection becomes `ready` when it resolves. */
  synchronize?: (hello: Hello) => Promise<void>;
  backoff?: BackoffOptions;
  /** A connection ready this long resets the backoff (default 10 s). */
  stableMs?: number;
  /** Give up on an attempt that has no hello after this long (default 15 s). */
  connectTimeoutMs?: number;
  /** Heartbeat when hello does not say (default 25 s). */
  heartbeatMs?: number;
}

const AUTH_REF = 'auth';
const PING_PREFIX = 'hb:';
const CLIENT_DROP = 4000;
/** `closing` reasons after which the credentials are gone. */
const AUTH_LOST_REASONS = new Set(['revoked', 'logout', 'disabled', 'password_changed']);

/**
 * One WebSocket per device with an explicit state machine, heartbeat and reconnect with full-jitter
 * backoff. It knows frames but not ops: requests and events are wired by the client.
 */
export class Connection extends TypedEmitter<ConnectionEvents> {
  private current: ConnectionState = 'idle';
  private ws: WebSocketLike | null = null;
  private readonly backoff: Backoff;
  private closingReason: string | null = null;
  private lastFrameAt = 0;
  private heartbeatMs: number;
  private pingSeq = 0;
  private timers: {
    reconnect?: ReturnType<typeof setTimeout>;
    connect?: ReturnType<typeof setTimeout>;
    watchdog?: ReturnType<typeof setTimeout>;
    stable?: ReturnType<typeof setTimeout>;
    heartbeat?: ReturnType<typeof setInterval>;
  } = {};

  constructor(private readonly options: ConnectionOptions) {
    super();
    this.backoff = new Backoff(options.backoff);
    this.heartbeatMs = options.heartbeatMs ?? 25_000;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** True while a socket is open (authenticating, syncing or ready): frames can be sent. */
  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WS_OPEN;
  }

  /**
   * Start connecting (from idle, failed or closed); a no-op while already running.
   * Fires `state` (connecting → authenticating → syncing → ready), `hello`, and later
   * `disconnected`, `auth-lost`. Throws nothing; failures show as states.
   */
  connect(): void {
    if (this.current !== 'idle' && this.current !== 'failed' && this.current !== 'closed') return;
    this.backoff.reset();
    this.closingReason = null;
    this.setState('connecting');
    this.open();
  }

  /** Close for good (no reconnect). Fires `disconnected` (if a socket was open) and `state: closed`. */
  close(): void {
    if (this.current === 'closed') return;
    this.setState('closed');
    this.teardown(1000, 'client closed');
  }

  /**
   * Send one frame. Returns false when no socket is open (the caller decides whether to fail).
   */
  send(frame: unknown): boolean {
    if (!this.ws || this.ws.readyState !== WS_OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Drop the current socket and reconnect with backoff (used on protocol trouble, e.g. a failed sync). */
  reconnect(reason: string): void {
    if (!this.ws) return;
    this.teardown(CLIENT_DROP, reason);
  }

  private open(): void {
    const token = this.options.getToken?.();
    const url = websocketUrl(this.options.baseUrl);
    let ws: WebSocketLike;
    try {
      ws =
        token && this.options.headerAuth
          ? new this.options.WebSocket(url, undefined, { headers: { Authorization: `Bearer ${token}` } })
          : new this.options.WebSocket(url);
    } catch {
      // An invalid URL is a configuration error no retry can fix.
      this.setState('failed');
      return;
    }
    this.ws = ws;
    this.closingReason = null;
    this.timers.connect = setTimeout(() => this.reconnect('connect timeout'), this.options.connectTimeoutMs ?? 15_000);
    ws.onopen = () => {
      this.setState('authenticating');
      this.lastFrameAt = Date.now();
      if (token && !this.options.headerAuth) ws.send(JSON.stringify({ op: 'auth', ref: AUTH_REF, data: { token } }));
    };
    ws.onmessage = (ev) => this.onFrame(ev.data);
    ws.onclose = (ev) => {
      if (this.ws === ws) this.teardown(ev.code, ev.reason);
    };
    // An error is always followed by close; nothing to do here but keep it from being unhandled.
    ws.onerror = () => {};
  }

  private onFrame(raw: unknown): void {
    this.lastFrameAt = Date.now();
    let frame: unknown;
    try {
      frame = JSON.parse(typeof raw === 'string' ? raw : String(raw));
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    const f = frame as Record<string, unknown>;
    if (typeof f.ev === 'string') {
      if (f.ev === 'hello') this.onHello(f.data);
      else {
        if (f.ev === 'closing') this.closingReason = String((f.data as { reason?: unknown } | undefined)?.reason);
        this.emit('event', { ev: f.ev as ServerEventName, data: f.data });
      }
      return;
    }
    if (typeof f.ok !== 'boolean' || !('ref' in f)) return;
    const ref = f.ref;
    if (typeof ref === 'string' && ref.startsWith(PING_PREFIX)) return;
    if (ref === AUTH_REF) {
      if (f.ok === false) this.authLost(closeCodes.unauthenticated, 'auth frame rejected');
      return;
    }
    this.emit('reply', frame as ReplyFrame);
  }

  private onHello(data: unknown): void {
    const parsed = HelloData.safeParse(data);
    if (!parsed.success) return this.reconnect('malformed hello');
    const ws = this.ws;
    clearTimeout(this.timers.connect);
    const hello = parsed.data;
    this.heartbeatMs = hello.heartbeatMs > 0 ? hello.heartbeatMs : (this.options.heartbeatMs ?? 25_000);
    this.setState('syncing');
    this.startHeartbeat();
    this.emit('hello', hello);
    const done = this.options.synchronize ? this.options.synchronize(hello) : Promise.resolve();
    done.then(
      () => {
        if (this.ws !== ws || this.current !== 'syncing') return;
        this.setState('ready');
        this.timers.stable = setTimeout(() => this.backoff.reset(), this.options.stableMs ?? 10_000);
      },
      (err: unknown) => {
        if (this.ws !== ws) return;
        if (err instanceof EnclaveError && err.code === 'unauthenticated') {
          this.authLost(closeCodes.unauthenticated, err.message);
        } else this.reconnect('sync failed');
      },
    );
  }

  private startHeartbeat(): void {
    clearInterval(this.timers.heartbeat);
    this.timers.heartbeat = setInterval(() => {
      this.send({ op: 'ping', ref: `${PING_PREFIX}${++this.pingSeq}`, data: {} });
    }, this.heartbeatMs);
    this.armWatchdog(2 * this.heartbeatMs);
  }

  /** Fires when no frame arrived for 2× heartbeat; re-arms itself for the remainder otherwise. */
  private armWatchdog(delay: number): void {
    clearTimeout(this.timers.watchdog);
    this.timers.watchdog = setTimeout(() => {
      const silent = Date.now() - this.lastFrameAt;
      const limit = 2 * this.heartbeatMs;
      if (silent >= limit) this.reconnect('heartbeat timeout');
      else this.armWatchdog(limit - silent);
    }, delay);
  }

  private authLost(code: number, reason: string): void {
    this.setState('failed');
    this.teardown(code, reason);
  }

  /** Detach and close the socket, then decide what comes next from the close code and state. */
  private teardown(code: number, reason: string): void {
    for (const t of [this.timers.connect, this.timers.watchdog, this.timers.stable, this.timers.reconnect]) {
      clearTimeout(t);
    }
    clearInterval(this.timers.heartbeat);
    this.timers = {};
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      if (ws.readyState <= WS_OPEN) {
        try {
          ws.close(code >= 4000 || code === 1000 ? code : 1000, reason.slice(0, 120));
        } catch {
          // Closing a socket that is still connecting throws in some environments; it is gone anyway.
        }
      }
      this.emit('disconnected', { code, reason });
    }
    if (this.current === 'closed') return;
    const lost =
      code === closeCodes.unauthenticated ||
      code === closeCodes.revoked ||
      (this.closingReason !== null && AUTH_LOST_REASONS.has(this.closingReason));
    if (lost || this.current === 'failed') {
      this.setState('failed');
      this.emit('auth-lost', { code, reason: this.closingReason ?? reason });
      return;
    }
    if (code === closeCodes.originNotAllowed) return this.setState('failed');
    this.setState('reconnecting');
    this.timers.reconnect = setTimeout(() => this.open(), this.backoff.next());
  }

  private setState(next: ConnectionState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.emit('state', { state: next, previous });
  }
}
