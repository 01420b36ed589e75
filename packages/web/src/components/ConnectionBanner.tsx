import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConnectionState } from '@enclave/sdk';
import type { Session } from '../state/session.ts';

/** Shown at the top of the chat pane whenever the socket is not ready; offline says sends are kept. */
export function ConnectionBanner({ session, state }: { session: Session; state: ConnectionState }) {
  const { t } = useTranslation();
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(navigator.onLine);
    window.addEventListener('online', on);
    window.addEventListener('offline', on);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', on);
    };
  }, []);
  if (state === 'ready' && online) return null;
  let text = t('conn.reconnecting');
  if (!online) text = t('conn.offline');
  else if (state === 'connecting' || state === 'idle') text = t('conn.connecting');
  else if (state === 'syncing') text = t('conn.syncing');
  else if (state === 'failed') text = t('conn.failed');
  return (
    <div className={`conn-banner ${state}`} role="status" data-testid="connection-banner" data-state={state}>
      <span>{text}</span>
      {state === 'reconnecting' && online && (
        <button className="link" onClick={() => void session.client.connect().catch(() => undefined)}>
          {t('conn.retryNow')}
        </button>
      )}
    </div>
  );
}
