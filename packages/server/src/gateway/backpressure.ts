import type { Logger } from 'pino';

/** What the outbound budget needs of a socket. */
export interface Buffered {
  /** Bytes queued in user space for this socket (ws `bufferedAmount`). */
  readonly bufferedBytes: number;
  /** Drop the socket now, freeing its queue; it resyncs from its token when it returns. */
  overflow(hard: boolean): void;
}

/**
 * A process-wide bound on memory held for slow readers. Each socket is already closed past its own
 * limit (connection.ts); this sweep adds the sum: when the bytes queued over all sockets pass the
 * budget, the sockets holding the most are dropped — terminated at once, since a graceful close
 * would wait behind the very queue it is meant to free — until the total is back under 80 % of it.
 * Nothing durable is lost: every dropped socket's client resyncs from its sync token.
 *
 * The sweep reads one number per socket per second (20,000 sockets: well under a millisecond).
 */
export function startOutboundBudget(
  sockets: () => Iterable<Buffered>,
  budgetBytes: number,
  log: Logger,
  everyMs = 1_000,
): { stop(): void; sweep(): number } {
  const sweep = () => {
    let total = 0;
    const heavy: Buffered[] = [];
    for (const s of sockets()) {
      const b = s.bufferedBytes;
      total += b;
      if (b >= 64 * 1024) heavy.push(s);
    }
    if (total <= budgetBytes) return 0;
    heavy.sort((a, b) => b.bufferedBytes - a.bufferedBytes);
    const target = budgetBytes * 0.8;
    let dropped = 0;
    for (const s of heavy) {
      if (total <= target) break;
      total -= s.bufferedBytes;
      s.overflow(true);
      dropped++;
    }
    log.warn({ dropped, budgetBytes }, 'outbound budget exceeded: dropped the slowest readers');
    return dropped;
  };
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
