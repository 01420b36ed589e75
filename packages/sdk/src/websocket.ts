/**
 * The WebSocket surface the SDK needs, satisfied by the browser's global `WebSocket` and by the `ws`
 * package's class (whose constructor also takes `{headers}`), so either can be injected.
 */

// Method-shaped so handler parameters compare bivariantly: the DOM and ws event classes differ, and
// the SDK reads only `data`, `code` and `reason` from them.
type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

/** `readyState` of an open socket (the same constant in the DOM and in ws). */
export const WS_OPEN = 1;

/** `http://host/base` → `ws://host/base/api/v1/ws` (https → wss). */
export function websocketUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '').replace(/^http/, 'ws')}/api/v1/ws`;
}
