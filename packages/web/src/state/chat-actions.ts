import type { ConversationId, FileAttachment, Message } from '@enclave/protocol';
import type { Session } from './session.ts';

/** What a message's menu and the composer can do; every write goes through the SDK (outbox for edits, reactions, recall). */
export interface ChatActions {
  reply(m: Message): void;
  edit(m: Message): void;
  recall(m: Message): void;
  react(m: Message, emoji: string, on: boolean): void;
  sign(m: Message): void;
  showReceipts(m: Message): void;
  reEdit(text: string): void;
  retry(clientMsgId: string): void;
  discard(clientMsgId: string): void;
  openPerson(userId: string): void;
  /** Files: open the preview, or forward to other conversations (absent where the view has no dialogs). */
  previewFile?(f: FileAttachment): void;
  forward?(m: Message): void;
}

/** The recall window the server enforces by default (ENCLAVE_RECALL_WINDOW_MS); the menu item hides after it. */
export const RECALL_WINDOW_MS = 120_000;

/** How long after recalling the sender may put the text back into the composer. */
export const RE_EDIT_MS = 5 * 60_000;

export function canRecall(m: Message, me: string, now: number): boolean {
  return (
    m.senderId === me &&
    m.state === 'normal' &&
    (m.kind === 'text' || m.kind === 'file') &&
    now - m.ts < RECALL_WINDOW_MS
  );
}

export function canEdit(m: Message, me: string): boolean {
  return m.senderId === me && m.state === 'normal' && m.kind === 'text' && m.content !== null && !m.signoff;
}

/** Texts of messages I recalled on this device, so "re-edit" can restore them (kept in memory only). */
export class RecalledTexts {
  private readonly map = new Map<string, { text: string; at: number }>();
  put(conversationId: ConversationId, seq: number, text: string, at: number): void {
    this.map.set(`${conversationId}:${seq}`, { text, at });
  }
  get(conversationId: ConversationId, seq: number, now: number): string | null {
    const e = this.map.get(`${conversationId}:${seq}`);
    return e && now - e.at < RE_EDIT_MS ? e.text : null;
  }
}

export const recalledTexts = new RecalledTexts();

/** Reactions as chips: emoji, count, whether I reacted. */
export function reactionChips(m: Message, me: string): { emoji: string; count: number; mine: boolean }[] {
  return m.reactions
    .filter((r) => r.userIds.length > 0)
    .map((r) => ({ emoji: r.emoji, count: r.userIds.length, mine: r.userIds.includes(me as never) }));
}

export type SessionLike = Pick<Session, 'client' | 'me'>;
