import type { ConversationId, EventRange } from '@enclave/protocol';
import { cursorHasGap } from './seq-cursor.ts';
import type { Action, ClientState } from './state.ts';

export interface GapFillerOptions {
  getState: () => ClientState;
  dispatch: (action: Action) => void;
  /** `conversation.events` with `after`: the events following `after`, ascending. */
  fetchAfter: (conversationId: ConversationId, after: number, limit: number) => Promise<EventRange>;
  /** `sync` with the stored token (heals lost publishes, and gaps in the user stream). */
  resync: () => Promise<void>;
  /** How long a gap may stay open before pulling (default 300 ms): brief reordering heals itself. */
  holdMs?: number;
  /** Period of the cheap token check (default 45 s; DESIGN says 30–60 s). */
  checkIntervalMs?: number;
  /** Page size of a pull (default 200, the protocol's maximum). */
  pageSize?: number;
  /** Upper bound on pages per pull, so a misbehaving server cannot keep the client looping. */
  maxPages?: number;
  onError?: (err: unknown) => void;
}

const USER_STREAM = Symbol('user stream');

/**
 * Detects gaps in the durable streams and fills them: a conversation with a seq missing below the
 * highest one applied waits `holdMs`, then pulls `conversation.events` after its head until caught
 * up. A gap below the visible floor (`minSeq`) is closed by the reducer and never retried.
 */
export class GapFiller {
  private readonly holds = new Map<ConversationId | typeof USER_STREAM, ReturnType<typeof setTimeout>>();
  private readonly pulling = new Set<ConversationId>();
  private periodic: ReturnType<typeof setInterval> | undefined;
  private readonly holdMs: number;

  constructor(private readonly options: GapFillerOptions) {
    this.holdMs = options.holdMs ?? 300;
  }

  /** Call after applying events of a conversation: starts the hold-back timer if a seq is missing. */
  noteConversation(conversationId: ConversationId): void {
    const view = this.options.getState().conversations[conversationId];
    if (!view || !cursorHasGap(view.cursor)) {
      this.clearHold(conversationId);
      return;
    }
    if (this.holds.has(conversationId) || this.pulling.has(conversationId)) return;
    this.holds.set(
      conversationId,
      setTimeout(() => {
        this.holds.delete(conversationId);
        void this.pull(conversationId);
      }, this.holdMs),
    );
  }

  /** Call after applying a user event: a useq gap still open after the hold triggers a sync. */
  noteUserStream(): void {
    if (!cursorHasGap(this.options.getState().useq)) {
      this.clearHold(USER_STREAM);
      return;
    }
    if (this.holds.has(USER_STREAM)) return;
    this.holds.set(
      USER_STREAM,
      setTimeout(() => {
        this.holds.delete(USER_STREAM);
        if (cursorHasGap(this.options.getState().useq)) this.options.resync().catch((e) => this.options.onError?.(e));
      }, this.holdMs),
    );
  }

  /**
   * Pull the events after the head until the conversation has no gap (or no progress is made).
   * Errors go to `onError`; the periodic check retries later.
   */
  async pull(conversationId: ConversationId): Promise<void> {
    if (this.pulling.has(conversationId)) return;
    this.pulling.add(conversationId);
    const { getState, dispatch, fetchAfter } = this.options;
    try {
      for (let page = 0; page < (this.options.maxPages ?? 50); page++) {
        const view = getState().conversations[conversationId];
        if (!view || !cursorHasGap(view.cursor)) break;
        const head = view.cursor.head;
        const range = await fetchAfter(conversationId, head, this.options.pageSize ?? 200);
        dispatch({ type: 'range.loaded', range });
        const after = getState().conversations[conversationId];
        if (!after || after.cursor.head <= head || !range.hasMore) break;
      }
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      this.pulling.delete(conversationId);
    }
  }

  /** Start the periodic token check (call when the connection is ready). */
  start(): void {
    if (this.periodic !== undefined) return;
    this.periodic = setInterval(() => {
      this.options.resync().catch((e) => this.options.onError?.(e));
    }, this.options.checkIntervalMs ?? 45_000);
  }

  /** Stop every timer (call on disconnect: the next connect syncs anyway). */
  stop(): void {
    clearInterval(this.periodic);
    this.periodic = undefined;
    for (const t of this.holds.values()) clearTimeout(t);
    this.holds.clear();
  }

  private clearHold(key: ConversationId | typeof USER_STREAM): void {
    const t = this.holds.get(key);
    if (t === undefined) return;
    clearTimeout(t);
    this.holds.delete(key);
  }
}
