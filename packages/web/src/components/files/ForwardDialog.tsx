import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { fileLimits, type ConversationId, type FileAttachment } from '@enclave/protocol';
import { filterConversations, sortConversations } from '../../state/conversation-list.ts';
import { fileErrorKey } from '../../state/file-errors.ts';
import { useClientState } from '../../state/hooks.ts';
import type { Session } from '../../state/session.ts';
import { Avatar } from '../Avatar.tsx';
import { Dialog } from '../Dialog.tsx';

/** Forward a file to several conversations at once: the server sends the same file, nothing is uploaded again. */
export function ForwardDialog({
  session,
  file: f,
  onClose,
  onDone,
}: {
  session: Session;
  file: FileAttachment;
  onClose: () => void;
  onDone: (count: number) => void;
}) {
  const { t } = useTranslation();
  const state = useClientState(session);
  const [q, setQ] = useState('');
  const [selected, setSelected] = useState<ConversationId[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const list = useMemo(
    () => filterConversations(sortConversations(Object.values(state.conversations)), q).filter((c) => !c.dissolved),
    [state.conversations, q],
  );

  const toggle = (id: ConversationId) =>
    setSelected((s) =>
      s.includes(id) ? s.filter((x) => x !== id) : s.length < fileLimits.maxSendTargets ? [...s, id] : s,
    );

  async function send() {
    setBusy(true);
    setError(null);
    try {
      await session.client.sendFile(f.id, selected);
      onDone(selected.length);
    } catch (e) {
      const { key, params } = fileErrorKey(e);
      setError(t(key, params ?? {}));
      setBusy(false);
    }
  }

  return (
    <Dialog title={t('files.forwardTitle', { name: f.name })} onClose={onClose}>
      <div className="forward" data-testid="forward-dialog">
        <input
          type="search"
          autoFocus
          placeholder={t('files.forwardSearch')}
          aria-label={t('files.forwardSearch')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
          data-testid="forward-search"
        />
        <ul className="pick-list">
          {list.length === 0 && <li className="muted small">{t('files.forwardNone')}</li>}
          {list.map((c) => {
            const name = c.kind === 'self' ? t('list.fileAssistant') : c.name;
            return (
              <li key={c.id}>
                <label data-testid="forward-target" data-name={name}>
                  <input type="checkbox" checked={selected.includes(c.id)} onChange={() => toggle(c.id)} />
                  <Avatar id={c.peer?.id ?? c.id} name={name} size={28} group={c.kind === 'group'} />
                  <span>{name}</span>
                </label>
              </li>
            );
          })}
        </ul>
        {error && (
          <p className="error small" role="alert">
            {error}
          </p>
        )}
        <div className="row-end">
          <button className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            className="btn primary"
            disabled={busy || selected.length === 0}
            onClick={() => void send()}
            data-testid="forward-send"
          >
            {t('files.forwardSend', { count: selected.length })}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
