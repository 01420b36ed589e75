import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Session as DeviceSession } from '@enclave/protocol';
import type { ChosenPresence } from '@enclave/sdk';
import { listTime, type TimeWords } from '../state/format-time.ts';
import type { Prefs } from '../state/prefs.ts';
import type { Session } from '../state/session.ts';
import { Avatar } from './Avatar.tsx';
import { ChangePassword } from './ChangePassword.tsx';
import { LanguageSwitch } from './LanguageSwitch.tsx';

const PRESENCE_CHOICES: ChosenPresence[] = ['online', 'away', 'busy'];

/** Me: status, language, theme, notifications, signed-in devices, password, sign out. */
export function SettingsPane({
  session,
  prefs,
  onPrefs,
  onLogout,
}: {
  session: Session;
  prefs: Prefs;
  onPrefs: (p: Prefs) => void;
  onLogout: () => void;
}) {
  const { t } = useTranslation();
  const client = session.client;
  const [status, setStatus] = useState<ChosenPresence>(
    () => (localStorage.getItem('enclave.presence') as ChosenPresence) || 'online',
  );
  const [sessions, setSessions] = useState<DeviceSession[] | null>(null);
  const [password, setPassword] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [permission, setPermission] = useState(() =>
    typeof Notification === 'undefined' ? 'denied' : Notification.permission,
  );
  const words = t('time', { returnObjects: true }) as TimeWords;

  const loadSessions = useCallback(() => {
    client
      .call('session.list', {})
      .then((r) => setSessions(r.items))
      .catch(() => setSessions([]));
  }, [client]);
  useEffect(loadSessions, [loadSessions]);

  return (
    <main className="main-pane settings" aria-label={t('settings.title')}>
      <div className="settings-inner">
        <h2>{t('settings.title')}</h2>
        <section className="settings-card">
          <div className="me-row">
            <Avatar id={session.me.id} name={session.me.displayName} size={48} />
            <div>
              <strong>{session.me.displayName}</strong>
              <div className="muted small">@{session.me.username}</div>
            </div>
          </div>
          <div className="setting-row">
            <span>{t('settings.status')}</span>
            <div className="segmented" role="radiogroup" aria-label={t('settings.status')}>
              {PRESENCE_CHOICES.map((s) => (
                <button
                  key={s}
                  role="radio"
                  aria-checked={status === s}
                  className={status === s ? 'on' : ''}
                  data-testid={`status-${s}`}
                  onClick={() => {
                    setStatus(s);
                    localStorage.setItem('enclave.presence', s);
                    client.setPresence(s).catch(() => undefined);
                  }}
                >
                  <span className={`presence-dot inline ${s}`} /> {t(`presence.${s}`)}
                </button>
              ))}
            </div>
          </div>
        </section>
        <section className="settings-card">
          <div className="setting-row">
            <LanguageSwitch />
          </div>
          <div className="setting-row">
            <span>{t('settings.theme')}</span>
            <div className="segmented" role="radiogroup" aria-label={t('settings.theme')}>
              {(['light', 'dark', 'system'] as const).map((th) => (
                <button
                  key={th}
                  role="radio"
                  aria-checked={prefs.theme === th}
                  className={prefs.theme === th ? 'on' : ''}
                  data-testid={`theme-${th}`}
                  onClick={() => onPrefs({ ...prefs, theme: th })}
                >
                  {t(`settings.${th}`)}
                </button>
              ))}
            </div>
          </div>
        </section>
        <section className="settings-card">
          <h3>{t('settings.notifications')}</h3>
          <label className="switch-row">
            <span>{t('settings.desktopNotify')}</span>
            <input
              type="checkbox"
              checked={prefs.notify && permission === 'granted'}
              onChange={async (e) => {
                const on = e.target.checked;
                if (on && typeof Notification !== 'undefined' && Notification.permission === 'default')
                  setPermission(await Notification.requestPermission());
                onPrefs({ ...prefs, notify: on });
              }}
            />
          </label>
          {permission === 'denied' && <p className="muted small">{t('settings.notifyDenied')}</p>}
          <label className="switch-row">
            <span>{t('settings.sound')}</span>
            <input
              type="checkbox"
              checked={prefs.sound}
              onChange={(e) => onPrefs({ ...prefs, sound: e.target.checked })}
            />
          </label>
          <label className="switch-row">
            <span>{t('settings.dnd')}</span>
            <input type="checkbox" checked={prefs.dnd} onChange={(e) => onPrefs({ ...prefs, dnd: e.target.checked })} />
          </label>
        </section>
        <section className="settings-card">
          <h3>{t('settings.sessions')}</h3>
          <ul className="session-list" data-testid="sessions">
            {sessions?.map((s) => (
              <li key={s.id}>
                <div>
                  <strong>{s.deviceName}</strong>
                  {s.current && <span className="role">{t('settings.thisDevice')}</span>}
                  <div className="muted small">
                    {[s.ip, t('settings.lastUsed', { time: listTime(s.lastUsedAt, Date.now(), words) })]
                      .filter(Boolean)
                      .join(' · ')}
                  </div>
                </div>
                {!s.current && (
                  <button
                    className="btn small"
                    onClick={() =>
                      client
                        .call('session.revoke', { sessionId: s.id })
                        .then(loadSessions)
                        .catch(() => undefined)
                    }
                  >
                    {t('settings.revoke')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
        <section className="settings-card">
          {password ? (
            <ChangePassword
              onDone={() => {
                setPassword(false);
                setSaved(t('password.saved'));
                loadSessions();
              }}
              onCancel={() => setPassword(false)}
            />
          ) : (
            <button className="btn" onClick={() => setPassword(true)}>
              {t('settings.changePassword')}
            </button>
          )}
          {saved && <p className="notice">{saved}</p>}
        </section>
        <button className="btn danger wide" onClick={onLogout} data-testid="logout">
          {t('settings.logout')}
        </button>
      </div>
    </main>
  );
}
