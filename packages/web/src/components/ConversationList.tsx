import { memo, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Conversation, ConversationId, UserId } from '@enclave/protocol';
import type { ClientState } from '@enclave/sdk';
import { filterConversations, sortConversations } from '../state/conversation-list.ts';
import { listTime, type TimeWords } from '../state/format-time.ts';
import { useNames, useNow } from '../state/hooks.ts';
import { loadDraft } from '../state/prefs.ts';
import type { Session } from '../state/session.ts';
import type { Names } from '../state/names.ts';
import { fileListLabel } from '../state/file-format.ts';
import { previewText } from '../markdown.ts';
import { Avatar } from './Avatar.tsx';
import { Icon } from './Icons.tsx';
import { SearchResults } from './search/SearchResults.tsx';

export function ConversationList({
  session,
  state,
  selectedId,
  onSelect,
  onNewGroup,
  onFileAssistant,
  onOpenPerson,
  onOpenMessage,
}: {
  session: Session;
  state: ClientState;
  selectedId: ConversationId | null;
  onSelect: (id: ConversationId) => void;
  onNewGroup: () => void;
  onFileAssistant: () => void;
  /** From the search results: a person opens the direct chat, a message opens its conversation at it. */
  onOpenPerson: (id: UserId) => void;
  onOpenMessage: (id: ConversationId, seq: number) => void;
}) {
  const { t } = useTranslation();
  const names = useNames(session);
  const now = useNow(60_000);
  const [q, setQ] = useState('');
  const sorted = useMemo(() => sortConversations(Object.values(state.conversations)), [state.conversations]);
  const shown = useMemo(() => filterConversations(sorted, q), [sorted, q]);
  const words = t('time', { returnObjects: true }) as TimeWords;
  const synced = state.syncToken !== null;
  const searching = q.trim() !== '';
  const rowOf = (c: Conversation) => (
    <ConversationRow
      key={c.id}
      c={c}
      me={session.me.id}
      names={names}
      selected={c.id === selectedId}
      time={c.lastTs ? listTime(c.lastTs, now, words) : ''}
      onSelect={onSelect}
    />
  );

  return (
    <section className="list-pane" aria-label={t('rail.messages')}>
      <div className="list-header">
        <label className="search">
          <Icon name="search" size={16} />
          <input
            type="search"
            placeholder={t('list.search')}
            aria-label={t('list.search')}
            value={q}
            onChange={(e) => setQ(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setQ('');
            }}
            data-testid="list-search"
          />
        </label>
        <button
          className="icon-btn"
          title={t('list.fileAssistant')}
          aria-label={t('list.fileAssistant')}
          onClick={onFileAssistant}
        >
          <Icon name="file" />
        </button>
        <button className="icon-btn" title={t('list.newGroup')} aria-label={t('list.newGroup')} onClick={onNewGroup}>
          <Icon name="plus" />
        </button>
      </div>
      {searching && shown.length > 0 && (
        // Chats already in the list that match by name (including File Transfer), before the server's results.
        <section className="search-results search-chats" aria-label={t('search.chats')}>
          <h4 className="search-head">{t('search.chats')}</h4>
          <ul className="conv-list" role="listbox" aria-label={t('search.chats')} data-testid="search-chats">
            {shown.slice(0, CHATS_WHILE_SEARCHING).map(rowOf)}
          </ul>
        </section>
      )}
      {searching && (
        <SearchResults
          session={session}
          q={q}
          onOpenPerson={onOpenPerson}
          onOpenConversation={onSelect}
          onOpenMessage={onOpenMessage}
        />
      )}
      <ul className="conv-list" role="listbox" aria-label={t('rail.messages')} hidden={searching}>
        {!synced && sorted.length === 0 && <SkeletonRows />}
        {synced && sorted.length === 0 && <li className="empty muted">{t('list.empty')}</li>}
        {sorted.map(rowOf)}
      </ul>
    </section>
  );
}

/** Matching chats shown above the search results. */
const CHATS_WHILE_SEARCHING = 5;

function SkeletonRows() {
  return (
    <>
      {[0, 1, 2, 3].map((i) => (
        <li key={i} className="conv-row skeleton" aria-hidden="true">
          <span className="sk-avatar" />
          <span className="sk-lines">
            <span />
            <span />
          </span>
        </li>
      ))}
    </>
  );
}

const ConversationRow = memo(function ConversationRow({
  c,
  me,
  names,
  selected,
  time,
  onSelect,
}: {
  c: Conversation;
  me: string;
  names: Names;
  selected: boolean;
  time: string;
  onSelect: (id: ConversationId) => void;
}) {
  const { t } = useTranslation();
  const draft = selected ? '' : loadDraft(c.id);
  const title = c.kind === 'self' ? t('list.fileAssistant') : c.name;
  return (
    <li
      role="option"
      aria-selected={selected}
      className={`conv-row${selected ? ' selected' : ''}${c.muted ? ' muted-conv' : ''}`}
      data-testid="conv-row"
      data-name={title}
      onClick={() => onSelect(c.id)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') onSelect(c.id);
      }}
      tabIndex={0}
    >
      <Avatar id={c.id} name={title} size={42} group={c.kind === 'group'} />
      <div className="conv-main">
        <div className="conv-top">
          <span className="conv-name">{title}</span>
          <span className="conv-time muted small">{time}</span>
        </div>
        <div className="conv-bottom">
          <span className="conv-preview muted">
            {c.mentions > 0 && <span className="mention-mark">{t('list.mentioned')}</span>}
            {draft ? (
              <>
                <span className="draft-mark">{t('list.draft')}</span> {previewText(draft, 40)}
              </>
            ) : (
              previewOf(c, me, names, t)
            )}
          </span>
          {c.pinned && <Icon name="pin" size={12} label={t('list.pinned')} />}
          {c.unread > 0 &&
            (c.muted ? (
              <span className="dot" data-testid="unread-dot" aria-label={String(c.unread)} />
            ) : (
              <span className="badge" data-testid="unread-badge">
                {c.unread > 99 ? '99+' : c.unread}
              </span>
            ))}
        </div>
      </div>
    </li>
  );
});

function previewOf(c: Conversation, me: string, names: Names, t: (k: string) => string): string {
  const m = c.preview;
  if (!m) return '';
  const who = m.senderId === me ? t('msg.you') : names.name(m.senderId);
  if (m.state === 'recalled') return `${who} ${t('list.recalled')}`;
  if (m.state === 'withheld' || m.signoff) return t('list.signoff');
  if (m.kind === 'system') return t('list.system');
  const text =
    m.kind === 'file' && m.file ? fileListLabel(m.file, t) : m.content ? previewText(m.content.text, 60) : '';
  return c.kind === 'group' ? `${who}: ${text}` : text;
}
