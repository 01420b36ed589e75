import type { WebSocket } from 'ws';
import type { Socket } from 'node:net';
import {
  AuthFrameData,
  ClientFrame,
  closeCodes,
  EnclaveError,
  ops,
  type ErrorBody,
  type OpDef,
  type OpName,
} from '@enclave/protocol';
import type { Deps, Viewer } from '../domain/deps.ts';
import { authenticate, authenticateSocket } from '../domain/accounts/authenticate.ts';
import { allowedBeforePasswordChange, handlers } from './handlers.ts';
import { checkAccess } from './http.ts';
import type { Hub, HubSocket } from './hub.ts';
import type { PresenceSocket } from '../domain/presence/presence.ts';
import { toErrorBody } from './errors.ts';
import { corkForThisTurn } from './coalesce.ts';
import { encodeTextFrame, type WireFrame } from './wire-frame.ts';

/** Outbound bytes a socket may have queued before volatile frames are dropped (closing: config). */
const VOLATILE_DROP_BYTES = 1 << 20;
/** Frames kept for a socket while its first sync is answered. */
const PENDING_MAX = 2_000;

/**
 * Sign-in deadlines of one server's sockets, earliest first. They all share one timeout, so a single
 * timer armed for the earliest serves every socket: one signing in by token (at once) creates and
 * clears no timer of its own.
 */
class AuthDeadlines {
  private queue: (Connection | null)[] = [];
  private due: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly timeoutMs: number) {}

  add(c: Connection): void {
    this.queue.push(c);
    this.due.push(performance.now() + this.timeoutMs); // monotonic, like the timers it replaces
    if (!this.timer) this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.due[this.head]! - performance.now()));
    this.timer.unref(); // the sockets keep the process alive, not their deadlines
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head < this.queue.length && this.due[this.head]! <= now) {
      const c = this.queue[this.head]!;
      this.queue[this.head++] = null;
      c.authDeadline();
    }
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.due = this.due.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.queue.length) this.arm();
  }
}

const deadlines = new WeakMap<Deps, AuthDeadlines>();

/**
 * One WebSocket: authentication (at upgrade or by a first `auth` frame within the timeout), frame
 * validation, per-socket rate limit, dispatch to the op table, and live delivery — held back until
 * the socket's first sync reply is sent (subscribe, then read, then replay).
 */
