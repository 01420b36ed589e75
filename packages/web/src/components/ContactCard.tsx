import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Person, UserId } from '@enclave/protocol';
import { usePresenceView } from '../state/hooks.ts';
import type { Session } from '../state/session.ts';
import { Avatar } from './Avatar.tsx';
import { Dialog } from './Dialog.tsx';
import { Icon } from './Icons.tsx';

/** A person's card: avatar, name, title, every post, phone, email, presence; message and favourite. */
export function ContactCard({
  session,
  userId,
  favourite,
  onFavouriteChanged,
  onMessage,
}: {
  session: Session;
  userId: string;
  favourite?: boolean;
  onFavouriteChanged?: () => void;
  onMessage: (userId: UserId) => Promise<void> | void;
}) {
  const { t } = useTranslation();
  const presence = usePresenceView(session);
  const [p, setP] = useState<Person | null>(null);
  const [error, setError] = useState(false);
  const [fav, setFav] = useState(favourite ?? false);
  useEffect(() => {
    if (favourite !== undefined) return setFav(favourite);
    // Opened from a chat: ask whether this person is a favourite.
    let live = true;
    session.client
      .call('contacts.favourites', {})
      .then((r) => live && setFav(r.items.some((p) => p.id === userId)))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [favourite, session, userId]);
  useEffect(() => {
    setP(null);
    setError(false);
    session.client
      .call('people.get', { userId: userId as UserId })
      .then((r) => {
        setP(r);
        session.names.put([r]);
      })
      .catch(() => setError(true));
  }, [session, userId]);

  if (error) return <p className="error pad">{t('common.error', { message: userId })}</p>;
  if (!p) return <p className="muted pad">{t('org.loading')}</p>;
  const state = presence.users[p.id]?.state ?? p.presence;
  return (
    <div className="contact-card" data-testid="contact-card">
      <div className="card-head">
        <Avatar id={p.id} name={p.displayName} size={64} presence={state} />
        <div>
          <h2>{p.displayName}</h2>
          <div className="muted">{p.title}</div>
          <div className={`presence-label ${state}`} data-testid="card-presence">
            {t(`presence.${state}`)}
          </div>
        </div>
        {p.id !== session.me.id && (
          <button
            className={`icon-btn fav${fav ? ' on' : ''}`}
            aria-label={fav ? t('card.unfavourite') : t('card.favourite')}
            title={fav ? t('card.unfavourite') : t('card.favourite')}
            aria-pressed={fav}
            data-testid="favourite"
            onClick={() => {
              const on = !fav;
              setFav(on);
              session.client
                .call('contacts.setFavourite', { userId: p.id, on })
                .then(() => onFavouriteChanged?.())
                .catch(() => setFav(!on));
            }}
          >
            <Icon name="star" />
          </button>
        )}
      </div>
      <dl className="card-fields">
        <dt>{t('card.departments')}</dt>
        <dd>
          {p.posts.length === 0 && '—'}
          {p.posts.map((post) => (
            <div key={post.departmentId}>
              {post.departmentName}
              {post.title && ` · ${post.title}`}
              {post.primary && p.posts.length > 1 && <span className="role">{t('card.primary')}</span>}
            </div>
          ))}
        </dd>
        <dt>{t('card.phone')}</dt>
        <dd>{p.phone || '—'}</dd>
        <dt>{t('card.email')}</dt>
        <dd>{p.email ? <a href={`mailto:${p.email}`}>{p.email}</a> : '—'}</dd>
        {p.employeeNo && (
          <>
            <dt>{t('card.employeeNo')}</dt>
            <dd>{p.employeeNo}</dd>
          </>
        )}
      </dl>
      <div className="card-actions">
        <button className="btn primary" onClick={() => void onMessage(p.id)} data-testid="send-message">
          <Icon name="chat" size={16} /> {t('card.message')}
        </button>
        <button className="btn" disabled title={t('card.callsLater')}>
          <Icon name="phone" size={16} /> {t('card.voice')}
        </button>
        <button className="btn" disabled title={t('card.callsLater')}>
          <Icon name="video" size={16} /> {t('card.video')}
        </button>
      </div>
    </div>
  );
}

export function ContactCardDialog({
  session,
  userId,
  onClose,
  onMessage,
}: {
  session: Session;
  userId: string;
  onClose: () => void;
  onMessage: (userId: UserId) => Promise<void> | void;
}) {
  const { t } = useTranslation();
  return (
    <Dialog title={t('org.title')} onClose={onClose}>
      <ContactCard session={session} userId={userId} onMessage={onMessage} />
    </Dialog>
  );
}
