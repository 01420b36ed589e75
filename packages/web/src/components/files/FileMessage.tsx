import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { FileAttachment, FileId } from '@enclave/protocol';
import { formatSize, imageBox, looksPreviewable } from '../../state/file-format.ts';
import type { Session } from '../../state/session.ts';
import { Icon } from '../Icons.tsx';
import { useSession } from '../session-context.ts';
import { FileIcon } from './FileIcon.tsx';

/**
 * The body of a file message: an image shows its thumbnail inline (in a box sized from the image,
 * so the history does not jump when it loads); a file shows a card with type icon, name, size,
 * preview and download; a folder shows its name, how many files it holds and a zip download.
 */
export function FileMessage({ file: f, onPreview }: { file: FileAttachment; onPreview?: (f: FileAttachment) => void }) {
  const { t } = useTranslation();
  const session = useSession();
  const urls = session.client.fileUrls(f.id);
  const preview = () => (onPreview ? onPreview(f) : window.open(urls.inline, '_blank', 'noopener'));

  if (f.kind === 'image') {
    const box = imageBox(f.width, f.height);
    return (
      <button
        className="file-image"
        style={{ width: box.width, height: box.height }}
        onClick={preview}
        aria-label={t('files.image', { name: f.name })}
        title={f.name}
        data-testid="file-image"
      >
        <img
          src={f.thumbnail ? urls.thumbnail : urls.inline}
          alt={f.name}
          width={box.width}
          height={box.height}
          loading="lazy"
          decoding="async"
          draggable={false}
        />
      </button>
    );
  }

  if (f.kind === 'folder') {
    return (
      <div className="file-card" data-testid="file-card" data-kind="folder">
        <FileIcon file={f} />
        <div className="file-card-info">
          <span className="file-name" title={f.name}>
            {f.name}
          </span>
          <span className="muted small">
            <FolderCount session={session} fileId={f.id} /> · {formatSize(f.size)}
          </span>
          <a className="link small" href={urls.zip} download={`${f.name}.zip`} data-testid="file-zip">
            {t('files.downloadZip')}
          </a>
        </div>
      </div>
    );
  }

  return (
    <div className="file-card" data-testid="file-card" data-kind="file">
      <FileIcon file={f} />
      <div className="file-card-info">
        <span className="file-name" title={f.name} data-testid="file-name">
          {f.name}
        </span>
        <span className="muted small" data-testid="file-size">
          {formatSize(f.size)}
        </span>
      </div>
      <div className="file-card-actions">
        {looksPreviewable(f) && (
          <button
            className="icon-btn small"
            onClick={preview}
            aria-label={t('files.preview')}
            title={t('files.preview')}
            data-testid="file-preview"
          >
            <Icon name="eye" size={18} />
          </button>
        )}
        <a
          className="icon-btn small"
          href={urls.download}
          download={f.name}
          aria-label={t('files.download')}
          title={t('files.download')}
          data-testid="file-download"
        >
          <Icon name="download" size={18} />
        </a>
      </div>
    </div>
  );
}

const folderCounts = new Map<FileId, Promise<number | null>>();

/** "12 files": the entry count of a folder, fetched once per folder. */
function FolderCount({ session, fileId }: { session: Session; fileId: FileId }) {
  const { t } = useTranslation();
  const [count, setCount] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    let p = folderCounts.get(fileId);
    if (!p) {
      p = session.client
        .call('file.get', { fileId })
        .then((info) => info.entries?.length ?? 0)
        .catch(() => {
          folderCounts.delete(fileId);
          return null;
        });
      folderCounts.set(fileId, p);
    }
    void p.then((n) => live && setCount(n));
    return () => {
      live = false;
    };
  }, [session, fileId]);
  return <span data-testid="folder-count">{count === null ? '…' : t('files.folderEntries', { count })}</span>;
}
