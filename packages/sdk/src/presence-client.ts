import {
  limits,
  orgEvents,
  type ConversationId,
  type DepartmentId,
  type OpInput,
  type OpName,
  type OpOutput,
  type UserId,
} from '@enclave/protocol';
import type { EventFrame } from './connection.ts';
import { emptyPresence, reducePresence, type PresenceAction, type PresenceView } from './presence-state.ts';

export type ChosenPresence = OpInput<'presence.set'>['state'];

export interface PresenceClientDeps {
  request: <N extends OpName>(op: N, input: OpInput<N>) => Promise<OpOutput<N>>;
  isReady: () => boolean;
  emit: (name: 'presence' | 'department' | 'typing' | 'followed' | 'presence.view' | 'error', payload: unknown) => void;
  /** Set `away` after this long without `activity()`; back to `online` on the next activity. */
  idleAfterMs?: number | undefined;
  now?: () => number;
}

/**
 * The client side of presence: the subscription (re-sent after every reconnect, since the server
 * forgets a socket's subscription with the socket), this device's state (chosen, or away when idle),
 * typing throttled to the server's rate, and the volatile events. State lives in a PresenceView
 * changed only by the pure `reducePresence`.
 */
export class PresenceClient {
  private current: PresenceView = emptyPresence;
  private wanted: { userIds: UserId[]; departmentIds: DepartmentId[] } | null = null;
  private chosen: ChosenPresence = 'online';
  private idle = false;
  private sent: ChosenPresence = 'online';
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private lastTyping = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly deps: PresenceClientDeps) {
    this.now = deps.now ?? Date.now;
    this.armIdle();
  }

  get view(): PresenceView {
    return this.current;
  }

  /** The state this device shows: an explicit busy wins; otherwise away while idle. */
  get effective(): ChosenPresence {
    if (this.chosen === 'busy') return 'busy';
    return this.idle ? 'away' : this.chosen;
  }

  async subscribe(userIds: UserId[], departmentIds: DepartmentId[]): Promise<PresenceView> {
    this.wanted = { userIds: [...userIds], departmentIds: [...departmentIds] };
    if (this.deps.isReady()) await this.sendSubscription();
    return this.current;
  }

  async set(state: ChosenPresence): Promise<void> {
    this.chosen = state;
    await this.sendState();
  }

  /** The user did something: leave auto-away, restart the idle clock. */
  activity(): void {
    this.armIdle();
    if (!this.idle) return;
    this.idle = false;
    this.sendState().catch((e: unknown) => this.deps.emit('error', e));
  }

  /** Returns whether a frame was sent (at most one per typing interval per client, as the server forwards). */
  async typing(conversationId: ConversationId): Promise<boolean> {
    const now = this.now();
    if (now - this.lastTyping < limits.typingIntervalMs || !this.deps.isReady()) return false;
    this.lastTyping = now;
    await this.deps.request('typing', { conversationId });
    return true;
  }

  /** The socket is synced (first connect or reconnect): the server knows nothing of us yet. */
  onReady(): void {
    this.sent = 'online';
    if (this.wanted) this.sendSubscription().catch((e: unknown) => this.deps.emit('error', e));
    if (this.effective !== 'online') this.sendState().catch((e: unknown) => this.deps.emit('error', e));
  }

  onDisconnected(): void {
    this.apply({ type: 'reset' });
  }

  handle(frame: EventFrame): void {
    switch (frame.ev) {
      case 'presence': {
        const p = orgEvents.presence.safeParse(frame.data);
        if (!p.success) return;
        this.apply({ type: 'presence', event: p.data });
        this.deps.emit('presence', p.data);
        return;
      }
      case 'department': {
        const p = orgEvents.department.safeParse(frame.data);
        if (!p.success) return;
        this.apply({ type: 'department', event: p.data });
        this.deps.emit('department', p.data);
        return;
      }
      case 'typing':
      case 'followed': {
        const p = orgEvents[frame.ev].safeParse(frame.data);
        if (p.success) this.deps.emit(frame.ev, p.data);
        return;
      }
      default:
        return;
    }
  }

  stop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private async sendSubscription(): Promise<void> {
    const wanted = this.wanted!;
    const snapshot = await this.deps.request('presence.subscribe', wanted);
    if (this.wanted === wanted) this.apply({ type: 'snapshot', snapshot });
  }

  private async sendState(): Promise<void> {
    const state = this.effective;
    if (state === this.sent || !this.deps.isReady()) return;
    this.sent = state;
    await this.deps.request('presence.set', { state });
  }

  private armIdle(): void {
    const after = this.deps.idleAfterMs;
    if (!after) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idle = true;
      this.sendState().catch((e: unknown) => this.deps.emit('error', e));
    }, after);
    // Never keep a Node process alive just to go away.
    (this.idleTimer as { unref?: () => void }).unref?.();
  }

  private apply(action: PresenceAction): void {
    const next = reducePresence(this.current, action);
    if (next === this.current) return;
    this.current = next;
    this.deps.emit('presence.view', next);
  }
}
