import { useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationId } from '@enclave/protocol';
import { fileErrorKey } from '../../state/file-errors.ts';
import { formatEta, formatSize, formatSpeed, percent } from '../../state/file-format.ts';
import type { Transfer, Uploads } from '../../state/uploads.ts';
import { useTransfers } from '../../state/use-uploads.ts';
import { Icon } from '../Icons.tsx';
import { FileIcon } from './FileIcon.tsx';

/** The uploads going to this conversation: name, progress, speed and time left, pause/resume, cancel, retry. */
export function TransferList({ uploads, conversationId }: { uploads: Uploads; conversationId: ConversationId }) {
  const { t } = useTranslation();
  const all = useTransfers(uploads);
  const mine = all.filter((x) => x.conversationIds.includes(conversationId));
  if (mine.length === 0) return null;
  return (
    <ul className="transfers" aria-label={t('files.transfers')} data-testid="transfers">
      {mine.map((x) => (
        <TransferRow key={x.id} transfer={x} uploads={uploads} />
      ))}
    </ul>
  );
}

function TransferRow({ transfer: x, uploads }: { transfer: Transfer; uploads: Uploads }) {
  const { t } = useTranslation();
  const again = useRef<HTMLInputElement>(null);
  const pct = percent(x.sent, x.size);
  const reason = x.error ? t(fileErrorKey(x.error).key, fileErrorKey(x.error).params ?? {}) : '';
  const showBar = x.state === 'uploading' || x.state === 'paused' || x.state === 'sending' || x.state === 'failed';

  let status: string;
  switch (x.state) {
    case 'checking':
      status = t('files.checking');
      break;
    case 'uploading': {
      const eta = formatEta(x.etaSeconds);
      status = [`${pct}%`, formatSpeed(x.bytesPerSecond), eta ? t('files.left', { time: eta }) : t('files.estimating')]
        .filter(Boolean)
        .join(' · ');
      break;
    }
    case 'paused':
      status = `${t('files.paused')} · ${pct}%`;
      break;
    case 'sending':
      status = t('files.sending');
      break;
    case 'refused':
      status = t('files.refused', { reason });
      break;
    case 'failed':
      status = t('files.failed', { reason });
      break;
    case 'interrupted':
      status = t('files.interrupted');
      break;
  }
  const bad = x.state === 'refused' || x.state === 'failed';

  return (
    <li
      className={`transfer ${x.state}`}
      data-testid="transfer"
      data-state={x.state}
      data-name={x.name}
      data-sent={x.sent}
      data-size={x.size}
      data-kind={x.folder ? 'folder' : 'file'}
    >
      <FileIcon file={{ kind: x.folder ? 'folder' : 'file', mime: '', name: x.name }} size={34} />
      <div className="transfer-main">
        <div className="transfer-top">
          <span className="file-name" title={x.name}>
            {x.name}
          </span>
          <span className="muted small transfer-bytes">
            {x.folder && `${t('files.folderProgress', { done: x.folder.done, count: x.folder.count })} · `}
            {x.state === 'uploading' || x.state === 'paused'
              ? `${formatSize(x.sent)} / ${formatSize(x.size)}`
              : formatSize(x.size)}
          </span>
        </div>
        {showBar && (
          <progress className="transfer-bar" max={100} value={pct} aria-label={x.name} data-testid="transfer-bar" />
        )}
        <div
          className={`transfer-status small${bad ? ' error' : ' muted'}`}
          role={bad ? 'alert' : undefined}
          data-testid="transfer-status"
        >
          {status}
        </div>
      </div>
      <div className="transfer-actions">
        {x.state === 'uploading' && (
          <button
            className="icon-btn small"
            onClick={() => uploads.pause(x.id)}
            aria-label={t('files.pause')}
            title={t('files.pause')}
            data-testid="transfer-pause"
          >
            <Icon name="pause" size={16} />
          </button>
        )}
        {x.state === 'paused' && (
          <button
            className="icon-btn small"
            onClick={() => uploads.resume(x.id)}
            aria-label={t('files.resume')}
            title={t('files.resume')}
            data-testid="transfer-resume"
          >
            <Icon name="play" size={16} />
          </button>
        )}
        {x.state === 'failed' && (
          <button className="btn small" onClick={() => uploads.retry(x.id)} data-testid="transfer-retry">
            {t('files.retry')}
          </button>
        )}
        {x.state === 'interrupted' && (
          <>
            <input
              ref={again}
              type="file"
              hidden
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) uploads.resumeWith(x.id, f);
                e.target.value = '';
              }}
            />
            <button className="btn small" onClick={() => again.current?.click()} data-testid="transfer-choose">
              {t('files.chooseAgain')}
            </button>
          </>
        )}
        {x.state === 'refused' || x.state === 'interrupted' ? (
          <button
            className="icon-btn small"
            onClick={() => uploads.dismiss(x.id)}
            aria-label={t('files.dismiss')}
            title={t('files.dismiss')}
            data-testid="transfer-dismiss"
          >
            <Icon name="close" size={16} />
          </button>
        ) : (
          x.state !== 'sending' && (
            <button
              className="icon-btn small"
              onClick={() => uploads.cancel(x.id)}
              aria-label={t('files.cancel')}
              title={t('files.cancel')}
              data-testid="transfer-cancel"
            >
              <Icon name="close" size={16} />
            </button>
          )
        )}
      </div>
    </li>
  );
}
