import type { Conversation } from '@enclave/protocol';
import type { ConversationView } from '@enclave/sdk';

/** Pinned first, then by last activity (newest first); left conversations are not listed. */
export function sortConversations(views: readonly ConversationView[]): Conversation[] {
  return views
    .map((v) => v.summary)
    .filter((c) => c.active)
    .sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.lastTs - a.lastTs || b.lastSeq - a.lastSeq);
}

/** Filter by name (case-insensitive substring; the peer's username too for 1:1). */
export function filterConversations(list: readonly Conversation[], q: string): Conversation[] {
  const needle = q.trim().toLowerCase();
  if (!needle) return [...list];
  return list.filter(
    (c) => c.name.toLowerCase().includes(needle) || (c.peer?.username.toLowerCase().includes(needle) ?? false),
  );
}

/** The unread total for the tab title and the rail badge: muted conversations do not count. */
export function totalUnread(list: readonly Conversation[]): number {
  let n = 0;
  for (const c of list) if (c.active && !c.muted) n += c.unread;
  return n;
}

/** `(3) Enclave` when something is unread, else the plain name. Counts over 99 show as 99+. */
export function documentTitle(unread: number, appName: string): string {
  if (unread <= 0) return appName;
  return `(${unread > 99 ? '99+' : unread}) ${appName}`;
}

/** Whether a new message should raise a browser notification. */
export function shouldNotify(opts: {
  conversation: Conversation | undefined;
  senderIsMe: boolean;
  mentionsMe: boolean;
  enabled: boolean;
  doNotDisturb: boolean;
  focusedOnConversation: boolean;
}): boolean {
  const c = opts.conversation;
  if (!c || !opts.enabled || opts.doNotDisturb || opts.senderIsMe || opts.focusedOnConversation) return false;
  if (c.muted && !opts.mentionsMe) return false;
  return true;
}
