import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { EnclaveError, limits } from '@enclave/protocol';
import { rest } from '../state/session.ts';

export function ChangePassword({
  forced,
  onDone,
  onCancel,
}: {
  forced?: boolean;
  onDone: () => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (next !== repeat) return setError(t('password.mismatch'));
    if (next.length < limits.minPasswordChars) return setError(t('password.weak', { min: limits.minPasswordChars }));
    setBusy(true);
    setError(null);
    try {
      await rest('me.changePassword', { currentPassword: current, newPassword: next });
      onDone();
    } catch (err) {
      setBusy(false);
      if (err instanceof EnclaveError && err.code === 'weak_password')
        setError(t('password.weak', { min: limits.minPasswordChars }));
      else if (err instanceof EnclaveError && err.code === 'invalid_credentials') setError(t('password.wrongCurrent'));
      else setError(t('common.error', { message: err instanceof Error ? err.message : String(err) }));
    }
  }

  const form = (
    <form className="card login-card" onSubmit={submit} aria-label={t('password.title')}>
      <h1>{t('password.title')}</h1>
      {forced && <p className="notice">{t('password.mustChange')}</p>}
      <label className="field">
        <span>{t('password.current')}</span>
        <input
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </label>
      <label className="field">
        <span>{t('password.new')}</span>
        <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
      </label>
      <label className="field">
        <span>{t('password.repeat')}</span>
        <input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="row-end">
        <button type="button" className="btn" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="btn primary" disabled={busy}>
          {t('password.save')}
        </button>
      </div>
    </form>
  );
  return forced ? <div className="center-screen login-screen">{form}</div> : form;
}
