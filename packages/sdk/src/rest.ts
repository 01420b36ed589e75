import {
  EnclaveError,
  ErrorBodySchema,
  errorCodes,
  ops,
  type ErrorCode,
  type OpInput,
  type OpName,
  type OpOutput,
} from '@enclave/protocol';

export type FetchLike = typeof globalThis.fetch;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: string;
}

/**
 * The REST request for an op: `:param` segments of `ops[op].http.path` are filled from the input
 * and removed from it; GET/DELETE put the rest in the query string, the others in a JSON body.
 * Throws EnclaveError `unknown_op` for a WebSocket-only op, `validation_failed` for a missing param.
 */
export function buildHttpRequest<N extends OpName>(baseUrl: string, op: N, input: OpInput<N>): HttpRequest {
  const http = (ops[op] as { http?: { method: HttpRequest['method']; path: string } }).http;
  if (!http) throw new EnclaveError('unknown_op', `${op} has no REST route`);
  const rest: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  const path = http.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const value = rest[name];
    if (value === undefined || value === null)
      throw new EnclaveError('validation_failed', `${op}: ${name} is required`);
    delete rest[name];
    return encodeURIComponent(String(value));
  });
  const url = `${baseUrl.replace(/\/+$/, '')}${path}`;
  if (http.method === 'POST' || http.method === 'PATCH')
    return { method: http.method, url, body: JSON.stringify(rest) };
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(rest)) {
    // `false` is left out: the server coerces query strings with z.coerce.boolean, which reads "false" as true.
    if (value === undefined || value === null || value === false) continue;
    for (const v of Array.isArray(value) ? value : [value]) query.append(key, String(v));
  }
  const qs = query.toString();
  return { method: http.method, url: qs ? `${url}?${qs}` : url };
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 502 || status === 504) return 'server_busy';
  return status >= 400 && status < 500 ? 'bad_request' : 'internal_error';
}

/**
 * Call an op over REST. Throws EnclaveError: the server's error body when it sends one, a code from
 * the HTTP status otherwise, `server_busy` (retryable) when the network fails, `internal_error`
 * for a reply that does not match the op's output schema.
 */
export async function httpCall<N extends OpName>(
  fetchFn: FetchLike,
  baseUrl: string,
  token: string | undefined,
  op: N,
  input: OpInput<N>,
): Promise<OpOutput<N>> {
  const req = buildHttpRequest(baseUrl, op, input);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetchFn(req.url, { method: req.method, headers, body: req.body });
  } catch (err) {
    throw new EnclaveError('server_busy', `network error: ${err instanceof Error ? err.message : String(err)}`, {
      network: true,
    });
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const parsed = ErrorBodySchema.safeParse((body as { error?: unknown } | undefined)?.error);
    if (parsed.success) throw EnclaveError.fromBody({ ...parsed.data, code: parsed.data.code as ErrorCode });
    const code = codeForStatus(res.status);
    throw new EnclaveError(code, errorCodes[code].message, { status: res.status });
  }
  const out = ops[op].output.safeParse(body);
  if (!out.success) throw new EnclaveError('internal_error', `malformed reply to ${op}`, out.error.issues);
  return out.data as OpOutput<N>;
}
