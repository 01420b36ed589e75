import { EnclaveError, type Session } from '@enclave/protocol';
import type { CloseBusEvent } from '../../bus/bus.ts';
import type { Deps, Viewer } from '../deps.ts';
import { uidFromDb, uidToDb, type Executor } from '../../store/dialect.ts';

/** My sessions, newest first. */
export async function listSessions(deps: Deps, viewer: Viewer): Promise<Session[]> {
  const rows = await deps.store.reader
    .selectFrom('sessions as s')
    .innerJoin('devices as d', 'd.id', 's.device_id')
    .select(['s.id', 's.uid', 'd.uid as device_uid', 'd.name', 's.created_at', 's.last_used_at', 's.ip'])
    .where('s.user_id', '=', viewer.userId)
    .where('s.revoked_at', 'is', null)
    .orderBy('s.last_used_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: uidFromDb(r.uid) as Session['id'],
    deviceId: uidFromDb(r.device_uid) as Session['deviceId'],
    deviceName: r.name,
    createdAt: Number(r.created_at),
    lastUsedAt: Number(r.last_used_at),
    ip: r.ip,
    current: Number(r.id) === viewer.sessionId,
  }));
}

/** Revoke sessions in the caller's transaction and return the close event to publish after commit. */
export async function revokeSessions(
  exec: Executor,
  now: number,
  where: { userId: number; sessionId?: number; exceptSessionId?: number },
  reason: CloseBusEvent['reason'],
): Promise<CloseBusEvent> {
  let q = exec
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', where.userId)
    .where('revoked_at', 'is', null);
  if (where.sessionId !== undefined) q = q.where('id', '=', where.sessionId);
  if (where.exceptSessionId !== undefined) q = q.where('id', '<>', where.exceptSessionId);
  await q.execute();
  return where.sessionId !== undefined
    ? { t: 'close', sessionIds: [where.sessionId], reason }
    : {
        t: 'close',
        userId: where.userId,
        reason,
        ...(where.exceptSessionId ? { exceptSessionId: where.exceptSessionId } : {}),
      };
}

/** Revoke one of my sessions; its sockets close on every node. */
export async function revokeSession(deps: Deps, viewer: Viewer, sessionUid: string): Promise<void> {
  const row = await deps.store.db
    .selectFrom('sessions')
    .select('id')
    .where('uid', '=', uidToDb(deps.store.kind, sessionUid))
    .where('user_id', '=', viewer.userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new EnclaveError('session_not_found');
  const ev = await revokeSessions(
    deps.store.db,
    deps.now(),
    { userId: viewer.userId, sessionId: Number(row.id) },
    'revoked',
  );
  deps.bus.publish(ev);
}

export async function logout(deps: Deps, viewer: Viewer): Promise<void> {
  const ev = await revokeSessions(
    deps.store.db,
    deps.now(),
    { userId: viewer.userId, sessionId: viewer.sessionId },
    'logout',
  );
  deps.bus.publish(ev);
}
