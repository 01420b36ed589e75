/* @enclave/sdk — browser-safe entry (no Node built-ins). Node programs import '@enclave/sdk/node'. */
export { EnclaveClient } from './client.ts';
export type { ClientEvents, EnclaveClientOptions, SendOptions } from './client-types.ts';
export { Connection } from './connection.ts';
export type {
  ConnectionEvents,
  ConnectionOptions,
  ConnectionState,
  EventFrame,
  Hello,
  ReplyFrame,
} from './connection.ts';
export { RequestTracker, disconnectedError } from './request.ts';
export type { RequestOptions } from './request.ts';
export { reduce } from './reducer.ts';
export { emptyPresence, reducePresence } from './presence-state.ts';
export type { PresenceAction, PresenceView } from './presence-state.ts';
export type { ChosenPresence } from './presence-client.ts';
export { initialState } from './state.ts';
export type { Action, ClientState, ConversationView, LocalSendEcho, PendingEcho, SeqCursor, SeqGap } from './state.ts';
export { cursorHas, cursorHasGap, cursorMax } from './seq-cursor.ts';
export { findMessage, inGap } from './timeline.ts';
export { GapFiller } from './gaps.ts';
export type { GapFillerOptions } from './gaps.ts';
export { MemoryOutboxStore, Outbox } from './outbox.ts';
export type { OutboxEntry, OutboxEvents, OutboxOp, OutboxOptions, OutboxStore } from './outbox.ts';
export { IndexedDbOutboxStore } from './outbox-idb.ts';
export { Backoff, fullJitterDelay } from './backoff.ts';
export type { BackoffOptions } from './backoff.ts';
export { TypedEmitter } from './emitter.ts';
export type { Listener } from './emitter.ts';
export { newClientId } from './ids.ts';
export { buildHttpRequest, httpCall } from './rest.ts';
export { exportUrl, searchAround, searchMessages } from './search.ts';
export type { SearchOptions } from './search.ts';
export type { FetchLike, HttpRequest } from './rest.ts';
export { websocketUrl } from './websocket.ts';
export { FileUpload, fileUrls, uploadFile } from './files.ts';
export type { TransferProgress, UploadFileOptions } from './files.ts';
export type { WebSocketConstructor, WebSocketLike } from './websocket.ts';
export { EnclaveError } from '@enclave/protocol';
