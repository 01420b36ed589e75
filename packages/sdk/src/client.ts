import {
  EnclaveError,
  ops,
  type ConversationId,
  type DepartmentId,
  type FileId,
  type UserId,
  type OpInput,
  type OpName,
  type OpOutput,
  type SendInput,
  type AroundResult,
  type ExportFormat,
  type SearchMessagesResult,
} from '@enclave/protocol';
import { Connection, type ConnectionState } from './connection.ts';
import { DeliveredReporter } from './delivered.ts';
import { TypedEmitter } from './emitter.ts';
import { GapFiller } from './gaps.ts';
import { newClientId } from './ids.ts';
import { echoOf, linkOutboxToState, restoreEchoes } from './outbox-echo.ts';
import { LiveEvents } from './live-events.ts';
import { PresenceClient, type ChosenPresence } from './presence-client.ts';
import type { PresenceView } from './presence-state.ts';
import { MemoryOutboxStore, Outbox, type OutboxEntry, type OutboxOp } from './outbox.ts';
import { reduce } from './reducer.ts';
import { RequestTracker } from './request.ts';
import { httpCall, type FetchLike } from './rest.ts';
import { exportUrl, searchAround, searchMessages, type SearchOptions } from './search.ts';
import { FileUpload, fileUrls, type UploadFileOptions } from './files.ts';
import { initialState, type Action, type ClientState } from './state.ts';
import type { ClientEvents, EnclaveClientOptions, SendOptions } from './client-types.ts';
import type { WebSocketConstructor } from './websocket.ts';

/**
 * The Enclave client: one socket, a pure reducer state, an outbox that survives reloads, typed
 * events. Errors are always `EnclaveError` (code from the protocol, `retryable`).
 */
export class EnclaveClient extends TypedEmitter<ClientEvents> {
  private current: ClientState = initialState;
  private token: string | undefined;
  private readonly fetchFn: FetchLike | undefined;
  private readonly connection: Connection;
  private readonly requests: RequestTracker;
  private readonly outbox: Outbox;
  private readonly gaps: GapFiller;
  private readonly delivered: DeliveredReporter;
  private readonly live: LiveEvents;
  private readonly presenceClient: PresenceClient;
  private outboxLoaded: Promise<void> | null = null;

  /** Throws EnclaveError `bad_request` when no WebSocket implementation is given or global. */
  constructor(private readonly options: EnclaveClientOptions) {
    super();
    this.token = options.token;
    this.fetchFn = options.fetch ?? globalThis.fetch?.bind(globalThis);
    const WebSocketCtor = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
    if (!WebSocketCtor) throw new EnclaveError('bad_request', 'no WebSocket implementation: pass options.WebSocket');
    this.connection = new Connection({
      baseUrl: options.baseUrl,
      WebSocket: WebSocketCtor,
      getToken: () => this.token,
      headerAuth: options.headerAuth ?? false,
      synchronize: () => this.live.initialSync(),
      backoff: options.backoff,
    });
    this.requests = new RequestTracker((f) => this.connection.send(f), { timeoutMs: options.requestTimeoutMs });
    this.outbox = new Outbox({
      store: options.outboxStore ?? new MemoryOutboxStore(),
      execute: (entry) => this.requests.request<OutboxOp>(entry.op, entry.input),
      backoff: options.backoff,
    });
    this.gaps = new GapFiller({
      getState: () => this.current,
      dispatch: (a) => this.dispatch(a),
      fetchAfter: (conversationId, after, limit) => this.call('conversation.events', { conversationId, after, limit }),
      resync: () => (this.connection.state === 'ready' ? this.live.sync() : Promise.resolve()),
      holdMs: options.gapHoldMs,
      checkIntervalMs: options.syncCheckMs,
      onError: (e) => this.emit('error', e),
    });
    this.delivered = new DeliveredReporter(
      (conversationId, seq) => this.call('conversation.delivered', { conversationId, seq }),
      options.deliveredIntervalMs,
    );
    this.live = new LiveEvents({
      getState: () => this.current,
      dispatch: (a) => this.dispatch(a),
      request: (op, input) => this.requests.request(op, input),
      gaps: this.gaps,
      delivered: this.delivered,
      emit: (name, payload) => this.emit(name, payload as never),
    });
    this.presenceClient = new PresenceClient({
      request: (op, input) => this.requests.request(op, input),
      isReady: () => this.connection.state === 'ready',
      emit: (name, payload) => this.emit(name, payload as never),
      idleAfterMs: options.idleAfterMs,
    });
    this.wire();
  }

  /** The current reducer state (immutable; replaced on every change). */
  get state(): ClientState {
    return this.current;
  }

  get connectionState(): ConnectionState {
    return this.connection.state;
  }

  /** Pending outbox entries (queued or failed). */
  get pendingWrites(): readonly OutboxEntry[] {
    return this.outbox.entries;
  }

