import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Conversation, FileAttachment, GroupFile } from '@enclave/protocol';
import { errorKey } from '../../state/errors.ts';
import { formatSize } from '../../state/file-format.ts';
import { clock, isoDate } from '../../state/format-time.ts';
import type { Session } from '../../state/session.ts';
import type { Uploads } from '../../state/uploads.ts';
import { Dialog } from '../Dialog.tsx';
import { FileActions } from './FileActions.tsx';
import { Icon } from '../Icons.tsx';
import { FileIcon } from './FileIcon.tsx';
import { TransferList } from './TransferList.tsx';

type Sort = 'time' | 'name' | 'size';

/**
 * The conversation's file space: every file sent here that I may see, searchable by name and
 * sortable by time, name or size; download, preview, upload into the conversation, and removal
 * by the group's owner and admins.
 */
export function GroupFilesPanel({
  session,
  conversation: c,
  uploads,
  onPreview,
  onClose,
}: {
  session: Session;
  conversation: Conversation;
  uploads: Uploads;
  onPreview: (f: FileAttachment) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<Sort>('time');
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');
  const [data, setData] = useState<{ items: GroupFile[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const manage = c.kind === 'group' && (c.role === 'owner' || c.role === 'admin') && !c.dissolved;
  const canUpload = c.active && !c.dissolved;

  // Search as one types, without a request per key.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(q.trim()), 250);
    return () => clearTimeout(timer);
  }, [q]);

  useEffect(() => {
    let live = true;
    session.client.call('group.files', { conversationId: c.id, q: query, sort, order, limit: 200, offset: 0 }).then(
      (r) => {
        if (!live) return;
        setData(r);
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
    // c.lastSeq: a new message (a file sent here) refreshes the list.
  }, [session, c.id, c.lastSeq, query, sort, order, version, t]);

  async function remove(g: GroupFile) {
    if (!confirm(t('files.confirmDelete', { name: g.file.name }))) return;
    try {
      await session.client.call('group.files.delete', { conversationId: c.id, seq: g.seq });
    } catch (e) {
      const { key, params } = errorKey(e);
      setError(t(key, params ?? {}));
    }
    setVersion((v) => v + 1);
  }

  const title = c.kind === 'group' ? t('files.open') : t('files.title', { name: c.name });

  return (
    <Dialog title={title} onClose={onClose} wide>
      <div className="group-files" data-testid="group-files">
        <div className="group-files-tools">
          <input
            type="search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            placeholder={t('files.search')}
            aria-label={t('files.search')}
            data-testid="group-files-search"
          />
          <label className="small">
            <span className="muted">{t('files.sortBy')}</span>{' '}
            <select value={sort} onChange={(e) => setSort(e.target.value as Sort)} data-testid="group-files-sort">
              <option value="time">{t('files.sortTime')}</option>
              <option value="name">{t('files.sortName')}</option>
              <option value="size">{t('files.sortSize')}</option>
            </select>
          </label>
          <button
            className="btn small"
            onClick={() => setOrder((o) => (o === 'asc' ? 'desc' : 'asc'))}
            aria-label={`${t('files.sortBy')}: ${order === 'asc' ? t('files.ascending') : t('files.descending')}`}
            data-testid="group-files-order"
          >
            {order === 'asc' ? '↑ ' + t('files.ascending') : '↓ ' + t('files.descending')}
          </button>
          {canUpload && (
            <>
              <input
                ref={input}
                type="file"
                multiple
                hidden
                data-testid="group-files-input"
                onChange={(e) => {
                  const files = [...(e.target.files ?? [])];
                  if (files.length) uploads.add(files, [c.id]);
                  e.target.value = '';
                }}
              />
              <button className="btn primary small" onClick={() => input.current?.click()}>
                <Icon name="upload" size={16} /> {t('files.upload')}
              </button>
            </>
          )}
        </div>
        <TransferList uploads={uploads} conversationId={c.id} />
        {error && (
          <p className="error small" role="alert">
            {error}{' '}
            <button className="link" onClick={() => setVersion((v) => v + 1)}>
              {t('common.retry')}
            </button>
          </p>
        )}
        {!data && !error && (
          <ul className="group-files-list" aria-busy="true">
            {[0, 1, 2].map((i) => (
              <li key={i} className="group-file skeleton-row">
                <span className="skeleton skeleton-icon" />
                <span className="skeleton skeleton-line" />
              </li>
            ))}
          </ul>
        )}
        {data && data.items.length === 0 && (
          <p className="muted empty-note" data-testid="group-files-empty">
            {query ? t('files.noMatch', { q: query }) : t('files.empty')}
          </p>
        )}
        {data && data.items.length > 0 && (
          <>
            <p className="muted small">{t('files.total', { count: data.total })}</p>
            <ul className="group-files-list" data-testid="group-files-list">
              {data.items.map((g) => (
                <li key={g.seq} className="group-file" data-testid="group-file" data-name={g.file.name}>
                  <FileIcon file={g.file} size={36} />
                  <div className="group-file-info">
                    <span className="file-name" title={g.file.name}>
                      {g.file.name}
                    </span>
                    <span className="muted small">
                      {formatSize(g.file.size)} ·{' '}
                      {t('files.sentBy', {
                        name: session.names.name(g.senderId),
                        time: `${isoDate(g.sentAt)} ${clock(g.sentAt)}`,
                      })}
                    </span>
                  </div>
                  <div className="group-file-actions">
                    <FileActions
                      session={session}
                      file={g.file}
                      onPreview={onPreview}
                      testIds={{ download: 'group-file-download' }}
                    />
                    {manage && (
                      <button
                        className="icon-btn small danger"
                        onClick={() => void remove(g)}
                        aria-label={`${t('files.delete')} ${g.file.name}`}
                        title={t('files.delete')}
                        data-testid="group-file-delete"
                      >
                        <Icon name="trash" size={18} />
                      </button>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </Dialog>
  );
}
