import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationId, GroupHit, Person, SearchHit, UserId } from '@enclave/protocol';
import { listTime, type TimeWords } from '../../state/format-time.ts';
import { useNow } from '../../state/hooks.ts';
import type { Session } from '../../state/session.ts';
import { Avatar } from '../Avatar.tsx';
import { Highlighted } from './Highlighted.tsx';
import { useDebounced } from './useDebounced.ts';
import { useSenderNames } from './useSenderNames.ts';
import './search.css';

/** People and groups shown per search; messages come in pages of this size. */
const DIRECTORY_LIMIT = 5;
const MESSAGE_PAGE = 10;

interface Found {
  q: string;
  people: Person[];
  groups: GroupHit[];
  hits: SearchHit[];
  nextCursor: string | null;
}

/**
 * The list pane's search: people and groups (names, pinyin full and initials) and messages with
 * their matches highlighted, grouped; more messages page by cursor.
 */
export function SearchResults({
  session,
  q,
  onOpenPerson,
  onOpenConversation,
  onOpenMessage,
}: {
  session: Session;
  q: string;
  onOpenPerson: (id: UserId) => void;
  onOpenConversation: (id: ConversationId) => void;
  onOpenMessage: (id: ConversationId, seq: number) => void;
}) {
  const { t } = useTranslation();
  const now = useNow(60_000);
  const words = t('time', { returnObjects: true }) as TimeWords;
  const query = useDebounced(q.trim(), 250);
  const [found, setFound] = useState<Found | null>(null);
  const [failed, setFailed] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const client = session.client;

  useEffect(() => {
    if (!query) return;
    let live = true;
    setFailed(false);
    const directory = client.searchDirectory(query.slice(0, 64), DIRECTORY_LIMIT);
    const messages = client.search(query, { limit: MESSAGE_PAGE });
    Promise.allSettled([directory, messages]).then(([d, m]) => {
      if (!live) return;
      if (d.status === 'rejected' && m.status === 'rejected') {
        setFailed(true);
        return;
      }
      setFound({
        q: query,
        people: d.status === 'fulfilled' ? d.value.people : [],
        groups: d.status === 'fulfilled' ? d.value.groups : [],
        hits: m.status === 'fulfilled' ? m.value.items : [],
        nextCursor: m.status === 'fulfilled' ? m.value.nextCursor : null,
      });
    });
    return () => {
      live = false;
    };
  }, [client, query, attempt]);

  const more = useCallback(async () => {
    if (!found?.nextCursor || loadingMore) return;
    setLoadingMore(true);
    try {
      const page = await client.search(found.q, { limit: MESSAGE_PAGE, cursor: found.nextCursor });
      setFound((f) =>
        f && f.q === found.q ? { ...f, hits: [...f.hits, ...page.items], nextCursor: page.nextCursor } : f,
      );
    } catch {
      setFailed(true);
    } finally {
      setLoadingMore(false);
    }
  }, [client, found, loadingMore]);

  const current = found && found.q === query ? found : null;
  const names = useSenderNames(
    session,
    (current?.hits ?? []).filter((h) => h.conversation.kind === 'group').map((h) => h.message.senderId),
  );
  const nothing = current && !current.people.length && !current.groups.length && !current.hits.length;

  return (
    <div className="search-results" data-testid="search-results" aria-busy={!current && !failed}>
      {failed && (
        <div className="search-state muted" role="alert">
          {t('search.failed')}{' '}
          <button className="link" onClick={() => setAttempt((a) => a + 1)}>
            {t('common.retry')}
          </button>
        </div>
      )}
      {!current && !failed && <div className="search-state muted">{t('search.searching')}</div>}
      {nothing && <div className="search-state muted">{t('search.none', { q: query })}</div>}
      {current && current.people.length > 0 && (
        <section aria-label={t('search.people')}>
          <h4 className="search-head">{t('search.people')}</h4>
          <ul className="search-list">
            {current.people.map((p) => (
              <li key={p.id}>
                <button
                  className="search-row"
                  data-testid="search-person"
                  data-name={p.displayName}
                  onClick={() => onOpenPerson(p.id)}
                >
                  <Avatar id={p.id} name={p.displayName} size={32} presence={p.presence} />
                  <span className="search-main">
                    <span className="search-title">{p.displayName}</span>
                    <span className="search-sub muted small">
                      {[p.title, p.posts[0]?.departmentName].filter(Boolean).join(' · ')}
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {current && current.groups.length > 0 && (
        <section aria-label={t('search.groups')}>
          <h4 className="search-head">{t('search.groups')}</h4>
          <ul className="search-list">
            {current.groups.map((g) => (
              <li key={g.id}>
                <button
                  className="search-row"
                  data-testid="search-group"
                  data-name={g.name}
                  onClick={() => onOpenConversation(g.id)}
                >
                  <Avatar id={g.id} name={g.name} size={32} group />
                  <span className="search-main">
                    <span className="search-title">{g.name}</span>
                    <span className="search-sub muted small">{t('search.members', { count: g.memberCount })}</span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {current && current.hits.length > 0 && (
        <section aria-label={t('search.messages')}>
          <h4 className="search-head">{t('search.messages')}</h4>
          <ul className="search-list">
            {current.hits.map((h) => (
              <li key={h.message.id}>
                <button
                  className="search-row"
                  data-testid="search-message"
                  data-seq={h.message.seq}
                  onClick={() => onOpenMessage(h.conversation.id, h.message.seq)}
                >
                  <Avatar
                    id={h.conversation.id}
                    name={conversationName(h, t)}
                    size={32}
                    group={h.conversation.kind === 'group'}
                  />
                  <span className="search-main">
                    <span className="search-top">
                      <span className="search-title">{conversationName(h, t)}</span>
                      <span className="muted small">{listTime(h.message.ts, now, words)}</span>
                    </span>
                    <span className="search-snippet small" data-testid="search-snippet">
                      {h.conversation.kind === 'group' && (
                        <span className="muted">{names.name(h.message.senderId)}: </span>
                      )}
                      <Highlighted text={h.snippet} ranges={h.highlights} />
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {current.nextCursor && (
            <button className="link search-more" onClick={() => void more()} disabled={loadingMore}>
              {loadingMore ? t('search.searching') : t('search.more')}
            </button>
          )}
        </section>
      )}
    </div>
  );
}

function conversationName(h: SearchHit, t: (k: string) => string): string {
  return h.conversation.kind === 'self' ? t('list.fileAssistant') : h.conversation.name;
}