  /**
   * Sign in over REST (`POST /api/v1/auth/login`); the token is kept for the socket and REST.
   * Fires nothing. Throws EnclaveError `invalid_credentials`, `login_throttled`, `account_disabled`,
   * `validation_failed`, or `server_busy` when the network fails.
   */
  async login(username: string, password: string, deviceName: string): Promise<string> {
    const input: OpInput<'auth.login'> = { username, password, deviceName };
    if (this.options.deviceId) input.deviceId = this.options.deviceId;
    const result = await this.rest('auth.login', input);
    this.token = result.token;
    return result.token;
  }

  /**
   * Connect (and reconnect on drops) until `close()`. Resolves when first `ready` (synced).
   * Fires `connection`, `hello`, `state`, then `conv`/`user`/`receipt` as they arrive.
   * Throws EnclaveError `unauthenticated` when the server refuses the credentials (also fires
   * `auth-lost`), or `bad_request` when closed before becoming ready.
   */
  async connect(): Promise<void> {
    await this.loadOutbox();
    if (this.connection.state === 'ready') return;
    const settled = new Promise<void>((resolve, reject) => {
      const off = this.connection.on('state', ({ state }) => {
        if (state === 'ready') resolve();
        else if (state === 'failed') reject(new EnclaveError('unauthenticated', 'the server refused the credentials'));
        else if (state === 'closed') reject(new EnclaveError('bad_request', 'closed before the connection was ready'));
        else return;
        off();
      });
    });
    this.connection.connect();
    return settled;
  }

  /** Close the socket for good; pending requests reject with `server_busy`. Fires `connection`. */
  close(): void {
    this.presenceClient.stop();
    this.connection.close();
    this.gaps.stop();
    this.delivered.reset();
  }

  /**
   * Call any op: over the socket when it is synced or syncing, otherwise over REST when the op has a
   * route. Fires nothing by itself (its effects arrive as events). Throws EnclaveError: the server's
   * code, `validation_failed`, `server_busy` (timeout, disconnect; retryable), `unknown_op` for a
   * WebSocket-only op while disconnected.
   */
  call<N extends OpName>(op: N, input: OpInput<N>): Promise<OpOutput<N>> {
    const state = this.connection.state;
    const def = ops[op] as { ws?: boolean; http?: unknown };
    if ((state === 'ready' || state === 'syncing') && def.ws !== false) return this.requests.request(op, input);
    if (def.http) return this.rest(op, input);
    return Promise.reject(new EnclaveError('server_busy', `${op} needs the socket, which is not connected`));
  }

  /**
   * Send a text message: shows a pending echo at once, persists it in the outbox, delivers it when
   * ready (resends keep the clientMsgId, so they never duplicate). Returns the clientMsgId.
   * Fires `state` (echo; later sent/replaced), `outbox.failed` on a non-retryable error.
   * Throws EnclaveError `validation_failed` for an input the schema refuses (nothing is queued).
   */
  async send(
    conversationId: ConversationId,
    content: { text: string; format?: 'markdown' | 'plain' },
    opts: SendOptions = {},
  ): Promise<string> {
    const clientMsgId = opts.clientMsgId ?? newClientId();
    const input: SendInput = { conversationId, clientMsgId, content };
    if (opts.mentions) input.mentions = opts.mentions;
    if (opts.mentionAll !== undefined) input.mentionAll = opts.mentionAll;
    if (opts.replyToSeq !== undefined) input.replyToSeq = opts.replyToSeq;
    if (opts.signoff !== undefined) input.signoff = opts.signoff;
    const checked = ops['message.send'].input.safeParse(input);
    if (!checked.success) throw new EnclaveError('validation_failed', 'invalid message', checked.error.issues);
    await this.loadOutbox();
    this.dispatch({ type: 'local.send', echo: echoOf(input, conversationId, Date.now()) });
    await this.outbox.enqueue({ id: clientMsgId, op: 'message.send', input, conversationId, createdAt: Date.now() });
    return clientMsgId;
  }

  /**
   * Queue an edit, reaction or recall through the outbox (same retry rules as `send`); a
   * `clientOpId` is added when missing. Returns the clientOpId. Fires `outbox.failed` on a
   * non-retryable error. Throws EnclaveError `validation_failed`.
   */
  async queue<N extends Exclude<OutboxOp, 'message.send'>>(
    op: N,
    input: Omit<OpInput<N>, 'clientOpId'> & { clientOpId?: string },
  ): Promise<string> {
    const full = { ...input, clientOpId: input.clientOpId ?? newClientId() } as OpInput<N>;
    const checked = ops[op].input.safeParse(full);
    if (!checked.success) throw new EnclaveError('validation_failed', `invalid input for ${op}`, checked.error.issues);
    await this.loadOutbox();
    const conversationId = checked.data.conversationId;
    const entry = { id: full.clientOpId, op, input: full, conversationId, createdAt: Date.now() };
    await this.outbox.enqueue(entry as Parameters<Outbox['enqueue']>[0]);
    return full.clientOpId;
  }

