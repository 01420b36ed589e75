import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { ClientState, ConnectionState, PresenceView } from '@enclave/sdk';
import type { Session } from './session.ts';

/** The SDK's reducer state, re-rendering on every change. */
export function useClientState(session: Session): ClientState {
  const subscribe = useCallback((cb: () => void) => session.client.on('state', cb), [session]);
  return useSyncExternalStore(subscribe, () => session.client.state);
}

export function useConnectionState(session: Session): ConnectionState {
  const subscribe = useCallback((cb: () => void) => session.client.on('connection', cb), [session]);
  return useSyncExternalStore(subscribe, () => session.client.connectionState);
}

export function usePresenceView(session: Session): PresenceView {
  const subscribe = useCallback(
    (cb: () => void) => {
      const offs = [
        session.client.on('presence.view', cb),
        session.client.on('presence', cb),
        session.client.on('department', cb),
      ];
      return () => offs.forEach((off) => off());
    },
    [session],
  );
  return useSyncExternalStore(subscribe, () => session.client.presence);
}

/** Re-render when the name directory learns a name. */
export function useNames(session: Session): Session['names'] {
  useSyncExternalStore(session.names.subscribe, session.names.snapshot);
  return session.names;
}

export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => globalThis.matchMedia?.(query).matches ?? false);
  useEffect(() => {
    const mq = globalThis.matchMedia?.(query);
    if (!mq) return;
    const on = () => setMatches(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [query]);
  return matches;
}

export const MOBILE_QUERY = '(max-width: 767px)';

/** A clock that ticks every `ms` (recall windows, relative times). */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
