import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationId, Member, Message } from '@enclave/protocol';
import type { ConversationView, PendingEcho } from '@enclave/sdk';
import { recalledTexts, type ChatActions } from '../state/chat-actions.ts';
import { errorKey } from '../state/errors.ts';
import { usePresenceView } from '../state/hooks.ts';
import type { Session } from '../state/session.ts';
import { Composer, type ComposerHandle } from './Composer.tsx';
import { GroupDetails } from './GroupDetails.tsx';
import { HistoryPanel } from './history/HistoryPanel.tsx';
import { isGone } from './history/history-query.ts';
import { Icon } from './Icons.tsx';
import { MessageList } from './MessageList.tsx';
import { ReceiptsDialog } from './ReceiptsDialog.tsx';
import { ContactCardDialog } from './ContactCard.tsx';
import { useTypingNames } from './useTyping.ts';
import { useReadCounts } from './useReadCounts.ts';
import { TransferList } from './files/TransferList.tsx';
import { useChatFiles } from './files/useChatFiles.tsx';

/** One open conversation: header, announcement, history, typing line, composer, details drawer. */
export function ChatPane({
  session,
  view,
  pending,
  mobile,
  onBack,
  onOpenConversation,
  jump = null,
}: {
  session: Session;
  view: ConversationView;
  pending: Readonly<Record<string, PendingEcho>>;
  mobile: boolean;
  onBack: () => void;
  onOpenConversation: (id: ConversationId) => void;
  /** Open at this message (a search hit) instead of the latest; a new nonce jumps again. */
  jump?: { seq: number; nonce: number } | null;
}) {
  const { t } = useTranslation();
  const c = view.summary;
  const client = session.client;
  const [members, setMembers] = useState<Member[]>([]);
  const [details, setDetails] = useState(false);
  const [history, setHistory] = useState(false);
  const [jumpTo, setJumpTo] = useState(jump);
  useEffect(() => {
    if (jump) setJumpTo(jump);
  }, [jump]);
  const [receiptsFor, setReceiptsFor] = useState<Message | null>(null);
  const [person, setPerson] = useState<string | null>(null);
  const [toast, setToast] = useState<string | null>(null);
  const composer = useRef<ComposerHandle>(null);
  const presence = usePresenceView(session);
  const typing = useTypingNames(session, c.id);
  const readCounts = useReadCounts(session, view);
  const files = useChatFiles(session, c, setToast);

  const showError = useCallback(
    (e: unknown) => {
      const { key, params } = errorKey(e);
      setToast(t(key, params ?? {}));
    },
    [t],
  );

  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(null), 4_000);
    return () => clearTimeout(timer);
  }, [toast]);

  // Live read receipts for the open conversation; presence of a 1:1 peer.
  useEffect(() => {
    client.call('conversation.focus', { conversationId: c.id }).catch(() => undefined);
    return () => {
      client.call('conversation.focus', { conversationId: null }).catch(() => undefined);
    };
  }, [client, c.id]);
  useEffect(() => {
    if (c.kind !== 'direct' || !c.peer) return;
    client.subscribePresence([c.peer.id]).catch(() => undefined);
  }, [client, c.kind, c.peer]);

  // Group members: names for senders and mentions; refreshed when membership changes.
  const [membersVersion, setMembersVersion] = useState(0);
  useEffect(
    () =>
      client.on('conv', (e) => {
        if (e.conversationId === c.id && (e.type.startsWith('member.') || e.type === 'conversation.updated'))
          setMembersVersion((v) => v + 1);
      }),
    [client, c.id],
  );
  useEffect(() => {
    if (c.kind !== 'group' || !c.active) return;
    let live = true;
    client
      .call('group.members', { conversationId: c.id })
      .then((r) => {
        if (!live) return;
        setMembers(r.items);
        session.names.put(r.items.map((m) => ({ id: m.userId, displayName: m.displayName })));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [client, session, c.id, c.kind, c.active, membersVersion]);

  // Read what is shown: move the read cursor when the tab is visible and new messages arrived.
  useEffect(() => {
    if (c.readSeq >= c.lastSeq || !c.active) return;
    const mark = () => {
      if (document.visibilityState !== 'visible') return;
      client.markRead(c.id, c.lastSeq).catch(() => undefined);
    };
    const timer = setTimeout(mark, 250);
    document.addEventListener('visibilitychange', mark);
    return () => {
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', mark);
    };
  }, [client, c.id, c.lastSeq, c.readSeq, c.active]);

  // Esc closes the details drawer or the history manager (a dialog on top closes first).
  useEffect(() => {
    if (!details && !history) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || document.querySelector('.backdrop')) return;
      setDetails(false);
      setHistory(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [details, history]);

  const myPending = useMemo(() => Object.values(pending).filter((p) => p.conversationId === c.id), [pending, c.id]);

  const actions: ChatActions = useMemo(
    () => ({
      reply: (m) => composer.current?.reply(m),
      edit: (m) => composer.current?.edit(m),
      recall: (m) => {
        if (m.content && m.kind === 'text') recalledTexts.put(c.id, m.seq, m.content.text, Date.now());
        client.queue('message.recall', { conversationId: c.id, seq: m.seq }).catch(showError);
      },
      react: (m, emoji, on) => {
        client.queue('message.react', { conversationId: c.id, seq: m.seq, emoji, on }).catch(showError);
      },
      sign: (m) => {
        client.call('message.sign', { conversationId: c.id, seq: m.seq }).catch(showError);
      },
      showReceipts: (m) => setReceiptsFor(m),
      reEdit: (text) => composer.current?.setText(text),
      retry: (id) => void client.retry(id),
      discard: (id) => void client.discard(id),
      openPerson: (userId) => setPerson(userId),
      previewFile: files.preview,
      forward: files.forward,
    }),
    [client, c.id, showError, files.preview, files.forward],
  );
  useEffect(
    () =>
      client.on('outbox.failed', ({ entry, error }) => {
        if (entry.conversationId === c.id) showError(error);
      }),
    [client, c.id, showError],
  );

  const title = c.kind === 'self' ? t('list.fileAssistant') : c.name;
  const peerPresence = c.peer ? presence.users[c.peer.id]?.state : undefined;

  return (
    <div className="chat-pane" data-testid="chat-pane" data-conversation={c.id} {...files.drop}>
      <header className="chat-header">
        {mobile && (
          <button className="icon-btn" aria-label={t('chat.back')} onClick={onBack} data-testid="back">
            <Icon name="back" />
          </button>
        )}
        <div className="chat-title">
          <h2 data-testid="chat-title">{title}</h2>
          <span className="muted small">
            {c.kind === 'group' && t('chat.members', { count: members.length || c.memberCount })}
            {c.kind === 'direct' && peerPresence && (
              <span data-testid="peer-presence" data-presence={peerPresence}>
                <span className={`presence-dot inline ${peerPresence}`} /> {t(`presence.${peerPresence}`)}
              </span>
            )}
          </span>
        </div>
        <button
          className="icon-btn"
          aria-label={c.kind === 'group' ? t('files.open') : t('rail.files')}
          title={c.kind === 'group' ? t('files.open') : t('rail.files')}
          onClick={files.openSpace}
          data-testid="files-toggle"
        >
          <Icon name="folder" />
        </button>
        <button
          className="icon-btn"
          aria-label={t('history.open')}
          title={t('history.open')}
          aria-pressed={history}
          onClick={() => {
            setHistory((h) => !h);
            setDetails(false);
          }}
          data-testid="history-toggle"
        >
          <Icon name="search" />
        </button>
        <button
          className="icon-btn"
          aria-label={t('chat.details')}
          title={t('chat.details')}
          onClick={() => {
            setDetails((d) => !d);
            setHistory(false);
          }}
          data-testid="details-toggle"
        >
          <Icon name="more" />
        </button>
      </header>
      {c.kind === 'group' && c.announcement && (
        <div className="announcement" data-testid="announcement">
          <strong>{t('chat.announcement')}</strong> <span>{c.announcement}</span>
        </div>
      )}
      <div className="chat-body">
        <MessageList
          session={session}
          view={view}
          pending={myPending}
          actions={actions}
          readCounts={readCounts}
          jump={jumpTo}
          onJumpFailed={(e) => (isGone(e) ? setToast(t('history.gone')) : showError(e))}
        />
        {history && (
          <HistoryPanel
            session={session}
            conversation={c}
            onClose={() => setHistory(false)}
            onJump={(seq) => setJumpTo({ seq, nonce: Date.now() })}
          />
        )}
        {details && (
          <GroupDetails
            session={session}
            conversation={c}
            members={members}
            onClose={() => setDetails(false)}
            onError={showError}
            onChanged={() => setMembersVersion((v) => v + 1)}
            onOpenPerson={setPerson}
          />
        )}
      </div>
      <TransferList uploads={files.uploads} conversationId={c.id} />
      <div className="typing-line muted small" aria-live="polite" data-testid="typing">
        {typing.length > 0 && t('chat.typing', { name: typing.map((id) => session.names.name(id)).join(', ') })}
      </div>
      {toast && (
        <div className="toast" role="alert">
          {toast}
        </div>
      )}
      {c.dissolved ? (
        <div className="composer-disabled muted">{t('chat.readOnly')}</div>
      ) : !c.active ? (
        <div className="composer-disabled muted">{t('chat.left')}</div>
      ) : (
        <Composer ref={composer} session={session} conversation={c} view={view} members={members} onError={showError} />
      )}
      {files.dialogs}
      {receiptsFor && (
        <ReceiptsDialog session={session} conversation={c} message={receiptsFor} onClose={() => setReceiptsFor(null)} />
      )}
      {person && (
        <ContactCardDialog
          session={session}
          userId={person}
          onClose={() => setPerson(null)}
          onMessage={async (userId) => {
            setPerson(null);
            const conv =
              userId === session.me.id
                ? await client.call('conversation.openSelf', {})
                : await client.call('conversation.openDirect', { userId: userId as never });
            onOpenConversation(conv.id);
          }}
        />
      )}
    </div>
  );
}