  /** Requeue a failed outbox write. Fires `state`. Returns false when nothing failed with that id. */
  async retry(clientMsgId: string): Promise<boolean> {
    const ok = await this.outbox.retry(clientMsgId);
    if (ok) this.dispatch({ type: 'local.retry', clientMsgId });
    return ok;
  }

  /** Drop a queued or failed write and its echo. Fires `state`. */
  async discard(clientMsgId: string): Promise<boolean> {
    const ok = await this.outbox.discard(clientMsgId);
    this.dispatch({ type: 'local.discard', clientMsgId });
    return ok;
  }

  /**
   * Move my read cursor (never back). Fires `state`. Throws EnclaveError `not_a_member`,
   * `conversation_not_found`, `server_busy`.
   */
  async markRead(conversationId: ConversationId, seq: number): Promise<void> {
    const r = await this.call('conversation.read', { conversationId, seq });
    this.dispatch({ type: 'read.set', conversationId, readSeq: r.readSeq, unread: r.unread });
  }

  /**
   * Load one page of older history of a conversation. Returns whether older events remain.
   * Fires `state`. Throws EnclaveError `not_a_member`, `conversation_not_found`, `server_busy`.
   */
  async loadHistory(conversationId: ConversationId, limit = 50): Promise<boolean> {
    const view = this.current.conversations[conversationId];
    if (!view) throw new EnclaveError('conversation_not_found');
    const before = view.loadedFrom;
    if (before <= Math.max(view.summary.minSeq, 1)) return false;
    const range = await this.call('conversation.events', { conversationId, before, limit });
    this.dispatch({ type: 'range.loaded', range, before });
    return range.hasMore;
  }

  /**
   * Search the messages I may see (words, "phrases", from:, in:, before:/after:/on:, has:, is:mention).
   * Fires nothing. Throws EnclaveError `search_query_invalid`, `search_cursor_invalid`,
   * `conversation_not_found` (a conversationId I am not in), `server_busy`.
   */
  search(q: string, opts: SearchOptions = {}): Promise<SearchMessagesResult> {
    return searchMessages((op, input) => this.call(op, input), q, opts);
  }

  /**
   * Jump to a message: the events around `seq`. Fires nothing (apply `events` as a loaded range).
   * Throws EnclaveError `message_not_found` (not visible to me), `conversation_not_found`, `server_busy`.
   */
  searchAround(conversationId: ConversationId, seq: number, limit = 50): Promise<AroundResult> {
    return searchAround((op, input) => this.call(op, input), conversationId, seq, limit);
  }

  /**
   * Jump to a message: load the page around `seq` into the timeline as a window (older pages load
   * with `loadHistory`, newer ones with `loadNewer` until it meets the live tail). Fires `state`.
   * Throws EnclaveError `message_not_found`, `conversation_not_found`, `server_busy`.
   */
  async loadAround(conversationId: ConversationId, seq: number, limit = 50): Promise<AroundResult> {
    if (!this.current.conversations[conversationId]) throw new EnclaveError('conversation_not_found');
    const range = await this.searchAround(conversationId, seq, limit);
    this.dispatch({ type: 'range.around', range });
    return range;
  }

  /**
   * After a jump: load the next page newer than the window, towards the live tail. Returns whether
   * unloaded messages remain between them. Fires `state`. Throws EnclaveError
   * `conversation_not_found`, `server_busy`.
   */
  async loadNewer(conversationId: ConversationId, limit = 50): Promise<boolean> {
    const view = this.current.conversations[conversationId];
    if (!view) throw new EnclaveError('conversation_not_found');
    if (!view.gap) return false;
    const after = view.gap.from - 1;
    const range = await this.call('conversation.events', { conversationId, after, limit });
    this.dispatch({ type: 'range.newer', range, after });
    return this.current.conversations[conversationId]?.gap != null;
  }

  /**
   * Jump to a date: the seq of the first event at or after `ts` that I may see, or null. Fires
   * nothing. Throws EnclaveError `conversation_not_found`, `server_busy`.
   */
  async seqAt(conversationId: ConversationId, ts: number): Promise<number | null> {
    return (await this.call('conversation.seqAt', { conversationId, ts })).seq;
  }

  /** People and my groups matching `q` (name, pinyin, department). Throws EnclaveError `server_busy`. */
  searchDirectory(q: string, limit = 10): Promise<OpOutput<'search.directory'>> {
    return this.call('search.directory', { q, limit });
  }

