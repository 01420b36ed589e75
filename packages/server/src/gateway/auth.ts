import type { FastifyRequest } from 'fastify';
import { EnclaveError } from '@enclave/protocol';
import type { Config } from '../config.ts';

export const SESSION_COOKIE = 'enclave_session';

/** The session token of a request: `Authorization: Bearer …` or the session cookie. Never the URL. */
export function tokenOf(
  req: Pick<FastifyRequest, 'headers'> & { cookies?: Record<string, string | undefined> },
): string | null {
  const h = req.headers.authorization;
  if (h) {
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    if (!m) throw new EnclaveError('unauthenticated', 'Use "Authorization: Bearer <token>".');
    return m[1]!;
  }
  return req.cookies?.[SESSION_COOKIE] ?? null;
}

/**
 * Browsers send Origin on WebSocket upgrades and cross-site requests; only PUBLIC_URL's origin (or, when
 * it is not configured, the same host the request came to) may use the session cookie.
 */
export function originAllowed(req: Pick<FastifyRequest, 'headers'>, config: Config): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser, or same-origin GET: a header token is then required anyway
  if (config.publicUrl) return new URL(config.publicUrl).origin === origin;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
