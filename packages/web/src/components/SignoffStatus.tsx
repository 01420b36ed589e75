import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationId, OpOutput } from '@enclave/protocol';
import { useSession } from './session-context.ts';

/** For the sender of a sign-off message: "Signed 3/10", who did and did not, and a reminder button. */
export function SignoffStatus({ conversationId, seq }: { conversationId: ConversationId; seq: number }) {
  const { t } = useTranslation();
  const session = useSession();
  const [data, setData] = useState<OpOutput<'message.signoffs'> | null>(null);
  const [open, setOpen] = useState(false);
  const [reminded, setReminded] = useState<number | null>(null);

  const load = useCallback(() => {
    session.client
      .call('message.signoffs', { conversationId, seq })
      .then(setData)
      .catch(() => undefined);
  }, [session, conversationId, seq]);

  useEffect(() => {
    load();
    // Signing shows up as a read receipt too: refresh on receipts for this conversation.
    const off = session.client.on('receipt', (r) => {
      if (r.conversationId === conversationId) load();
    });
    // The sender gets no live event when someone signs: poll while the card is on screen.
    const timer = setInterval(load, 4_000);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [session, conversationId, load]);

  if (!data) return null;
  const total = data.signed.length + data.unsigned.length;
  return (
    <div className="signoff-status small" data-testid="signoff-status">
      <button className="link" onClick={() => setOpen((o) => !o)}>
        {t('msg.signed', { signed: data.signed.length, total })}
      </button>
      {data.unsigned.length > 0 && (
        <button
          className="link"
          onClick={() =>
            session.client
              .call('message.remind', { conversationId, seq })
              .then((r) => setReminded(r.reminded))
              .catch(() => undefined)
          }
        >
          {t('msg.remind')}
        </button>
      )}
      {reminded !== null && <span className="muted"> {t('msg.reminded', { count: reminded })}</span>}
      {open && (
        <div className="who-list">
          <div>
            <strong>{t('msg.signedList')}</strong>: {data.signed.map((s) => s.displayName).join('、') || '—'}
          </div>
          <div>
            <strong>{t('msg.unsignedList')}</strong>: {data.unsigned.map((s) => s.displayName).join('、') || '—'}
          </div>
        </div>
      )}
    </div>
  );
}
