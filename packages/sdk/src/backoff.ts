/** Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"). */
export interface BackoffOptions {
  /** First ceiling in ms (default 500). */
  baseMs?: number;
  /** Largest ceiling in ms (default 30 000). */
  capMs?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * The delay before attempt number `attempt` (0-based): uniformly random in
 * `[0, min(cap, base · 2^attempt))`. Full jitter spreads a reconnect herd evenly over the window.
 */
export function fullJitterDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const cap = options.capMs ?? 30_000;
  const random = options.random ?? Math.random;
  // 2 ** 40 · base is far beyond any cap; clamping the exponent avoids Infinity for huge attempts.
  const ceiling = Math.min(cap, base * 2 ** Math.min(Math.max(attempt, 0), 40));
  return Math.floor(random() * ceiling);
}

/** Counts attempts and yields the next full-jitter delay; `reset()` after a stable success. */
export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions = {}) {}

  /** The delay for the next attempt; increments the attempt counter. */
  next(): number {
    return fullJitterDelay(this.attempt++, this.options);
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
