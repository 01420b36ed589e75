import {
  ConvEvent,
  EnclaveError,
  ReceiptData,
  UserEvent,
  type ConversationId,
  type OpInput,
  type OpName,
  type OpOutput,
} from '@enclave/protocol';
import type { EventFrame } from './connection.ts';
import type { DeliveredReporter } from './delivered.ts';
import type { GapFiller } from './gaps.ts';
import type { Action, ClientState } from './state.ts';

export interface LiveEventsDeps {
  getState: () => ClientState;
  dispatch: (action: Action) => void;
  request: <N extends OpName>(op: N, input: OpInput<N>) => Promise<OpOutput<N>>;
  gaps: GapFiller;
  delivered: DeliveredReporter;
  emit: (name: 'conv' | 'user' | 'receipt' | 'error', payload: unknown) => void;
}

/** Upper bound on `sync` pages in one catch-up, so a misbehaving server cannot loop the client. */
const MAX_SYNC_PAGES = 100;
/** Live events kept per conversation while it is being read (past that, the rest is history). */
const MAX_EARLY_EVENTS = 200;

/**
 * Turns the socket's events into reducer actions: the catch-up `sync` on every connect (live events
 * arriving meanwhile are held and applied after it, still de-duplicated by seq), then durable
 * events, receipts and server-requested resyncs.
 */
export class LiveEvents {
  private buffering = false;
  private buffer: EventFrame[] = [];
  private readonly loading = new Set<ConversationId>();
  /** Live events of conversations being read (`load`), in arrival order. */
  private readonly early = new Map<ConversationId, ConvEvent[]>();
  private running: Promise<void> | null = null;

  constructor(private readonly deps: LiveEventsDeps) {}

  /** The connect-time catch-up (the connection is `syncing`); rejects when a sync request fails. */
  async initialSync(): Promise<void> {
    this.buffering = true;
    this.buffer = [];
    try {
      await this.sync();
    } catch (err) {
      this.reset();
      throw err;
    }
    const held = this.buffer;
    this.reset();
    for (const frame of held) this.handle(frame);
  }

  /** `sync` from the stored token until the answer is no longer `limited`; concurrent calls share one run. */
  sync(): Promise<void> {
    this.running ??= this.syncPages().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async syncPages(): Promise<void> {
    const { getState, request, dispatch } = this.deps;
    let token = getState().syncToken ?? undefined;
    for (let page = 0; page < MAX_SYNC_PAGES; page++) {
      const result = await request('sync', token === undefined ? {} : { token });
      dispatch({ type: 'sync.result', result });
      for (const c of result.conversations) if (c.events.length > 0) this.noteDelivered(c.conversation.id);
      if (!result.limited) return;
      token = result.token;
    }
  }

  /** Drop held events (the socket went away; the next connect syncs from the token). */
  reset(): void {
    this.buffering = false;
    this.buffer = [];
  }

  handle(frame: EventFrame): void {
    const { dispatch, emit, gaps } = this.deps;
    if (this.buffering && (frame.ev === 'conv' || frame.ev === 'user')) {
      this.buffer.push(frame);
      return;
    }
    switch (frame.ev) {
      case 'conv': {
        const parsed = ConvEvent.safeParse(frame.data);
        if (!parsed.success) return this.malformed(frame, parsed.error.issues);
        const ev = parsed.data;
        dispatch({ type: 'conv.event', event: ev });
        emit('conv', ev);
        if (!this.deps.getState().conversations[ev.conversationId]) {
          // Kept until the conversation is read, so that its timeline starts with them.
          const early = this.early.get(ev.conversationId) ?? [];
          if (early.length < MAX_EARLY_EVENTS) early.push(ev);
          this.early.set(ev.conversationId, early);
          return this.load(ev.conversationId);
        }
        gaps.noteConversation(ev.conversationId);
        this.noteDelivered(ev.conversationId);
        return;
      }
      case 'user': {
        const parsed = UserEvent.safeParse(frame.data);
        if (!parsed.success) return this.malformed(frame, parsed.error.issues);
        dispatch({ type: 'user.event', event: parsed.data });
        emit('user', parsed.data);
        gaps.noteUserStream();
        const id = parsed.data.conversationId;
        if (parsed.data.type === 'conversation.joined' && !this.deps.getState().conversations[id]) this.load(id);
        return;
      }
      case 'receipt': {
        const parsed = ReceiptData.safeParse(frame.data);
        if (!parsed.success) return this.malformed(frame, parsed.error.issues);
        dispatch({ type: 'receipt', receipt: parsed.data });
        emit('receipt', parsed.data);
        return;
      }
      case 'resync':
        this.sync().catch((e: unknown) => emit('error', e));
        return;
      default:
        return;
    }
  }

  private noteDelivered(conversationId: ConversationId): void {
    const view = this.deps.getState().conversations[conversationId];
    if (view) this.deps.delivered.note(conversationId, view.cursor.head);
  }

  /**
   * A conversation we have not seen (just added to it): read it. Its timeline starts with the live
   * events that came before it was known (the snapshot already counts them: without them the
   * timeline would start after them, and they would be history); earlier events are history.
   */
  private load(conversationId: ConversationId): void {
    if (this.loading.has(conversationId)) return;
    this.loading.add(conversationId);
    this.deps
      .request('conversation.get', { conversationId })
      .then((c) => {
        const events = this.early.get(conversationId) ?? [];
        this.deps.dispatch({ type: 'conversations.loaded', conversations: [c], events });
        this.deps.gaps.noteConversation(conversationId);
      })
      .catch((e: unknown) => this.deps.emit('error', e))
      .finally(() => {
        this.early.delete(conversationId);
        this.loading.delete(conversationId);
      });
  }

  private malformed(frame: EventFrame, issues: unknown): void {
    this.deps.emit('error', new EnclaveError('internal_error', `malformed ${frame.ev} event`, issues));
  }
}
