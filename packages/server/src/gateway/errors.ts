import { EnclaveError, type ErrorBody } from '@enclave/protocol';
import type { Logger } from 'pino';
import { ZodError } from 'zod';

/** Turn anything thrown into the wire error. Expected errors are not logged as failures. */
export function toErrorBody(e: unknown, log: Logger, requestId?: string): { status: number; body: ErrorBody } {
  if (e instanceof EnclaveError) return { status: e.status, body: e.toBody() };
  if (e instanceof ZodError) {
    const err = new EnclaveError('validation_failed', undefined, {
      issues: e.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
    return { status: err.status, body: err.toBody() };
  }
  const fe = e as { statusCode?: number; code?: string };
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return wrap('body_too_large');
  if (fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (e instanceof SyntaxError && fe.statusCode === 400))
    return wrap('bad_json');
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return wrap('bad_request', 'Send a JSON body with Content-Type: application/json.');
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return wrap('bad_request');
  log.error({ err: e, requestId }, 'internal error');
  return wrap('internal_error');
}

function wrap(code: ConstructorParameters<typeof EnclaveError>[0], message?: string) {
  const err = new EnclaveError(code, message);
  return { status: err.status, body: err.toBody() };
}

/** Validate `data` with a schema, throwing `validation_failed` with the issues. */
export function parseWith<T>(
  schema: { safeParse(d: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  data: unknown,
): T {
  const r = schema.safeParse(data);
  if (!r.success) throw r.error;
  return r.data;
}
