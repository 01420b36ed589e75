/* @enclave/sdk/node — the SDK wired for Node: the `ws` package (Authorization header on the upgrade)
   and an outbox persisted in a file. */
import { WebSocket } from 'ws';
import { EnclaveClient } from './client.ts';
import type { EnclaveClientOptions } from './client-types.ts';
import { FileOutboxStore } from './outbox-file.ts';
import type { WebSocketConstructor } from './websocket.ts';

export * from './index.ts';
export { FileOutboxStore } from './outbox-file.ts';

/** The `ws` class as the SDK's constructor type (it accepts `{headers}` as third argument). */
export const NodeWebSocket: WebSocketConstructor = WebSocket;

export interface NodeClientOptions extends Omit<EnclaveClientOptions, 'WebSocket' | 'headerAuth' | 'outboxStore'> {
  /** JSON file for the outbox (survives restarts); kept in memory when omitted. */
  outboxFile?: string;
}

/**
 * An EnclaveClient for Node: `ws` with the token in the upgrade's Authorization header, and the
 * outbox in `outboxFile` when given. Throws nothing; see EnclaveClient for events and errors.
 */
export function createNodeClient(options: NodeClientOptions): EnclaveClient {
  const { outboxFile, ...rest } = options;
  return new EnclaveClient({
    ...rest,
    WebSocket: NodeWebSocket,
    headerAuth: true,
    ...(outboxFile ? { outboxStore: new FileOutboxStore(outboxFile) } : {}),
  });
}
