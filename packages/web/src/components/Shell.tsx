import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationId, UserId } from '@enclave/protocol';
import { MOBILE_QUERY, useClientState, useConnectionState, useMediaQuery } from '../state/hooks.ts';
import { totalUnread } from '../state/conversation-list.ts';
import { useNotifications } from '../state/notify.ts';
import { applyTheme, loadPrefs, savePrefs, type Prefs } from '../state/prefs.ts';
import type { Session } from '../state/session.ts';
import { Avatar } from './Avatar.tsx';
import { ChatPane } from './ChatPane.tsx';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { ConversationList } from './ConversationList.tsx';
import { Icon, type IconName } from './Icons.tsx';
import { NewGroupDialog } from './NewGroupDialog.tsx';
import { OrgPane } from './OrgPane.tsx';
import { FilesPane } from './files/FilesPane.tsx';
import { SettingsPane } from './SettingsPane.tsx';
import { SessionContext } from './session-context.ts';
import { waitForConversation } from './wait-conversation.ts';

export type Tab = 'messages' | 'contacts' | 'files' | 'settings';

/** The signed-in app: rail (bottom tabs on phones), list pane, main pane. */
export function Shell({ session, onLoggedOut }: { session: Session; onLoggedOut: () => void }) {
  const { t } = useTranslation();
  const state = useClientState(session);
  const connection = useConnectionState(session);
  const mobile = useMediaQuery(MOBILE_QUERY);
  const [tab, setTab] = useState<Tab>('messages');
  const [openId, setOpenId] = useState<ConversationId | null>(null);
  /** A message to show when the chat opens (search hit); the nonce repeats a jump to the same seq. */
  const [jump, setJump] = useState<{ conversationId: ConversationId; seq: number; nonce: number } | null>(null);
  const [newGroup, setNewGroup] = useState(false);
  const [prefs, setPrefsState] = useState<Prefs>(loadPrefs);
  const setPrefs = useCallback((p: Prefs) => {
    savePrefs(p);
    applyTheme(p.theme);
    setPrefsState(p);
  }, []);

  useNotifications(session, prefs, tab === 'messages' ? openId : null, t('app.name'));

  // Any input counts as activity (leaves auto-away); throttled to one call per 10 s.
  useEffect(() => {
    let last = 0;
    const on = () => {
      const now = Date.now();
      if (now - last < 10_000) return;
      last = now;
      session.client.activity();
    };
    const events = ['keydown', 'pointerdown', 'pointermove', 'focus'] as const;
    for (const e of events) window.addEventListener(e, on, { passive: true });
    return () => {
      for (const e of events) window.removeEventListener(e, on);
    };
  }, [session]);

  const unread = useMemo(
    () => totalUnread(Object.values(state.conversations).map((v) => v.summary)),
    [state.conversations],
  );

  const openConversation = useCallback((id: ConversationId) => {
    performance.clearMarks(`enclave:open:${id}`);
    performance.mark(`enclave:open:${id}`);
    setTab('messages');
    setOpenId(id);
    setJump(null);
  }, []);

  const messageUser = useCallback(
    async (userId: UserId) => {
      const c =
        userId === session.me.id
          ? await session.client.call('conversation.openSelf', {})
          : await session.client.call('conversation.openDirect', { userId });
      await waitForConversation(session, c.id);
      openConversation(c.id);
    },
    [session, openConversation],
  );

  const openMessage = useCallback(
    async (id: ConversationId, seq: number) => {
      await waitForConversation(session, id);
      openConversation(id);
      setJump({ conversationId: id, seq, nonce: Date.now() });
    },
    [session, openConversation],
  );

  const logout = useCallback(async () => {
    await session.logout().catch(() => undefined);
    onLoggedOut();
  }, [session, onLoggedOut]);

  const rail: { id: Tab; icon: IconName; label: string; badge?: number }[] = [
    { id: 'messages', icon: 'chat', label: t('rail.messages'), badge: unread },
    { id: 'contacts', icon: 'contacts', label: t('rail.contacts') },
    { id: 'files', icon: 'folder', label: t('rail.files') },
    { id: 'settings', icon: 'settings', label: t('rail.settings') },
  ];
  const showList = !mobile || openId === null || tab !== 'messages';
  const showMain = !mobile || (tab === 'messages' && openId !== null) || tab !== 'messages';

  return (
    <SessionContext value={session}>
      <div className={`shell${mobile ? ' mobile' : ''}`} data-tab={tab}>
        <nav className="rail" aria-label={t('app.name')}>
          {!mobile && (
            <button className="rail-me" title={session.me.displayName} onClick={() => setTab('settings')}>
              <Avatar id={session.me.id} name={session.me.displayName} size={36} />
            </button>
          )}
          {rail.map((r) => (
            <button
              key={r.id}
              className={`rail-item${tab === r.id ? ' active' : ''}`}
              aria-label={r.label}
              aria-current={tab === r.id ? 'page' : undefined}
              title={r.label}
              data-testid={`tab-${r.id}`}
              onClick={() => {
                setTab(r.id);
                if (mobile && r.id === 'messages') setOpenId(null);
              }}
            >
              <Icon name={r.icon} size={22} />
              <span className="rail-label">{r.label}</span>
              {r.badge ? (
                <span className="badge" data-testid="total-unread">
                  {r.badge > 99 ? '99+' : r.badge}
                </span>
              ) : null}
            </button>
          ))}
        </nav>
        {tab === 'messages' && showList && (
          <ConversationList
            session={session}
            state={state}
            selectedId={openId}
            onSelect={openConversation}
            onNewGroup={() => setNewGroup(true)}
            onFileAssistant={() => void messageUser(session.me.id)}
            onOpenPerson={(id) => void messageUser(id)}
            onOpenMessage={(id, seq) => void openMessage(id, seq)}
          />
        )}
        {tab === 'messages' && showMain && (
          <main className="main-pane">
            <ConnectionBanner session={session} state={connection} />
            {openId && state.conversations[openId] ? (
              <ChatPane
                key={openId}
                session={session}
                view={state.conversations[openId]!}
                pending={state.pending}
                mobile={mobile}
                onBack={() => setOpenId(null)}
                onOpenConversation={openConversation}
                jump={jump?.conversationId === openId ? jump : null}
              />
            ) : (
              <div className="empty-main muted">{t('chat.pick')}</div>
            )}
          </main>
        )}
        {tab === 'contacts' && <OrgPane session={session} mobile={mobile} onMessage={messageUser} />}
        {tab === 'files' && <FilesPane session={session} onOpenMessage={(id, seq) => void openMessage(id, seq)} />}
        {tab === 'settings' && <SettingsPane session={session} prefs={prefs} onPrefs={setPrefs} onLogout={logout} />}
        {newGroup && (
          <NewGroupDialog
            session={session}
            onClose={() => setNewGroup(false)}
            onCreated={(id) => {
              setNewGroup(false);
              openConversation(id);
            }}
          />
        )}
      </div>
    </SessionContext>
  );
}
