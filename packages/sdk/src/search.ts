import {
  exportRoute,
  type AroundResult,
  type ConversationId,
  type ExportFormat,
  type OpInput,
  type OpName,
  type OpOutput,
  type SearchMessagesResult,
  type SearchOrder,
} from '@enclave/protocol';

type Call = <N extends OpName>(op: N, input: OpInput<N>) => Promise<OpOutput<N>>;

export interface SearchOptions {
  /** Search inside one conversation (the history manager's "search in chat"). */
  conversationId?: ConversationId;
  order?: SearchOrder;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  limit?: number;
  /** For before:/after:/on: dates; defaults to this device's time zone. */
  tzOffsetMinutes?: number;
}

/** `search.messages` with the device's time zone filled in. */
export function searchMessages(call: Call, q: string, opts: SearchOptions = {}): Promise<SearchMessagesResult> {
  return call('search.messages', {
    q,
    tzOffsetMinutes: opts.tzOffsetMinutes ?? -new Date().getTimezoneOffset(),
    ...(opts.conversationId ? { conversationId: opts.conversationId } : {}),
    ...(opts.order ? { order: opts.order } : {}),
    ...(opts.cursor ? { cursor: opts.cursor } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
  });
}

/** `conversation.around`: the page of a conversation around a seq (jump to a search hit). */
export function searchAround(
  call: Call,
  conversationId: ConversationId,
  seq: number,
  limit = 50,
): Promise<AroundResult> {
  return call('conversation.around', { conversationId, seq, limit });
}

/**
 * The URL that downloads a conversation export. Open it in the browser (the session cookie
 * authenticates it; no token is ever put in a URL) or fetch it with an Authorization header.
 */
export function exportUrl(baseUrl: string, conversationId: ConversationId, format: ExportFormat = 'html'): string {
  const path = exportRoute.path.replace(':conversationId', encodeURIComponent(conversationId));
  return `${baseUrl.replace(/\/+$/, '')}${path}?format=${format}`;
}
