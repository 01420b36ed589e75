import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { User } from '@enclave/protocol';
import { deviceId, deviceName, rest } from '../state/session.ts';
import { loginErrorKey } from '../state/errors.ts';
import { LanguageSwitch } from './LanguageSwitch.tsx';

export function Login({
  notice,
  onSignedIn,
}: {
  notice?: string;
  onSignedIn: (user: User, mustChangePassword: boolean) => void;
}) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!username.trim() || !password) return setError(t('login.required'));
    setBusy(true);
    setError(null);
    try {
      const r = await rest('auth.login', {
        username: username.trim(),
        password,
        deviceId: deviceId(),
        deviceName: deviceName(),
      });
      onSignedIn(r.user, r.mustChangePassword);
    } catch (err) {
      const { key, params } = loginErrorKey(err);
      setError(t(key, params ?? {}));
      setBusy(false);
    }
  }

  return (
    <div className="center-screen login-screen">
      <form className="card login-card" onSubmit={submit} aria-label={t('login.title')}>
        <div className="login-brand">
          <img src="/icon.svg" alt="" width={48} height={48} />
          <div>
            <h1>{t('login.title')}</h1>
            <p className="muted">{t('login.subtitle')}</p>
          </div>
        </div>
        {notice && !error && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label className="field">
          <span>{t('login.username')}</span>
          <input
            name="username"
            autoComplete="username"
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button className="btn primary wide" type="submit" disabled={busy}>
          {busy ? t('login.submitting') : t('login.submit')}
        </button>
        <div className="login-footer">
          <LanguageSwitch />
        </div>
      </form>
    </div>
  );
}
