import { EnclaveError } from '@enclave/protocol';

/** The i18n key and params for a sign-in failure (wrong password, lockout, disabled, unreachable). */
export function loginErrorKey(err: unknown): { key: string; params?: Record<string, unknown> } {
  if (!(err instanceof EnclaveError)) return { key: 'login.unreachable' };
  switch (err.code) {
    case 'invalid_credentials':
      return { key: 'login.invalid_credentials' };
    case 'login_throttled': {
      const ms = (err.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
      return typeof ms === 'number'
        ? { key: 'login.login_throttled', params: { seconds: Math.max(1, Math.ceil(ms / 1000)) } }
        : { key: 'login.login_throttled_plain' };
    }
    case 'account_disabled':
      return { key: 'login.account_disabled' };
    case 'validation_failed':
      return { key: 'login.invalid_credentials' };
    case 'server_busy':
    case 'internal_error':
      // The SDK reports a failed fetch (no server, no network) as server_busy.
      return { key: 'login.unreachable' };
    default:
      return { key: 'login.failed', params: { message: err.message } };
  }
}

const KNOWN = new Set([
  'not_a_member',
  'member_muted',
  'conversation_muted',
  'conversation_read_only',
  'recall_window_passed',
  'forbidden',
  'rate_limited',
  'server_busy',
  'owner_cannot_leave',
  'validation_failed',
]);

/** A translated message for an operation's error, falling back to the server's own text. */
export function errorKey(err: unknown): { key: string; params?: Record<string, unknown> } {
  if (err instanceof EnclaveError && KNOWN.has(err.code)) return { key: `errors.${err.code}` };
  const message = err instanceof Error ? err.message : String(err);
  return { key: 'common.error', params: { message } };
}
