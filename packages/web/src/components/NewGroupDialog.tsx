import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationId, UserId } from '@enclave/protocol';
import { errorKey } from '../state/errors.ts';
import type { Session } from '../state/session.ts';
import { Dialog } from './Dialog.tsx';
import { PeoplePicker } from './PeoplePicker.tsx';
import { waitForConversation } from './wait-conversation.ts';

export function NewGroupDialog({
  session,
  onClose,
  onCreated,
}: {
  session: Session;
  onClose: () => void;
  onCreated: (id: ConversationId) => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title={t('group.create')} onClose={onClose} wide>
      <label className="field">
        <span>{t('group.name')}</span>
        <input
          value={name}
          maxLength={100}
          placeholder={t('group.namePlaceholder')}
          onChange={(e) => setName(e.target.value)}
          data-testid="group-name"
        />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <PeoplePicker
        session={session}
        submitLabel={t('group.create')}
        allowEmpty
        onSubmit={async (ids) => {
          if (!name.trim()) return setError(t('group.name'));
          try {
            const c = await session.client.call('group.create', { name: name.trim(), memberIds: ids as UserId[] });
            await waitForConversation(session, c.id);
            onCreated(c.id);
          } catch (e) {
            const { key, params } = errorKey(e);
            setError(t(key, params ?? {}));
          }
        }}
      />
    </Dialog>
  );
}
