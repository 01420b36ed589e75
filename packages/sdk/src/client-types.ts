import type { ConvEvent, EnclaveError, SendInput, ServerEventData, UserEvent } from '@enclave/protocol';
import type { BackoffOptions } from './backoff.ts';
import type { ConnectionState, Hello } from './connection.ts';
import type { OutboxEntry, OutboxStore } from './outbox.ts';
import type { PresenceView } from './presence-state.ts';
import type { FetchLike } from './rest.ts';
import type { ClientState } from './state.ts';
import type { WebSocketConstructor } from './websocket.ts';

export interface EnclaveClientOptions {
  /** `https://chat.example.corp` (the socket goes to `wss://…/api/v1/ws`). */
  baseUrl: string;
  /** Bearer token (bots, Node, native apps); browsers rely on the session cookie instead. */
  token?: string;
  /** Defaults to the global `WebSocket`; `@enclave/sdk/node` passes the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** The constructor accepts `{headers}` (ws): the token goes in the upgrade's Authorization header. */
  headerAuth?: boolean;
  fetch?: FetchLike;
  /** Defaults to memory (nothing survives a reload); use IndexedDbOutboxStore or FileOutboxStore. */
  outboxStore?: OutboxStore;
  /** Stable id of this device, sent at login. */
  deviceId?: string;
  requestTimeoutMs?: number;
  gapHoldMs?: number;
  syncCheckMs?: number;
  deliveredIntervalMs?: number;
  backoff?: BackoffOptions;
  /** Auto-away: this device shows `away` after this long without `activity()` (off when omitted). */
  idleAfterMs?: number;
}

export interface ClientEvents {
  /** The reducer state changed. */
  state: ClientState;
  connection: { state: ConnectionState; previous: ConnectionState };
  hello: Hello;
  /** A durable conversation event, after it was applied to `state`. */
  conv: ConvEvent;
  /** A durable user event, after it was applied to `state`. */
  user: UserEvent;
  /** A live read/delivered receipt (volatile). */
  receipt: ServerEventData<'receipt'>;
  /** An outbox write failed for good (non-retryable); `retry` or `discard` it. */
  'outbox.failed': { entry: OutboxEntry; error: EnclaveError };
  /** The credentials were rejected or revoked; the client stays disconnected until `connect()`. */
  'auth-lost': { code: number; reason: string };
  /** A subscribed person's presence changed (volatile). */
  presence: ServerEventData<'presence'>;
  /** A subscribed department's counts changed (volatile, ≤ 1 per 5 s per department). */
  department: ServerEventData<'department'>;
  /** Someone else is typing in a conversation (volatile; show for ~5 s). */
  typing: ServerEventData<'typing'>;
  /** Someone I follow came online. */
  followed: ServerEventData<'followed'>;
  /** The presence view (subscribed people and departments) changed. */
  'presence.view': PresenceView;
  /** A background task (gap pull, token check, store write) failed; the client keeps going. */
  error: unknown;
}

export interface SendOptions {
  mentions?: SendInput['mentions'];
  mentionAll?: boolean;
  replyToSeq?: number;
  signoff?: boolean;
  /** Reuse an id (e.g. from another store); a new compact id by default. */
  clientMsgId?: string;
}
