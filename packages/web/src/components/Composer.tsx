import { useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type Ref } from 'react';
import { useTranslation } from 'react-i18next';
import { limits, type Conversation, type Member, type Message, type UserId } from '@enclave/protocol';
import type { ConversationView } from '@enclave/sdk';
import { canEdit } from '../state/chat-actions.ts';
import { insertMention, mentionQuery, mentionsInText, rankMentions, type MentionCandidate } from '../state/mentions.ts';
import { loadDraft, saveDraft } from '../state/prefs.ts';
import type { Session } from '../state/session.ts';
import { previewText } from '../markdown.ts';
import { EmojiPicker } from './EmojiPicker.tsx';
import { filesFromPaste } from './files/clipboard.ts';
import { foldersFromInput } from '../state/folders.ts';
import { uploadsOf } from '../state/use-uploads.ts';
import { Icon } from './Icons.tsx';

export interface ComposerHandle {
  reply(m: Message): void;
  edit(m: Message): void;
  setText(text: string): void;
}

/** Labels that mean @all in the text, in both languages. */
const ALL_LABELS = ['all', '所有人', 'Everyone'];
const ALL_ID = '@all';

/**
 * The composer: Enter sends (not while an IME is composing Chinese), Shift+Enter breaks the line,
 * Up edits my last message, Esc cancels a reply or edit; @ opens member autocomplete (with @all in
 * groups); the draft is kept per conversation. Sends go to the SDK outbox, so nothing typed is lost
 * while offline.
 */
