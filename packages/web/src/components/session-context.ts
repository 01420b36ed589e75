import { createContext, useContext } from 'react';
import type { Session } from '../state/session.ts';

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session (provided by Shell). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionContext');
  return s;
}
