import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Conversation, Member, UserId } from '@enclave/protocol';
import type { Session } from '../state/session.ts';
import { Avatar } from './Avatar.tsx';
import { Icon } from './Icons.tsx';
import { PeoplePicker } from './PeoplePicker.tsx';
import { Dialog } from './Dialog.tsx';

/** The details drawer: settings (mute, pin), and for groups the announcement, members and management. */
export function GroupDetails({
  session,
  conversation: c,
  members,
  onClose,
  onError,
  onChanged,
  onOpenPerson,
}: {
  session: Session;
  conversation: Conversation;
  members: Member[];
  onClose: () => void;
  onError: (e: unknown) => void;
  onChanged: () => void;
  onOpenPerson: (userId: string) => void;
}) {
  const { t } = useTranslation();
  const client = session.client;
  const manage = c.role === 'owner' || c.role === 'admin';
  const [announcement, setAnnouncement] = useState<string | null>(null);
  const [name, setName] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const now = Date.now();

  const run = (p: Promise<unknown>) => p.then(onChanged, onError);
  const setting = (patch: { muted?: boolean; pinned?: boolean }) =>
    run(client.call('conversation.setSettings', { conversationId: c.id, ...patch }));

  return (
    <aside className="drawer" aria-label={t('chat.details')} data-testid="details">
      <header className="drawer-header">
        <h3>{t('chat.details')}</h3>
        <button className="icon-btn" aria-label={t('common.close')} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <section>
        <h4>{t('settingsConv.title')}</h4>
        <label className="switch-row">
          <span>{t('settingsConv.mute')}</span>
          <input
            type="checkbox"
            checked={c.muted}
            onChange={(e) => void setting({ muted: e.target.checked })}
            data-testid="mute-toggle"
          />
        </label>
        <label className="switch-row">
          <span>{t('settingsConv.pin')}</span>
          <input
            type="checkbox"
            checked={c.pinned}
            onChange={(e) => void setting({ pinned: e.target.checked })}
            data-testid="pin-toggle"
          />
        </label>
      </section>
      {c.kind === 'group' && (
        <>
          <section>
            <h4>{t('group.announcement')}</h4>
            {announcement === null ? (
              <>
                <p className={c.announcement ? '' : 'muted'}>{c.announcement || t('group.announcementEmpty')}</p>
                {manage && !c.dissolved && (
                  <button className="link" onClick={() => setAnnouncement(c.announcement ?? '')}>
                    {t('group.editAnnouncement')}
                  </button>
                )}
              </>
            ) : (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void run(
                    client.call('group.update', { conversationId: c.id, announcement: announcement.trim() || null }),
                  ).then(() => setAnnouncement(null));
                }}
              >
                <textarea
                  value={announcement}
                  onChange={(e) => setAnnouncement(e.target.value)}
                  rows={3}
                  data-testid="announcement-input"
                />
                <div className="row-end">
                  <button type="button" className="btn" onClick={() => setAnnouncement(null)}>
                    {t('common.cancel')}
                  </button>
                  <button className="btn primary">{t('group.save')}</button>
                </div>
              </form>
            )}
          </section>
          {manage && !c.dissolved && (
            <section>
              {name === null ? (
                <button className="link" onClick={() => setName(c.name)}>
                  {t('group.rename')}
                </button>
              ) : (
                <form
                  className="inline-form"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (name.trim())
                      void run(client.call('group.update', { conversationId: c.id, name: name.trim() })).then(() =>
                        setName(null),
                      );
                  }}
                >
                  <input
                    value={name}
                    onChange={(e) => setName(e.target.value)}
                    aria-label={t('group.name')}
                    maxLength={100}
                  />
                  <button className="btn primary small">{t('group.save')}</button>
                </form>
              )}
              <label className="switch-row">
                <span>{t('group.muteAll')}</span>
                <input
                  type="checkbox"
                  checked={c.allMuted}
                  onChange={(e) =>
                    void run(client.call('group.update', { conversationId: c.id, allMuted: e.target.checked }))
                  }
                />
              </label>
            </section>
          )}
          <section>
            <div className="section-head">
              <h4>
                {t('group.members')} ({members.length || c.memberCount})
              </h4>
              {manage && !c.dissolved && (
                <button className="link" onClick={() => setAdding(true)} data-testid="add-members">
                  {t('group.addMembers')}
                </button>
              )}
            </div>
            <ul className="member-list">
              {members.map((m) => {
                const muted = m.mutedUntil !== null && m.mutedUntil > now;
                const canManage = manage && m.role !== 'owner' && m.userId !== session.me.id && !c.dissolved;
                return (
                  <li key={m.userId} data-testid="member">
                    <button className="person-btn" onClick={() => onOpenPerson(m.userId)}>
                      <Avatar id={m.userId} name={m.displayName} size={28} />
                      <span>{m.displayName}</span>
                    </button>
                    {m.role !== 'member' && <span className={`role ${m.role}`}>{t(`group.${m.role}`)}</span>}
                    {muted && <span className="role muted-role">{t('group.mutedUntil')}</span>}
                    {canManage && (
                      <details className="member-menu">
                        <summary aria-label={t('msg.more')}>⋯</summary>
                        <div
                          className="menu"
                          onClick={(e) => {
                            (e.currentTarget.parentElement as HTMLDetailsElement).open = false;
                          }}
                        >
                          {c.role === 'owner' && (
                            <button
                              onClick={() =>
                                void run(
                                  client.call('group.setMember', {
                                    conversationId: c.id,
                                    userId: m.userId,
                                    role: m.role === 'admin' ? 'member' : 'admin',
                                  }),
                                )
                              }
                            >
                              {m.role === 'admin' ? t('group.revokeAdmin') : t('group.makeAdmin')}
                            </button>
                          )}
                          <button
                            onClick={() =>
                              void run(
                                client.call('group.setMember', {
                                  conversationId: c.id,
                                  userId: m.userId,
                                  mutedUntil: muted ? null : Date.now() + 365 * 86_400_000,
                                }),
                              )
                            }
                          >
                            {muted ? t('group.unmuteMember') : t('group.muteMember')}
                          </button>
                          {c.role === 'owner' && (
                            <button
                              onClick={() =>
                                void run(client.call('group.transfer', { conversationId: c.id, userId: m.userId }))
                              }
                            >
                              {t('group.transfer')}
                            </button>
                          )}
                          <button
                            className="danger"
                            onClick={() => {
                              if (confirm(t('group.confirmRemove', { name: m.displayName })))
                                void run(client.call('group.removeMember', { conversationId: c.id, userId: m.userId }));
                            }}
                          >
                            {t('group.remove')}
                          </button>
                        </div>
                      </details>
                    )}
                  </li>
                );
              })}
            </ul>
          </section>
          {!c.dissolved && c.active && (
            <section className="danger-zone">
              {c.role !== 'owner' && (
                <button
                  className="btn danger wide"
                  onClick={() => {
                    if (confirm(t('group.confirmLeave')))
                      void run(client.call('group.leave', { conversationId: c.id }));
                  }}
                >
                  {t('group.leave')}
                </button>
              )}
              {c.role === 'owner' && (
                <button
                  className="btn danger wide"
                  onClick={() => {
                    if (confirm(t('group.confirmDissolve')))
                      void run(client.call('group.dissolve', { conversationId: c.id }));
                  }}
                >
                  {t('group.dissolve')}
                </button>
              )}
            </section>
          )}
        </>
      )}
      {adding && (
        <Dialog title={t('group.addMembers')} onClose={() => setAdding(false)} wide>
          <PeoplePicker
            session={session}
            exclude={new Set(members.map((m) => m.userId))}
            submitLabel={t('group.addMembers')}
            onSubmit={async (ids) => {
              await run(client.call('group.addMembers', { conversationId: c.id, userIds: ids as UserId[] }));
              setAdding(false);
            }}
          />
        </Dialog>
      )}
    </aside>
  );
}
