import { useEffect } from 'react';
import type { UserId } from '@enclave/protocol';
import { useNames } from '../../state/hooks.ts';
import type { Session } from '../../state/session.ts';

/** Ids already asked for, per session, so a name is fetched once however many results show it. */
const asked = new WeakMap<Session, Set<string>>();

/**
 * Learn the names of senders shown in search results that the client has not met yet (a group
 * whose members were never loaded): one `user.get` per unknown person. Re-renders when they arrive.
 */
export function useSenderNames(session: Session, ids: readonly string[]): Session['names'] {
  const names = useNames(session);
  const key = [...new Set(ids)].sort().join(',');
  useEffect(() => {
    let seen = asked.get(session);
    if (!seen) asked.set(session, (seen = new Set()));
    for (const id of key ? key.split(',') : []) {
      if (seen.has(id) || session.names.get(id)) continue;
      seen.add(id);
      session.client
        .call('user.get', { userId: id as UserId })
        .then((u) => session.names.put([{ id: u.id, displayName: u.displayName, username: u.username }]))
        .catch(() => seen.delete(id));
    }
  }, [session, key]);
  return names;
}
