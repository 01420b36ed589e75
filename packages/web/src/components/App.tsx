import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { User } from '@enclave/protocol';
import { currentUser, Session } from '../state/session.ts';
import { Login } from './Login.tsx';
import { ChangePassword } from './ChangePassword.tsx';
import { Shell } from './Shell.tsx';

type Phase =
  | { name: 'checking' }
  | { name: 'login'; notice?: string }
  | { name: 'password'; user: User }
  | { name: 'ready'; session: Session };

/** Sign-in state: check the session cookie, then sign in, change a required password, or open the app. */
export function App() {
  const { t } = useTranslation();
  const [phase, setPhase] = useState<Phase>({ name: 'checking' });
  const [bootError, setBootError] = useState(false);

  const open = useCallback((user: User, mustChangePassword: boolean) => {
    if (mustChangePassword) return setPhase({ name: 'password', user });
    const session = new Session(user);
    setPhase({ name: 'ready', session });
  }, []);

  const check = useCallback(() => {
    setBootError(false);
    currentUser()
      .then((me) => (me ? open(me.user, me.mustChangePassword) : setPhase({ name: 'login' })))
      .catch(() => setBootError(true));
  }, [open]);

  useEffect(check, [check]);

  useEffect(() => {
    if (phase.name !== 'ready') return;
    const { session } = phase;
    const off = session.client.on('auth-lost', () => {
      session.client.close();
      setPhase({ name: 'login', notice: t('conn.failed') });
    });
    session.start().catch(() => {
      /* auth-lost or a closed client is handled above; reconnects continue by themselves */
    });
    return () => {
      off();
    };
  }, [phase, t]);

  if (bootError)
    return (
      <div className="center-screen">
        <div className="card">
          <p role="alert">{t('login.unreachable')}</p>
          <button className="btn primary" onClick={check}>
            {t('common.retry')}
          </button>
        </div>
      </div>
    );
  if (phase.name === 'checking') return <div className="center-screen muted">{t('app.loading')}</div>;
  if (phase.name === 'login') return <Login notice={phase.notice} onSignedIn={open} />;
  if (phase.name === 'password')
    return (
      <ChangePassword forced onDone={() => open(phase.user, false)} onCancel={() => setPhase({ name: 'login' })} />
    );
  return (
    <Shell
      session={phase.session}
      onLoggedOut={() => {
        setPhase({ name: 'login' });
      }}
    />
  );
}
