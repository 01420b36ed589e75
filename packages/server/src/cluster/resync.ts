import { closeCodes } from '@enclave/protocol';
import type { Deps } from '../domain/deps.ts';
import type { Hub, HubSocket } from '../gateway/hub.ts';

const RESYNC_FRAME = JSON.stringify({ ev: 'resync', data: { reason: 'bus_reconnect' } });

/**
 * The bus came back after messages may have been lost: ask every socket of this node to resync, each
 * at a random moment in `[0, jitterMs)` so the store sees a spread of `sync` calls, not a herd.
 * Returns the timers (cleared on shutdown).
 */
export function resyncSockets(hub: Hub, jitterMs: number, random: () => number = Math.random): Set<NodeJS.Timeout> {
  const timers = new Set<NodeJS.Timeout>();
  for (const s of hub.sockets()) {
    const t = setTimeout(
      () => {
        timers.delete(t);
        s.sendVolatile(RESYNC_FRAME);
      },
      Math.floor(random() * jitterMs),
    );
    t.unref();
    timers.add(t);
  }
  return timers;
}

/**
 * `close` bus messages published while the bus was away were lost: check every session with a socket
 * on this node against the store and close those revoked (or whose user was disabled) meanwhile.
 * One query per 500 sockets.
 */
export async function recheckSessions(deps: Pick<Deps, 'store'>, hub: Hub): Promise<number> {
  const bySession = new Map<number, HubSocket[]>();
  for (const s of hub.sockets()) {
    const list = bySession.get(s.viewer.sessionId) ?? [];
    list.push(s);
    bySession.set(s.viewer.sessionId, list);
  }
  const ids = [...bySession.keys()];
  let closed = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await deps.store.reader
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.id', 's.revoked_at', 'u.disabled'])
      .where('s.id', 'in', ids.slice(i, i + 500))
      .execute();
    const ok = new Set<number>();
    const disabled = new Set<number>();
    for (const r of rows) {
      if (Number(r.disabled)) disabled.add(Number(r.id));
      else if (r.revoked_at === null) ok.add(Number(r.id));
    }
    for (const id of ids.slice(i, i + 500)) {
      if (ok.has(id)) continue;
      const reason = disabled.has(id) ? 'disabled' : 'revoked';
      const frame = JSON.stringify({ ev: 'closing', data: { reason } });
      for (const s of bySession.get(id) ?? []) {
        s.close(closeCodes.revoked, reason, frame);
        closed++;
      }
    }
  }
  return closed;
}
