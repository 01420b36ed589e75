import { memo, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { Conversation, Message } from '@enclave/protocol';
import type { PendingEcho } from '@enclave/sdk';
import { canEdit, canRecall, reactionChips, recalledTexts, type ChatActions } from '../state/chat-actions.ts';
import { QUICK_REACTIONS } from '../state/emoji.ts';
import { clock } from '../state/format-time.ts';
import type { Names } from '../state/names.ts';
import { previewText, renderMarkdown, renderPlain } from '../markdown.ts';
import { Avatar } from './Avatar.tsx';
import { Icon } from './Icons.tsx';
import { SignoffStatus } from './SignoffStatus.tsx';
import { FileMessage } from './files/FileMessage.tsx';

/** The rendered body of a message: sanitised Markdown (or escaped plain text). */
export function MessageBody({ text, format }: { text: string; format: 'markdown' | 'plain' }) {
  const html = useMemo(() => (format === 'plain' ? renderPlain(text) : renderMarkdown(text)), [text, format]);
  return <div className={`msg-text ${format}`} dangerouslySetInnerHTML={{ __html: html }} />;
}

export const MessageItem = memo(function MessageItem({
  message: m,
  grouped,
  conversation: c,
  me,
  names,
  now,
  actions,
  unreadCount,
}: {
  message: Message;
  grouped: boolean;
  conversation: Conversation;
  me: string;
  names: Names;
  now: number;
  actions: ChatActions;
  unreadCount: number | undefined;
}) {
  const { t } = useTranslation();
  const [menu, setMenu] = useState(false);
  const mine = m.senderId === me;
  const sender = names.name(m.senderId);

  if (m.state === 'recalled') {
    const text = mine ? recalledTexts.get(c.id, m.seq, now) : null;
    return (
      <div className="system-line" data-testid="recalled" data-seq={m.seq}>
        {mine ? t('msg.recalledByMe') : t('msg.recalledBy', { name: sender })}
        {text && (
          <button className="link" onClick={() => actions.reEdit(text)}>
            {t('msg.reEdit')}
          </button>
        )}
      </div>
    );
  }
  if (m.kind === 'system') {
    return (
      <div className="system-line" data-seq={m.seq}>
        {m.content ? previewText(m.content.text, 200) : t('list.system')}
      </div>
    );
  }

  const chips = reactionChips(m, me);
  const status = mine ? ownStatus(m, c, unreadCount, t) : null;

  return (
    <div
      className={`msg${mine ? ' mine' : ''}${grouped ? ' grouped' : ''}`}
      data-testid="message"
      data-seq={m.seq}
      onMouseLeave={() => setMenu(false)}
      onContextMenu={(e) => {
        e.preventDefault();
        setMenu(true);
      }}
    >
      <div className="msg-avatar">
        {!grouped && !mine && (
          <button className="avatar-btn" onClick={() => actions.openPerson(m.senderId)} aria-label={sender}>
            <Avatar id={m.senderId} name={sender} size={34} />
          </button>
        )}
      </div>
      <div className="msg-col">
        {!grouped && (
          <div className="msg-meta muted small">
            {!mine && c.kind === 'group' && <span className="msg-sender">{sender}</span>}
            <span>{clock(m.ts)}</span>
          </div>
        )}
        <div className="bubble-row">
          <div className={`bubble${m.file && m.state === 'normal' ? ' has-file' : ''}`} data-testid="bubble">
            {m.replyTo && <Quote quote={m.replyTo.quote} names={names} />}
            {m.state === 'withheld' ? (
              <div className="signoff-card" data-testid="signoff-card">
                <Icon name="seal" />
                <span>{t('msg.signoffCard')}</span>
                <button className="btn primary small" onClick={() => actions.sign(m)} data-testid="sign">
                  {t('msg.sign')}
                </button>
              </div>
            ) : m.kind === 'file' && m.file ? (
              <FileMessage file={m.file} onPreview={actions.previewFile} />
            ) : m.content ? (
              <>
                {m.signoff && <div className="signoff-tag small">{t('composer.signoff')}</div>}
                <MessageBody text={m.content.text} format={m.content.format} />
              </>
            ) : null}
            {m.editedAt && <span className="edited muted small">{t('msg.edited')}</span>}
          </div>
          <div className={`msg-actions${menu ? ' open' : ''}`}>
            <button
              className="icon-btn small"
              aria-label={t('msg.more')}
              onClick={() => setMenu((v) => !v)}
              data-testid="msg-menu"
            >
              <Icon name="more" size={16} />
            </button>
            {menu && (
              <div className="menu" role="menu">
                <div className="quick-reactions">
                  {QUICK_REACTIONS.map((e) => (
                    <button
                      key={e}
                      role="menuitem"
                      aria-label={`${t('msg.react')} ${e}`}
                      onClick={() => {
                        setMenu(false);
                        actions.react(m, e, !chips.some((ch) => ch.emoji === e && ch.mine));
                      }}
                    >
                      {e}
                    </button>
                  ))}
                </div>
                <button role="menuitem" onClick={() => (setMenu(false), actions.reply(m))}>
                  {t('msg.reply')}
                </button>
                {m.content && (
                  <button
                    role="menuitem"
                    onClick={() => {
                      setMenu(false);
                      void navigator.clipboard?.writeText(m.content!.text).catch(() => undefined);
                    }}
                  >
                    {t('msg.copy')}
                  </button>
                )}
                {m.kind === 'file' && m.file && actions.forward && (
                  <button role="menuitem" onClick={() => (setMenu(false), actions.forward!(m))} data-testid="forward">
                    {t('files.forward')}
                  </button>
                )}
                {canEdit(m, me) && (
                  <button role="menuitem" onClick={() => (setMenu(false), actions.edit(m))}>
                    {t('msg.edit')}
                  </button>
                )}
                {canRecall(m, me, now) && (
                  <button role="menuitem" onClick={() => (setMenu(false), actions.recall(m))} data-testid="recall">
                    {t('msg.recall')}
                  </button>
                )}
                {mine && c.kind === 'group' && (
                  <button role="menuitem" onClick={() => (setMenu(false), actions.showReceipts(m))}>
                    {t('msg.receipts')}
                  </button>
                )}
              </div>
            )}
          </div>
        </div>
        {chips.length > 0 && (
          <div className="reactions">
            {chips.map((ch) => (
              <button
                key={ch.emoji}
                className={`chip${ch.mine ? ' mine' : ''}`}
                aria-pressed={ch.mine}
                data-testid="reaction"
                onClick={() => actions.react(m, ch.emoji, !ch.mine)}
              >
                {ch.emoji} {ch.count}
              </button>
            ))}
          </div>
        )}
        {mine && m.signoff && <SignoffStatus conversationId={c.id} seq={m.seq} />}
        {status && (
          <button
            className={`msg-status small ${status.cls}`}
            data-testid="msg-status"
            disabled={c.kind !== 'group'}
            onClick={() => actions.showReceipts(m)}
          >
            {status.text}
          </button>
        )}
      </div>
    </div>
  );
});

function ownStatus(
  m: Message,
  c: Conversation,
  unreadCount: number | undefined,
  t: TFunction,
): { text: string; cls: string } | null {
  if (c.kind === 'direct') {
    if ((c.peerReadSeq ?? 0) >= m.seq) return { text: t('msg.read'), cls: 'read' };
    return { text: t('msg.unread'), cls: 'unread' };
  }
  if (c.kind === 'group') {
    if (unreadCount === undefined) return null;
    if (unreadCount === 0) return { text: t('msg.allRead'), cls: 'read' };
    return { text: t('msg.groupUnread', { count: unreadCount }), cls: 'unread' };
  }
  return null;
}

function Quote({ quote, names }: { quote: Message | null; names: Names }) {
  const { t } = useTranslation();
  if (!quote || quote.state !== 'normal' || !quote.content)
    return <div className="quote muted small">{t('msg.quoteGone')}</div>;
  return (
    <div className="quote small" data-testid="quote">
      <strong>{names.name(quote.senderId)}</strong>: {previewText(quote.content.text, 100)}
    </div>
  );
}

/** My message that the server has not stored yet: sending, or failed with retry/delete. */
export function PendingItem({ echo, actions }: { echo: PendingEcho; actions: ChatActions }) {
  const { t } = useTranslation();
  return (
    <div className="msg mine pending" data-testid="pending" data-state={echo.state}>
      <div className="msg-avatar" />
      <div className="msg-col">
        <div className="bubble-row">
          <div className="bubble">
            <MessageBody text={echo.content.text} format={echo.content.format} />
          </div>
        </div>
        <div className="msg-status small">
          {echo.state === 'failed' ? (
            <span className="error">
              {t('msg.failed')}{' '}
              <button className="link" onClick={() => actions.retry(echo.clientMsgId)} data-testid="retry">
                {t('msg.retry')}
              </button>{' '}
              <button className="link" onClick={() => actions.discard(echo.clientMsgId)}>
                {t('msg.discard')}
              </button>
            </span>
          ) : echo.state === 'sent' ? (
            t('msg.sent')
          ) : (
            <span className="sending">
              <span className="spinner" aria-hidden="true" /> {t('msg.sending')}
            </span>
          )}
        </div>
      </div>
    </div>
  );
}