export class Connection implements HubSocket, PresenceSocket {
  viewer!: Viewer;
  /** Whether anyone followed the user at sign-in (PresenceSocket). */
  followed = true;
  focus: number | null = null;
  alive = true;
  /** Last frame or pong from the client: presence's 90 s rule reads it. */
  lastSeenAt = Date.now();
  private authed = false;
  private settled = false;
  private synced = false;
  private overflowed = false;
  private pending: (string | WireFrame)[] | null = [];
  /** Kept to refresh the viewer when a forced password change may have been made since auth. */
  private sessionToken: string | null = null;
  private tokens = 100;
  private lastRefill = Date.now();

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: Deps,
    private readonly hub: Hub,
    token: string | null,
    /** The TCP socket under `ws`, when known: writes to it are coalesced per event-loop turn. */
    private readonly tcp: Socket | null = null,
    /** Counts this socket while it is not yet authenticated (admission control, app.ts). */
    private readonly admission: { pending: number } | null = null,
  ) {
    if (admission) admission.pending++;
    let d = deadlines.get(deps);
    if (!d) deadlines.set(deps, (d = new AuthDeadlines(deps.config.authTimeoutMs)));
    d.add(this);
    ws.on('message', (data, isBinary) => void this.onMessage(data as Buffer, isBinary));
    ws.on('pong', () => {
      this.alive = true;
      this.lastSeenAt = Date.now();
    });
    ws.on('close', () => this.onClose());
    ws.on('error', () => undefined);
    if (token) void this.authenticate(token, null);
  }

  private async authenticate(token: string, ref: string | number | null): Promise<void> {
    try {
      // One statement: the session, the user the hello frame shows, and whether anyone follows them.
      const { viewer, user, followed } = await authenticateSocket(this.deps, token);
      if (this.ws.readyState !== this.ws.OPEN) return;
      this.viewer = viewer;
      this.followed = followed;
      this.sessionToken = token;
      this.authed = true;
      this.admitted();
      this.hub.add(this);
      this.deps.presence.attach(this).catch((err: unknown) => this.deps.log.error({ err }, 'presence attach failed'));
      if (ref !== null) this.reply(ref, { ok: true });
      this.raw(
        JSON.stringify({
          ev: 'hello',
          data: {
            user,
            sessionId: viewer.sessionUid,
            deviceId: viewer.deviceUid,
            serverTime: this.deps.now(),
            heartbeatMs: this.deps.config.heartbeatMs,
            mustChangePassword: viewer.mustChangePassword,
          },
        }),
      );
    } catch (e) {
      const { body } = toErrorBody(e, this.deps.log);
      this.raw(JSON.stringify({ ref, ok: false, error: body }));
      this.ws.close(closeCodes.unauthenticated, body.code);
    }
  }

  private takeToken(): boolean {
    const now = Date.now();
    this.tokens = Math.min(100, this.tokens + ((now - this.lastRefill) / 1000) * 50);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    let ref: string | number | null = null;
    this.lastSeenAt = Date.now();
    try {
      if (isBinary) throw new EnclaveError('bad_request', 'Frames are JSON text.');
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString('utf8'));
      } catch {
        throw new EnclaveError('bad_json');
      }
      const maybeRef = (parsed as { ref?: unknown } | null)?.ref;
      if (typeof maybeRef === 'string' && maybeRef.length <= 64) ref = maybeRef;
      else if (typeof maybeRef === 'number' && Number.isInteger(maybeRef)) ref = maybeRef;
      // Charged before validation, so a flood of malformed frames is limited too.
      if (!this.takeToken()) throw new EnclaveError('rate_limited');
      const frame = ClientFrame.safeParse(parsed);
      if (!frame.success) throw new EnclaveError('validation_failed', 'A frame is {op, ref, data}.');
      const { op } = frame.data;
      if (op === 'auth') {
        if (this.authed) return this.reply(ref, { ok: true });
        const d = AuthFrameData.safeParse(frame.data.data);
        if (!d.success) throw new EnclaveError('validation_failed', 'auth needs {token}.');
        return await this.authenticate(d.data.token, ref);
      }
      if (!this.authed) throw new EnclaveError('unauthenticated', 'Send {op:"auth"} first.');
      // Own keys only: `__proto__`, `constructor` or `toString` must not resolve to Object.prototype.
      const def = Object.hasOwn(ops, op) ? (ops as Record<string, OpDef>)[op] : undefined;
      if (!def || def.ws === false || !Object.hasOwn(handlers, op))
        throw new EnclaveError('unknown_op', `Unknown operation "${op}".`);
      if (this.viewer.mustChangePassword && !allowedBeforePasswordChange.has(op as OpName) && this.sessionToken) {
        // The password may have been changed since this socket authenticated (on it, or over REST
        // with the same session): the viewer captured at connect would otherwise stay restricted.
        this.viewer = await authenticate(this.deps, this.sessionToken);
      }
      checkAccess(this.viewer, op as OpName, def);
      const input = def.input.safeParse(frame.data.data ?? {});
      if (!input.success) {
        throw new EnclaveError('validation_failed', undefined, {
          issues: input.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
      }
      const handler = handlers[op as Exclude<OpName, 'auth.login'>] as (c: unknown, i: unknown) => Promise<unknown>;
      const out = await handler(
        {
          deps: this.deps,
          viewer: this.viewer,
          socket: { setFocus: (id: number | null) => this.hub.setFocus(this, id), conn: this },
        },
        input.data,
      );
      this.reply(ref, out);
      if (op === 'sync' && !this.synced) this.flushPending();
    } catch (e) {
      const { body } = toErrorBody(e, this.deps.log);
      this.replyError(ref, body);
    }
  }

  private flushPending() {
    this.synced = true;
    const frames = this.pending;
    this.pending = null;
    if (frames === null) return;
    for (const f of frames) this.raw(f);
  }

  private reply(ref: string | number | null, data: unknown) {
    this.raw(`{"ref":${JSON.stringify(ref)},"ok":true,"data":${JSON.stringify(data)}}`);
  }

  private replyError(ref: string | number | null, error: ErrorBody) {
    this.raw(JSON.stringify({ ref, ok: false, error }));
  }

  private raw(frame: string | WireFrame) {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.tcp) {
      this.ws.send(typeof frame === 'string' ? frame : frame.text);
      return;
    }
    corkForThisTurn(this.tcp);
    // A reply is framed here as a fan-out's frames are, and leaves by the same path: one buffer per
    // frame (ws.send writes a header and a payload, two chunks), and the code that writes a group's
    // first message to thousands of sockets is the code every sign-in already ran.
    this.tcp.write(typeof frame === 'string' ? encodeTextFrame(frame) : frame.bytes);
  }

  sendDurable(frame: string | WireFrame): void {
    if (!this.synced) {
      if (this.pending && this.pending.length < PENDING_MAX) this.pending.push(frame);
      else this.pending = null; // the sync answer will carry what was missed
      return;
    }
    if (this.ws.bufferedAmount > this.deps.config.socketQueueMaxBytes) {
      // A reader this slow resyncs from its token instead of growing our memory without bound.
      this.overflow(false);
      return;
    }
    this.raw(frame);
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Too far behind: close with `overflow` (4008) after what is queued, or — when the process-wide
   * outbound budget is exceeded — terminate now, discarding the queue. Either way the client
   * resyncs from its token; nothing durable is lost.
   */
  overflow(hard: boolean): void {
    if (this.overflowed) {
      if (hard) this.ws.terminate();
      return;
    }
    this.overflowed = true;
    if (hard) this.hub.stats.slowCut++;
    else this.hub.stats.slowClosed++;
    this.deps.log.warn({ user: this.viewer?.uid, buffered: this.ws.bufferedAmount, hard }, 'slow reader dropped');
    if (hard) this.ws.terminate();
    else this.close(closeCodes.overflow, 'overflow', JSON.stringify({ ev: 'closing', data: { reason: 'overflow' } }));
  }

  sendVolatile(frame: string | WireFrame): void {
    if (!this.synced || this.ws.bufferedAmount > VOLATILE_DROP_BYTES) return;
    this.raw(frame);
  }

  close(code: number, reason: string, frame?: string): void {
    if (frame) this.raw(frame);
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Heartbeat sweep: a socket that missed a whole interval is terminated (its close marks it offline). */
  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /** No longer pending authentication (signed in, or closed before). Runs once. */
  private admitted() {
    if (this.admission && !this.settled) this.admission.pending--;
    this.settled = true;
  }

  /** The sign-in timeout passed (AuthDeadlines). */
  authDeadline(): void {
    if (!this.authed) this.ws.close(closeCodes.authTimeout, 'authentication timeout');
  }

  private onClose() {
    this.admitted();
    if (!this.authed) return;
    this.hub.remove(this);
    this.deps.presence.detach(this).catch((err: unknown) => this.deps.log.error({ err }, 'presence detach failed'));
  }
}
