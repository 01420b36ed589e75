import type { FileAttachment } from '@enclave/protocol';
import { fileFamily, iconLabel } from '../../state/file-format.ts';
import { Icon } from '../Icons.tsx';

/** A file's type at a glance: a coloured tile with its extension (a folder icon for folders). */
export function FileIcon({ file, size = 40 }: { file: Pick<FileAttachment, 'kind' | 'mime' | 'name'>; size?: number }) {
  const family = fileFamily(file);
  return (
    <span className={`file-icon ${family}`} style={{ width: size, height: size }} aria-hidden="true">
      {family === 'folder' ? <Icon name="folder" size={Math.round(size * 0.6)} /> : iconLabel(file)}
    </span>
  );
}
