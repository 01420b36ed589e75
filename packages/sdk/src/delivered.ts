import type { ConversationId } from '@enclave/protocol';

/**
 * Coalesces `conversation.delivered` reports: at most one per conversation per interval, always
 * carrying the newest seq. Failures are ignored: after a reconnect the next sync reports again.
 */
export class DeliveredReporter {
  private readonly sent = new Map<ConversationId, { seq: number; at: number }>();
  private readonly waiting = new Map<ConversationId, { seq: number; timer: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly report: (conversationId: ConversationId, seq: number) => Promise<unknown>,
    private readonly intervalMs = 1000,
  ) {}

  /** This device has applied the conversation's events up to `seq`. */
  note(conversationId: ConversationId, seq: number): void {
    const last = this.sent.get(conversationId);
    if (seq <= 0 || (last && seq <= last.seq)) return;
    const waiting = this.waiting.get(conversationId);
    if (waiting) {
      waiting.seq = Math.max(waiting.seq, seq);
      return;
    }
    const wait = last ? last.at + this.intervalMs - Date.now() : 0;
    if (wait <= 0) return this.flush(conversationId, seq);
    const entry = {
      seq,
      timer: setTimeout(() => {
        this.waiting.delete(conversationId);
        this.flush(conversationId, entry.seq);
      }, wait),
    };
    this.waiting.set(conversationId, entry);
  }

  /** Forget what was reported and drop scheduled reports (on disconnect). */
  reset(): void {
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    this.sent.clear();
  }

  private flush(conversationId: ConversationId, seq: number): void {
    this.sent.set(conversationId, { seq, at: Date.now() });
    this.report(conversationId, seq).catch(() => {
      const last = this.sent.get(conversationId);
      if (last?.seq === seq) this.sent.set(conversationId, { seq: 0, at: last.at });
    });
  }
}
