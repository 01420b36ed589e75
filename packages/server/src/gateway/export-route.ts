import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { EnclaveError, exportRoute } from '@enclave/protocol';
import type { Deps } from '../domain/deps.ts';
import { authenticate } from '../domain/accounts/authenticate.ts';
import { exportConversation } from '../domain/search/export-conversation.ts';
import { tokenOf } from './auth.ts';
import { parseWith } from './errors.ts';

/**
 * GET /api/v1/conversations/:conversationId/export?format=html|json|csv — a streamed download
 * (cookie or Authorization header, never a token in the URL). Errors before the first byte are the
 * usual JSON error bodies; the export itself is audited in the domain function.
 */
export function registerExport(app: FastifyInstance, deps: Deps): void {
  app.route({
    method: exportRoute.method,
    url: exportRoute.path,
    handler: async (req, reply) => {
      const token = tokenOf(req);
      if (!token) throw new EnclaveError('unauthenticated');
      const viewer = await authenticate(deps, token);
      if (viewer.mustChangePassword) throw new EnclaveError('password_change_required');
      const input = parseWith(exportRoute.input, { ...(req.query as object), ...(req.params as object) });
      const out = await exportConversation(deps, viewer, input.conversationId, input.format);
      const ascii = out.fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
      void reply
        .header('content-type', out.contentType)
        .header(
          'content-disposition',
          `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(out.fileName)}`,
        )
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store');
      return reply.send(Readable.from(out.chunks));
    },
  });
}
