import { useSyncExternalStore } from 'react';
import { safeStorage } from '../i18n/index.ts';
import type { Session } from './session.ts';
import { Uploads, type Transfer } from './uploads.ts';

const bySession = new WeakMap<Session, Uploads>();

/** The signed-in user's uploads (one list per session, kept while conversations change). */
export function uploadsOf(session: Session): Uploads {
  let u = bySession.get(session);
  if (!u) {
    u = new Uploads(session.client, safeStorage(), `enclave.uploads.${session.me.id}`);
    bySession.set(session, u);
    // tus retries a dropped connection for a while by itself; after a longer outage, go on when it is back.
    const uploads = u;
    window.addEventListener('online', () => uploads.retryFailed());
  }
  return u;
}

/** The transfers in progress, re-rendering as they move. */
export function useTransfers(uploads: Uploads): readonly Transfer[] {
  return useSyncExternalStore(uploads.subscribe, uploads.getSnapshot);
}