  /** The download URL of a conversation export (HTML, JSON or CSV); the session cookie authorises it. */
  exportUrl(conversationId: ConversationId, format: ExportFormat = 'html'): string {
    return exportUrl(this.options.baseUrl, conversationId, format);
  }

  /**
   * A resumable upload of a file (tus): call `start()`, watch `onProgress` (speed, time left),
   * `pause()` / `start()` again; `done` gives the file id. Throws (through `done`) EnclaveError
   * `file_too_large`, `file_type_not_allowed`, `file_name_invalid`, `unauthenticated`, `server_busy`.
   */
  upload(o: Omit<UploadFileOptions, 'baseUrl' | 'token'>): FileUpload {
    return new FileUpload({ ...o, baseUrl: this.options.baseUrl, ...(this.token ? { token: this.token } : {}) });
  }

  /**
   * Send a finished file (or folder) to one or more conversations; forwarding a received file is the
   * same call. Fires nothing by itself (the messages arrive as events). Throws EnclaveError
   * `file_not_found`, `conversation_not_found`, `not_a_member`, `conversation_read_only`, `server_busy`.
   */
  sendFile(fileId: FileId, conversationIds: ConversationId[], clientMsgId = newClientId()) {
    return this.call('file.send', { fileId, conversationIds, clientMsgId });
  }

  /** Download, inline, thumbnail, zip and PDF-preview URLs of a file. */
  fileUrls(fileId: FileId) {
    return fileUrls(this.options.baseUrl, fileId);
  }

  /** Presence of the people and departments I subscribed to (volatile; empty while disconnected). */
  get presence(): PresenceView {
    return this.presenceClient.view;
  }

  /**
   * Watch these people and departments (replaces the previous set; kept and re-sent after every
   * reconnect). Resolves with the snapshot when connected, else with the current (empty) view.
   * Fires `presence.view`, then `presence` and `department` as they change. Throws EnclaveError
   * `validation_failed` (over 500 people or 200 departments), `server_busy`.
   */
  subscribePresence(userIds: UserId[], departmentIds: DepartmentId[] = []): Promise<PresenceView> {
    return this.presenceClient.subscribe(userIds, departmentIds);
  }

  /**
   * Set this device's state (my state is the strongest over my devices; busy wins). Re-sent after
   * reconnect. Fires nothing here; subscribers get `presence`. Throws EnclaveError `server_busy`.
   */
  setPresence(state: ChosenPresence): Promise<void> {
    return this.presenceClient.set(state);
  }

  /** The user did something: with `idleAfterMs`, leaves auto-away and restarts the idle clock. */
  activity(): void {
    this.presenceClient.activity();
  }

  /**
   * Tell the conversation I am typing; throttled to one frame per 3 s (returns false when throttled
   * or not connected). Throws EnclaveError `typing_disabled` (large group), `not_a_member`,
   * `conversation_not_found`, `server_busy`.
   */
  typing(conversationId: ConversationId): Promise<boolean> {
    return this.presenceClient.typing(conversationId);
  }

  private wire(): void {
    const c = this.connection;
    c.on('reply', (f) => this.requests.handleReply(f));
    c.on('event', (f) => {
      this.live.handle(f);
      this.presenceClient.handle(f);
    });
    c.on('hello', (h) => {
      this.dispatch({ type: 'session.started', me: h.user.id });
      this.emit('hello', h);
    });
    c.on('auth-lost', (e) => this.emit('auth-lost', e));
    c.on('disconnected', () => {
      this.requests.rejectAll();
      this.outbox.pause();
      this.gaps.stop();
      this.delivered.reset();
      this.live.reset();
      this.presenceClient.onDisconnected();
    });
    c.on('state', (s) => {
      if (s.state === 'ready') {
        this.outbox.resume();
        this.gaps.start();
        this.presenceClient.onReady();
      }
      this.emit('connection', s);
    });
    linkOutboxToState(this.outbox, (a) => this.dispatch(a));
    this.outbox.on('failed', (f) => this.emit('outbox.failed', f));
    this.outbox.on('store-error', (e) => this.emit('error', e));
  }

  /** Read the persisted outbox once, restoring the echoes of unsent messages. */
  private loadOutbox(): Promise<void> {
    this.outboxLoaded ??= this.outbox.load().then((entries) => restoreEchoes(entries, (a) => this.dispatch(a)));
    return this.outboxLoaded;
  }

  private rest<N extends OpName>(op: N, input: OpInput<N>): Promise<OpOutput<N>> {
    if (!this.fetchFn)
      return Promise.reject(new EnclaveError('bad_request', 'no fetch implementation: pass options.fetch'));
    return httpCall(this.fetchFn, this.options.baseUrl, this.token, op, input);
  }

  private dispatch(action: Action): void {
    const next = reduce(this.current, action);
    if (next === this.current) return;
    this.current = next;
    this.emit('state', next);
  }
}
