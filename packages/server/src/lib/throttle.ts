/**
 * Failed sign-ins throttle per (account, IP) with exponential backoff and automatic release — never a
 * hard lock that anyone can trigger for someone else's account from another address.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { failures: number; until: number; last: number }>();
  constructor(
    private readonly freeFailures = 5,
    private readonly baseMs = 1_000,
    private readonly maxMs = 15 * 60_000,
    private readonly forgetMs = 60 * 60_000,
  ) {}

  /** Milliseconds the caller must still wait, or 0. */
  check(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (now - e.last > this.forgetMs) {
      this.entries.delete(key);
      return 0;
    }
    return Math.max(0, e.until - now);
  }

  fail(key: string, now = Date.now()): void {
    const e = this.entries.get(key) ?? { failures: 0, until: 0, last: now };
    e.failures++;
    e.last = now;
    if (e.failures >= this.freeFailures) {
      e.until = now + Math.min(this.maxMs, this.baseMs * 2 ** (e.failures - this.freeFailures));
    }
    this.entries.set(key, e);
    if (this.entries.size > 100_000) this.sweep(now);
  }

  succeed(key: string): void {
    this.entries.delete(key);
  }

  private sweep(now: number) {
    for (const [k, e] of this.entries) if (now - e.last > this.forgetMs) this.entries.delete(k);
  }
}
