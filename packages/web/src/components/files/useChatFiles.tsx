import { useCallback, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Conversation, FileAttachment, Message } from '@enclave/protocol';
import type { Session } from '../../state/session.ts';
import { uploadsOf } from '../../state/use-uploads.ts';
import type { Uploads } from '../../state/uploads.ts';
import { ForwardDialog } from './ForwardDialog.tsx';
import { GroupFilesPanel } from './GroupFilesPanel.tsx';
import { PreviewDialog } from './PreviewDialog.tsx';
import { useFileDrop } from './useFileDrop.ts';

/**
 * Files in the open conversation: drop files on the chat pane to send them, the preview and
 * forward dialogs for file messages, and the conversation's file space.
 */
export function useChatFiles(
  session: Session,
  c: Conversation,
  notify: (text: string) => void,
): {
  uploads: Uploads;
  preview: (f: FileAttachment) => void;
  forward: (m: Message) => void;
  openSpace: () => void;
  drop: ReturnType<typeof useFileDrop>['handlers'];
  dialogs: ReactNode;
} {
  const { t } = useTranslation();
  const uploads = uploadsOf(session);
  const [previewing, setPreviewing] = useState<FileAttachment | null>(null);
  const [forwarding, setForwarding] = useState<FileAttachment | null>(null);
  const [space, setSpace] = useState(false);
  const canSend = c.active && !c.dissolved;
  const { dragging, handlers } = useFileDrop(
    (files) => uploads.add(files, [c.id]),
    canSend,
    (folder) => uploads.addFolder(folder.name, folder.parts, [c.id]),
  );

  const preview = useCallback((f: FileAttachment) => setPreviewing(f), []);
  const forward = useCallback((m: Message) => m.file && setForwarding(m.file), []);
  const openSpace = useCallback(() => setSpace(true), []);

  const dialogs = (
    <>
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
          <span>{t('files.dropHere', { name: c.kind === 'self' ? t('list.fileAssistant') : c.name })}</span>
        </div>
      )}
      {space && (
        <GroupFilesPanel
          session={session}
          conversation={c}
          uploads={uploads}
          onPreview={preview}
          onClose={() => setSpace(false)}
        />
      )}
      {previewing && <PreviewDialog session={session} file={previewing} onClose={() => setPreviewing(null)} />}
      {forwarding && (
        <ForwardDialog
          session={session}
          file={forwarding}
          onClose={() => setForwarding(null)}
          onDone={(count) => {
            setForwarding(null);
            notify(t('files.forwarded', { count }));
          }}
        />
      )}
    </>
  );
  return { uploads, preview, forward, openSpace, drop: handlers, dialogs };
}
