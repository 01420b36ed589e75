import { EnclaveError, ops, type OpInput, type OpName, type OpOutput } from '@enclave/protocol';
import type { ReplyFrame } from './connection.ts';

export interface RequestOptions {
  /** Reject with a retryable `server_busy` when no reply arrives in time (default 15 s). */
  timeoutMs?: number;
}

interface Pending {
  op: OpName;
  resolve: (value: unknown) => void;
  reject: (err: EnclaveError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The error a request fails with when the socket goes away before its reply: retryable. */
export function disconnectedError(reason = 'connection lost'): EnclaveError {
  return new EnclaveError('server_busy', reason, { disconnected: true });
}

/**
 * Request/ack over the socket: `{op, ref, data}` out, `{ref, ok, data | error}` in. Inputs are
 * checked against the op's schema before sending; replies are parsed with the op's output schema.
 */
export class RequestTracker {
  private readonly pending = new Map<number, Pending>();
  private nextRef = 1;

  /** `send` returns false when no socket is open. */
  constructor(
    private readonly send: (frame: { op: OpName; ref: number; data: unknown }) => boolean,
    private readonly defaults: RequestOptions = {},
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * Send one op and wait for its reply. Throws (rejects with) EnclaveError: `validation_failed` for
   * an input the schema refuses (nothing is sent); the server's error for `ok:false`;
   * `server_busy` (retryable) on timeout, when not connected, or when the socket drops first;
   * `internal_error` for a reply that does not match the output schema.
   */
  request<N extends OpName>(op: N, input: OpInput<N>, options: RequestOptions = {}): Promise<OpOutput<N>> {
    const checked = ops[op].input.safeParse(input);
    if (!checked.success) {
      return Promise.reject(new EnclaveError('validation_failed', `invalid input for ${op}`, checked.error.issues));
    }
    const ref = this.nextRef++;
    return new Promise<OpOutput<N>>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.defaults.timeoutMs ?? 15_000;
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new EnclaveError('server_busy', 'request timed out', { op, timeoutMs }));
      }, timeoutMs);
      this.pending.set(ref, { op, resolve: resolve as (v: unknown) => void, reject, timer });
      // The original input goes out, not the parsed one: the server applies the defaults itself.
      if (!this.send({ op, ref, data: input })) this.fail(ref, disconnectedError('not connected'));
    });
  }

  /** Settle the request a reply belongs to. Returns false for an unknown ref (late or foreign reply). */
  handleReply(frame: ReplyFrame): boolean {
    if (typeof frame.ref !== 'number') return false;
    const entry = this.pending.get(frame.ref);
    if (!entry) return false;
    this.pending.delete(frame.ref);
    clearTimeout(entry.timer);
    if (!frame.ok) {
      entry.reject(EnclaveError.fromBody(frame.error));
      return true;
    }
    const parsed = ops[entry.op].output.safeParse(frame.data);
    if (parsed.success) entry.resolve(parsed.data);
    else entry.reject(new EnclaveError('internal_error', `malformed reply to ${entry.op}`, parsed.error.issues));
    return true;
  }

  /** Reject every pending request (the socket dropped): each gets its own copy of `err`. */
  rejectAll(err: EnclaveError = disconnectedError()): void {
    const refs = [...this.pending.keys()];
    for (const ref of refs) this.fail(ref, new EnclaveError(err.code, err.message, err.details));
  }

  private fail(ref: number, err: EnclaveError): void {
    const entry = this.pending.get(ref);
    if (!entry) return;
    this.pending.delete(ref);
    clearTimeout(entry.timer);
    entry.reject(err);
  }
}
