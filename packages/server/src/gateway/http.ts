import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EnclaveError, ops, type OpDef, type OpName } from '@enclave/protocol';
import type { Deps, Viewer } from '../domain/deps.ts';
import { authenticate } from '../domain/accounts/authenticate.ts';
import { login } from '../domain/accounts/login.ts';
import { allowedBeforePasswordChange, handlers } from './handlers.ts';
import { originAllowed, SESSION_COOKIE, tokenOf } from './auth.ts';
import { parseWith, toErrorBody } from './errors.ts';

/** Resolve the viewer of a request and enforce the op's auth level. */
export async function viewerOf(deps: Deps, req: FastifyRequest, name: OpName, def: OpDef): Promise<Viewer> {
  const token = tokenOf(req);
  if (!token) throw new EnclaveError('unauthenticated');
  if (!req.headers.authorization && req.method !== 'GET' && !originAllowed(req, deps.config))
    throw new EnclaveError('origin_not_allowed');
  const viewer = await authenticate(deps, token);
  checkAccess(viewer, name, def);
  return viewer;
}

export function checkAccess(viewer: Viewer, name: OpName, def: OpDef): void {
  if (def.auth === 'admin' && viewer.role !== 'admin') throw new EnclaveError('forbidden', 'Administrators only.');
  if (viewer.mustChangePassword && !allowedBeforePasswordChange.has(name))
    throw new EnclaveError('password_change_required');
}

/** Register one REST route per op that has `http`, all through the same validation and error path. */
export function registerRest(app: FastifyInstance, deps: Deps): void {
  for (const [name, def] of Object.entries(ops) as [OpName, OpDef][]) {
    // An op without a handler is not served (404), as the WebSocket answers unknown_op, never a 500.
    if (!def.http || (name !== 'auth.login' && !Object.hasOwn(handlers, name))) continue;
    const { method, path } = def.http;
    app.route({
      method,
      url: path,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const params = req.params as Record<string, string>;
        const raw =
          method === 'GET' || method === 'DELETE'
            ? { ...(req.query as object), ...params }
            : { ...((req.body as object | null) ?? {}), ...params };
        if (name === 'auth.login') return loginRoute(deps, req, reply, raw);
        const viewer = await viewerOf(deps, req, name, def);
        const input = parseWith(def.input, raw);
        const handler = handlers[name as Exclude<OpName, 'auth.login'>] as (c: unknown, i: unknown) => Promise<unknown>;
        const out = await handler({ deps, viewer }, input);
        if (name === 'auth.logout') reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return out;
      },
    });
  }
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorBody(err, deps.log, req.id);
    if (body.code === 'login_throttled') {
      const ms = (body.details as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 1000;
      void reply.header('Retry-After', Math.ceil(ms / 1000));
    }
    void reply.status(status).send({ error: body });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .status(404)
      .send({ error: new EnclaveError('not_found', `No route ${req.method} ${req.url.split('?')[0]}`).toBody() });
  });
}

async function loginRoute(deps: Deps, req: FastifyRequest, reply: FastifyReply, raw: unknown) {
  const input = parseWith(ops['auth.login'].input, raw);
  const result = await login(deps, {
    ...input,
    ip: req.ip ?? null,
    userAgent: req.headers['user-agent'] ?? null,
  });
  const secure = req.protocol === 'https' || (deps.config.publicUrl?.startsWith('https:') ?? false);
  void reply.setCookie(SESSION_COOKIE, result.token, {
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: '/',
    maxAge: 60 * 60 * 24 * 30,
  });
  return result;
}
