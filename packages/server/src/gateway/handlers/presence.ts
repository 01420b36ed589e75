import { EnclaveError, type OpOutput } from '@enclave/protocol';
import type { HandlerTable, OpContext } from '../handlers.ts';
import type { PresenceSocket } from '../../domain/presence/presence.ts';

const ok = { ok: true as const };

/** The socket an op came on: presence.set, subscribe and typing are about this socket. */
function connOf(ctx: OpContext): PresenceSocket {
  if (!ctx.socket) throw new EnclaveError('bad_request', 'This is a WebSocket operation.');
  return ctx.socket.conn;
}

/** Presence, subscriptions and typing: each op calls the presence engine in domain/presence/. */
export const presenceHandlers: Pick<HandlerTable, 'presence.set' | 'presence.subscribe' | 'presence.get' | 'typing'> = {
  'presence.set': async (ctx, i) => (await ctx.deps.presence.set(connOf(ctx), i.state), ok),
  'presence.subscribe': async (ctx, i) =>
    (await ctx.deps.presence.subscribe(connOf(ctx), i.userIds, i.departmentIds)) as OpOutput<'presence.subscribe'>,
  'presence.get': async ({ deps }, i) => ({
    items: (await deps.presence.get(i.userIds)) as OpOutput<'presence.get'>['items'],
  }),
  typing: async (ctx, i) => (await ctx.deps.presence.typing(connOf(ctx), i.conversationId), ok),
};
