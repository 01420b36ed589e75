import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Conversation, ExportFormat, SearchHit } from '@enclave/protocol';
import { errorKey } from '../../state/errors.ts';
import type { Session } from '../../state/session.ts';
import { Icon } from '../Icons.tsx';
import { Highlighted } from '../search/Highlighted.tsx';
import { useDebounced } from '../search/useDebounced.ts';
import { useSenderNames } from '../search/useSenderNames.ts';
import { HISTORY_TABS, fullTime, historyQuery, startOfLocalDay, type HistoryTab } from './history-query.ts';
import '../search/search.css';

const PAGE = 20;
const EXPORTS: { format: ExportFormat; label: string }[] = [
  { format: 'html', label: 'HTML' },
  { format: 'json', label: 'JSON' },
  { format: 'csv', label: 'CSV' },
];

interface Results {
  q: string;
  items: SearchHit[];
  nextCursor: string | null;
}

/**
 * The history manager (聊天记录) of one conversation: everything, files, images or links, newest
 * first; a search inside the conversation; a calendar jump; export as HTML, JSON or CSV. Clicking a
 * result jumps the timeline to it.
 */
export function HistoryPanel({
  session,
  conversation: c,
  onClose,
  onJump,
}: {
  session: Session;
  conversation: Conversation;
  onClose: () => void;
  onJump: (seq: number) => void;
}) {
  const { t } = useTranslation();
  const client = session.client;
  const [tab, setTab] = useState<HistoryTab>('all');
  const [words, setWords] = useState('');
  const [date, setDate] = useState('');
  const [results, setResults] = useState<Results | null>(null);
  const [failed, setFailed] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const q = historyQuery(tab, useDebounced(words, 250));

  useEffect(() => {
    let live = true;
    setFailed(false);
    client
      .search(q, { conversationId: c.id, limit: PAGE })
      .then((r) => {
        if (live) setResults({ q, items: r.items, nextCursor: r.nextCursor });
      })
      .catch(() => {
        if (live) setFailed(true);
      });
    return () => {
      live = false;
    };
  }, [client, c.id, q, attempt]);

  const more = useCallback(async () => {
    if (!results?.nextCursor || loadingMore) return;
    setLoadingMore(true);
    try {
      const r = await client.search(results.q, { conversationId: c.id, limit: PAGE, cursor: results.nextCursor });
      setResults((cur) =>
        cur && cur.q === results.q ? { ...cur, items: [...cur.items, ...r.items], nextCursor: r.nextCursor } : cur,
      );
    } catch {
      setFailed(true);
    } finally {
      setLoadingMore(false);
    }
  }, [client, c.id, results, loadingMore]);

  const jumpToDate = useCallback(
    async (value: string) => {
      setDate(value);
      setNote(null);
      const ts = startOfLocalDay(value);
      if (ts === null) return;
      try {
        const seq = await client.seqAt(c.id, ts);
        if (seq === null) setNote(t('history.noDate', { date: value }));
        else onJump(seq);
      } catch (e) {
        const { key, params } = errorKey(e);
        setNote(t(key, params ?? {}));
      }
    },
    [client, c.id, onJump, t],
  );

  const current = results && results.q === q ? results : null;
  const names = useSenderNames(session, current?.items.map((h) => h.message.senderId) ?? []);
  const typed = words.trim();

  return (
    <aside className="drawer history-panel" aria-label={t('history.title')} data-testid="history">
      <header className="drawer-header">
        <h3>{t('history.title')}</h3>
        <button className="icon-btn" aria-label={t('common.close')} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div className="history-tools">
        <label className="search">
          <Icon name="search" size={16} />
          <input
            type="search"
            placeholder={t('history.search')}
            aria-label={t('history.search')}
            value={words}
            onChange={(e) => setWords(e.target.value)}
            data-testid="history-search"
          />
        </label>
        <div className="history-tabs" role="tablist" aria-label={t('history.tabs')}>
          {HISTORY_TABS.map((id) => (
            <button
              key={id}
              role="tab"
              aria-selected={tab === id}
              data-testid={`history-tab-${id}`}
              onClick={() => setTab(id)}
            >
              {t(`history.${id}`)}
            </button>
          ))}
        </div>
        <label className="history-row-line">
          <span className="muted small">{t('history.date')}</span>
          <input
            type="date"
            value={date}
            aria-label={t('history.date')}
            onChange={(e) => void jumpToDate(e.target.value)}
            data-testid="history-date"
          />
        </label>
        {note && (
          <div className="muted small" role="status" data-testid="history-note">
            {note}
          </div>
        )}
      </div>
      <ul className="history-results" data-testid="history-results" aria-busy={!current && !failed}>
        {failed && (
          <li className="search-state muted" role="alert">
            {t('history.failed')}{' '}
            <button className="link" onClick={() => setAttempt((a) => a + 1)}>
              {t('common.retry')}
            </button>
          </li>
        )}
        {!current && !failed && <li className="search-state muted">{t('history.loading')}</li>}
        {current && current.items.length === 0 && (
          <li className="search-state muted">{typed ? t('history.none', { q: typed }) : t('history.empty')}</li>
        )}
        {current?.items.map((h) => (
          <li key={h.message.id}>
            <button
              className="history-item"
              data-testid="history-item"
              data-seq={h.message.seq}
              onClick={() => onJump(h.message.seq)}
            >
              <span className="history-meta small">
                <span className="search-title">{names.name(h.message.senderId)}</span>
                <span className="muted">{fullTime(h.message.ts)}</span>
              </span>
              <span className="history-snippet" data-testid="history-snippet">
                {h.message.file && <Icon name="file" size={14} />}{' '}
                <Highlighted text={h.snippet || h.message.file?.name || ''} ranges={h.highlights} />
              </span>
            </button>
          </li>
        ))}
        {current?.nextCursor && (
          <li>
            <button className="link search-more" onClick={() => void more()} disabled={loadingMore}>
              {loadingMore ? t('history.loading') : t('history.more')}
            </button>
          </li>
        )}
      </ul>
      <footer className="history-export">
        <span className="muted small">{t('history.export')}</span>
        {EXPORTS.map((e) => (
          <a
            key={e.format}
            className="btn small"
            href={client.exportUrl(c.id, e.format)}
            download
            title={t('history.exportAs', { format: e.label })}
            aria-label={t('history.exportAs', { format: e.label })}
            data-testid={`export-${e.format}`}
          >
            {e.label}
          </a>
        ))}
      </footer>
    </aside>
  );
}