export function Composer({
  ref,
  session,
  conversation: c,
  view,
  members,
  onError,
}: {
  ref?: Ref<ComposerHandle>;
  session: Session;
  conversation: Conversation;
  view: ConversationView;
  members: Member[];
  onError: (e: unknown) => void;
}) {
  const { t } = useTranslation();
  const [text, setText] = useState(() => loadDraft(c.id));
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [signoff, setSignoff] = useState(false);
  const [emoji, setEmoji] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [mentionIndex, setMentionIndex] = useState(0);
  const picked = useRef(new Map<string, string>());
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const me = session.me.id;

  useImperativeHandle(ref, () => ({
    reply(m) {
      setEditing(null);
      setReplyTo(m);
      area.current?.focus();
    },
    edit(m) {
      startEdit(m);
    },
    setText(s) {
      setText(s);
      area.current?.focus();
    },
  }));

  useEffect(() => {
    if (!editing) saveDraft(c.id, text);
  }, [c.id, text, editing]);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(null), 4_000);
    return () => clearTimeout(timer);
  }, [notice]);

  const candidates: MentionCandidate[] = useMemo(() => {
    if (c.kind === 'group')
      return members.map((m) => ({
        userId: m.userId,
        displayName: m.displayName,
        username: session.names.get(m.userId)?.username ?? '',
      }));
    if (c.peer) return [{ userId: c.peer.id, displayName: c.peer.displayName, username: c.peer.username }];
    return [];
  }, [c.kind, c.peer, members, session]);

  const suggestions = useMemo(() => {
    if (!mention) return [];
    const list = rankMentions(candidates, mention.query, me);
    if (c.kind === 'group') {
      const q = mention.query.toLowerCase();
      if (ALL_LABELS.some((l) => l.toLowerCase().startsWith(q)))
        list.unshift({ userId: ALL_ID, displayName: t('composer.all'), username: 'all' });
    }
    return list;
  }, [mention, candidates, me, c.kind, t]);

  const startEdit = useCallback((m: Message) => {
    if (!m.content) return;
    setReplyTo(null);
    setEditing(m);
    setText(m.content.text);
    requestAnimationFrame(() => area.current?.focus());
  }, []);

  function refreshMention(value: string, caret: number) {
    const q = mentionQuery(value, caret);
    setMention(q);
    setMentionIndex(0);
  }

  function pick(candidate: MentionCandidate) {
    if (!mention || !area.current) return;
    const caret = area.current.selectionStart;
    const next = insertMention(text, mention.start, caret, candidate.displayName);
    if (candidate.userId !== ALL_ID) picked.current.set(candidate.userId, candidate.displayName);
    setText(next.text);
    setMention(null);
    requestAnimationFrame(() => {
      area.current?.focus();
      area.current?.setSelectionRange(next.caret, next.caret);
    });
  }

  async function submit() {
    const body = text.trim();
    if (!body) return;
    if (body.length > limits.maxTextChars) {
      setNotice(t('composer.tooLong', { count: body.length, max: limits.maxTextChars }));
      return;
    }
    try {
      if (editing) {
        if (body !== editing.content?.text)
          await session.client.queue('message.edit', {
            conversationId: c.id,
            seq: editing.seq,
            content: { text: body, format: 'markdown' },
          });
        setEditing(null);
        setText(loadDraftAfterEdit());
        return;
      }
      const { mentions, mentionAll } = mentionsInText(body, picked.current, [...ALL_LABELS, t('composer.all')]);
      await session.client.send(
        c.id,
        { text: body, format: 'markdown' },
        {
          mentions: mentions as UserId[],
          mentionAll: c.kind === 'group' && mentionAll,
          ...(replyTo ? { replyToSeq: replyTo.seq } : {}),
          ...(signoff ? { signoff: true } : {}),
        },
      );
      picked.current.clear();
      setText('');
      setReplyTo(null);
      setSignoff(false);
    } catch (e) {
      onError(e);
    }
  }

  function loadDraftAfterEdit(): string {
    return loadDraft(c.id);
  }

  /** Files chosen, pasted or dropped: checked against the policy, uploaded, then sent (see state/uploads.ts). */
  function sendFiles(files: File[]) {
    if (files.length) uploadsOf(session).add(files, [c.id]);
  }

  /** A folder chosen: one transfer; its files are uploaded into it, then the folder is sent. */
  function sendFolder(files: File[]) {
    for (const f of foldersFromInput(files)) uploadsOf(session).addFolder(f.name, f.parts, [c.id]);
  }

  const lastMine = useMemo(() => {
    for (let i = view.messages.length - 1; i >= 0; i--) {
      const m = view.messages[i]!;
      if (canEdit(m, me)) return m;
    }
    return null;
  }, [view.messages, me]);

  const placeholder = t('composer.placeholder', { name: c.kind === 'self' ? t('list.fileAssistant') : c.name });

  return (
    <div className="composer">
      {(replyTo || editing) && (
        <div className="composer-context small" data-testid="composer-context">
          <span>
            {editing
              ? t('msg.editing')
              : t('msg.replyTo', { name: session.names.name(replyTo!.senderId) }) +
                (replyTo!.content ? ': ' + previewText(replyTo!.content.text, 60) : '')}
          </span>
          <button
            className="icon-btn small"
            aria-label={t('msg.cancel')}
            onClick={() => {
              if (editing) setText(loadDraft(c.id));
              setReplyTo(null);
              setEditing(null);
            }}
          >
            <Icon name="close" size={14} />
          </button>
        </div>
      )}
      <div className="composer-toolbar">
        <button
          className="icon-btn"
          aria-label={t('composer.emoji')}
          title={t('composer.emoji')}
          onClick={() => setEmoji((v) => !v)}
        >
          <Icon name="emoji" />
        </button>
        <button
          className="icon-btn"
          aria-label={t('composer.file')}
          title={t('composer.file')}
          onClick={() => fileInput.current?.click()}
          data-testid="file-button"
        >
          <Icon name="file" />
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          onChange={(e) => {
            sendFiles([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
        <button
          className="icon-btn"
          aria-label={t('files.sendFolder')}
          title={t('files.sendFolder')}
          onClick={() => folderInput.current?.click()}
          data-testid="folder-button"
        >
          <Icon name="folder" />
        </button>
        <input
          ref={(el) => {
            folderInput.current = el;
            // Not in React's typings: lets the picker choose a folder; files carry webkitRelativePath.
            el?.setAttribute('webkitdirectory', '');
          }}
          type="file"
          hidden
          data-testid="folder-input"
          onChange={(e) => {
            sendFolder([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
        <button
          className="icon-btn"
          aria-label={t('composer.mention')}
          title={t('composer.mention')}
          onClick={() => {
            const el = area.current;
            const caret = el?.selectionStart ?? text.length;
            const next =
              text.slice(0, caret) + (caret > 0 && !/\s$/.test(text.slice(0, caret)) ? ' @' : '@') + text.slice(caret);
            setText(next);
            const at = next.indexOf('@', caret) + 1;
            refreshMention(next, at);
            requestAnimationFrame(() => {
              el?.focus();
              el?.setSelectionRange(at, at);
            });
          }}
        >
          <Icon name="at" />
        </button>
        {c.kind !== 'self' && (
          <label
            className={`toggle small${signoff ? ' on' : ''}`}
            title={t('composer.signoffOn')}
            data-testid="signoff-toggle"
          >
            <input type="checkbox" checked={signoff} onChange={(e) => setSignoff(e.target.checked)} />
            <Icon name="seal" size={16} /> {t('composer.signoff')}
          </label>
        )}
        {notice && (
          <span className="composer-notice small" role="status" data-testid="composer-notice">
            {notice}
          </span>
        )}
      </div>
      {emoji && (
        <EmojiPicker
          onPick={(e) => {
            const el = area.current;
            const caret = el?.selectionStart ?? text.length;
            setText(text.slice(0, caret) + e + text.slice(caret));
            setEmoji(false);
            requestAnimationFrame(() => {
              el?.focus();
              el?.setSelectionRange(caret + e.length, caret + e.length);
            });
          }}
          onClose={() => setEmoji(false)}
        />
      )}
      {mention && suggestions.length > 0 && (
        <ul className="mention-list" role="listbox" data-testid="mention-list">
          {suggestions.map((s, i) => (
            <li
              key={s.userId}
              role="option"
              aria-selected={i === mentionIndex}
              className={i === mentionIndex ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(s);
              }}
            >
              <strong>{s.displayName}</strong>
              <span className="muted small"> {s.userId === ALL_ID ? t('composer.allHint') : s.username}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-input">
        <textarea
          ref={area}
          value={text}
          rows={3}
          placeholder={placeholder}
          aria-label={placeholder}
          data-testid="composer-input"
          onChange={(e) => {
            setText(e.target.value);
            refreshMention(e.target.value, e.target.selectionStart);
            if (e.target.value) session.client.typing(c.id).catch(() => undefined);
          }}
          onPaste={(e) => {
            const files = filesFromPaste(e.clipboardData);
            if (files.length > 0) {
              e.preventDefault();
              sendFiles(files);
            }
          }}
          onKeyDown={(e) => {
            if (e.nativeEvent.isComposing || e.keyCode === 229) return; // IME (拼音) is choosing characters
            if (mention && suggestions.length > 0) {
              if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                e.preventDefault();
                const d = e.key === 'ArrowDown' ? 1 : -1;
                setMentionIndex((i) => (i + d + suggestions.length) % suggestions.length);
                return;
              }
              if (e.key === 'Enter' || e.key === 'Tab') {
                e.preventDefault();
                pick(suggestions[mentionIndex] ?? suggestions[0]!);
                return;
              }
              if (e.key === 'Escape') {
                e.preventDefault();
                setMention(null);
                return;
              }
            }
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              void submit();
            } else if (e.key === 'Escape' && (replyTo || editing)) {
              e.preventDefault();
              if (editing) setText(loadDraft(c.id));
              setReplyTo(null);
              setEditing(null);
            } else if (e.key === 'ArrowUp' && text === '' && lastMine) {
              e.preventDefault();
              startEdit(lastMine);
            }
          }}
          onSelect={(e) => refreshMention(e.currentTarget.value, e.currentTarget.selectionStart)}
        />
        <button className="btn primary send" onClick={() => void submit()} disabled={!text.trim()} data-testid="send">
          {t('composer.send')}
        </button>
      </div>
    </div>
  );
}
