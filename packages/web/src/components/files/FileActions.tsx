import { useTranslation } from 'react-i18next';
import type { FileAttachment } from '@enclave/protocol';
import type { Session } from '../../state/session.ts';
import { looksPreviewable } from '../../state/file-format.ts';
import { Icon } from '../Icons.tsx';

/** Preview (when the file can be previewed) and download (a zip for folders) buttons of a file row. */
export function FileActions({
  session,
  file,
  onPreview,
  testIds = {},
}: {
  session: Session;
  file: FileAttachment;
  onPreview: (file: FileAttachment) => void;
  testIds?: { preview?: string; download?: string };
}) {
  const { t } = useTranslation();
  const folder = file.kind === 'folder';
  const urls = session.client.fileUrls(file.id);
  return (
    <>
      {(file.kind === 'image' || looksPreviewable(file)) && (
        <button
          className="icon-btn small"
          onClick={() => onPreview(file)}
          aria-label={`${t('files.preview')} ${file.name}`}
          title={t('files.preview')}
          data-testid={testIds.preview}
        >
          <Icon name="eye" size={18} />
        </button>
      )}
      <a
        className="icon-btn small"
        href={folder ? urls.zip : urls.download}
        download={folder ? `${file.name}.zip` : file.name}
        aria-label={`${t('files.download')} ${file.name}`}
        title={folder ? t('files.downloadZip') : t('files.download')}
        data-testid={testIds.download}
      >
        <Icon name="download" size={18} />
      </a>
    </>
  );
}
