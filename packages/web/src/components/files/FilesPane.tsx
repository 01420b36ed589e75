import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationId, FileAttachment, RecentFile } from '@enclave/protocol';
import { errorKey } from '../../state/errors.ts';
import { formatSize } from '../../state/file-format.ts';
import { clock, isoDate } from '../../state/format-time.ts';
import type { Session } from '../../state/session.ts';
import { FileActions } from './FileActions.tsx';
import { Icon } from '../Icons.tsx';
import { useSenderNames } from '../search/useSenderNames.ts';
import { FileIcon } from './FileIcon.tsx';
import { PreviewDialog } from './PreviewDialog.tsx';

const PAGE = 50;

/**
 * The Files view (rail: 文件 / Files): files in all my conversations, newest first, searchable by
 * name; each with where it was sent, who sent it, when and its size; preview, download, and open
 * the message in its conversation.
 */
export function FilesPane({
  session,
  onOpenMessage,
}: {
  session: Session;
  onOpenMessage: (conversationId: ConversationId, seq: number) => void;
}) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [items, setItems] = useState<RecentFile[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [preview, setPreview] = useState<FileAttachment | null>(null);
  const names = useSenderNames(session, items?.map((f) => f.senderId) ?? []);

  // Search as one types, without a request per key.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(q.trim()), 250);
    return () => clearTimeout(timer);
  }, [q]);

  useEffect(() => {
    let live = true;
    setItems(null);
    session.client.call('files.recent', { q: query, limit: PAGE }).then(
      (r) => {
        if (!live) return;
        setItems(r.items);
        setCursor(r.nextCursor);
        setError(null);
      },
      (e: unknown) => {
        if (!live) return;
        const { key, params } = errorKey(e);
        setError(t('files.loadFailed') + t(key, params ?? {}));
      },
    );
    return () => {
      live = false;
    };
  }, [session, query, version, t]);

  async function more() {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const r = await session.client.call('files.recent', { q: query, limit: PAGE, cursor });
      setItems((prev) => [...(prev ?? []), ...r.items]);
      setCursor(r.nextCursor);
    } catch (e) {
      const { key, params } = errorKey(e);
      setError(t('files.loadFailed') + t(key, params ?? {}));
    } finally {
      setLoadingMore(false);
    }
  }

  const conversationName = (f: RecentFile) =>
    f.conversation.kind === 'self' ? t('files.recentSelf') : f.conversation.name;

  return (
    <main className="main-pane files-pane" aria-label={t('rail.files')} data-testid="files-pane">
      <div className="files-pane-inner">
        <h2>{t('rail.files')}</h2>
        <div className="group-files-tools">
          <input
            type="search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            placeholder={t('files.search')}
            aria-label={t('files.search')}
            data-testid="files-rail-search"
          />
          <button className="btn small" onClick={() => setVersion((v) => v + 1)}>
            {t('files.refresh')}
          </button>
        </div>
        {error && (
          <p className="error small" role="alert">
            {error}{' '}
            <button className="link" onClick={() => setVersion((v) => v + 1)}>
              {t('common.retry')}
            </button>
          </p>
        )}
        {!items && !error && (
          <ul className="group-files-list" aria-busy="true">
            {[0, 1, 2, 3].map((i) => (
              <li key={i} className="group-file skeleton-row">
                <span className="skeleton skeleton-icon" />
                <span className="skeleton skeleton-line" />
              </li>
            ))}
          </ul>
        )}
        {items && items.length === 0 && (
          <p className="muted empty-note" data-testid="files-rail-empty">
            {query ? t('files.noMatch', { q: query }) : t('files.recentEmpty')}
          </p>
        )}
        {items && items.length > 0 && (
          <ul className="group-files-list files-pane-list" data-testid="files-rail-list">
            {items.map((f) => (
              <li
                key={`${f.conversation.id}:${f.seq}`}
                className="group-file"
                data-testid="files-rail-item"
                data-name={f.file.name}
              >
                <FileIcon file={f.file} size={36} />
                <div className="group-file-info">
                  <span className="file-name" title={f.file.name}>
                    {f.file.name}
                  </span>
                  <span className="muted small">
                    {t('files.recentMeta', {
                      conversation: conversationName(f),
                      name: names.name(f.senderId),
                      time: `${isoDate(f.sentAt)} ${clock(f.sentAt)}`,
                      size: formatSize(f.file.size),
                    })}
                  </span>
                </div>
                <div className="group-file-actions">
                  <FileActions
                    session={session}
                    file={f.file}
                    onPreview={setPreview}
                    testIds={{ preview: 'files-rail-preview', download: 'files-rail-download' }}
                  />
                  <button
                    className="icon-btn small"
                    onClick={() => onOpenMessage(f.conversation.id, f.seq)}
                    aria-label={`${t('files.openInChat')} ${conversationName(f)}`}
                    title={t('files.openInChat')}
                    data-testid="files-rail-open"
                  >
                    <Icon name="chat" size={18} />
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
        {items && cursor && (
          <button className="btn small" onClick={() => void more()} disabled={loadingMore}>
            {loadingMore ? t('files.loadingMore') : t('files.loadMore')}
          </button>
        )}
      </div>
      {preview && <PreviewDialog session={session} file={preview} onClose={() => setPreview(null)} />}
    </main>
  );
}
