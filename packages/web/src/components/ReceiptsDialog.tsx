import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Conversation, Message, OpOutput } from '@enclave/protocol';
import type { Session } from '../state/session.ts';
import { Dialog } from './Dialog.tsx';

/** Group read receipts for one message: who read and who has not. */
export function ReceiptsDialog({
  session,
  conversation,
  message,
  onClose,
}: {
  session: Session;
  conversation: Conversation;
  message: Message;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [data, setData] = useState<OpOutput<'message.receipts'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    session.client
      .call('message.receipts', { conversationId: conversation.id, seq: message.seq })
      .then(setData)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [session, conversation.id, message.seq]);
  return (
    <Dialog title={t('msg.receipts')} onClose={onClose}>
      {error && <p className="error">{t('common.error', { message: error })}</p>}
      {!data && !error && <p className="muted">{t('org.loading')}</p>}
      {data && (
        <div className="receipts" data-testid="receipts">
          <div>
            <h4>
              {t('msg.whoUnread')} ({data.unreadCount})
            </h4>
            <ul>
              {data.unreadMembers.map((u) => (
                <li key={u.userId}>{u.displayName}</li>
              ))}
            </ul>
          </div>
          <div>
            <h4>
              {t('msg.whoRead')} ({data.readCount})
            </h4>
            <ul>
              {data.readers.map((u) => (
                <li key={u.userId}>{u.displayName}</li>
              ))}
            </ul>
          </div>
        </div>
      )}
    </Dialog>
  );
}
