import { describe, expect, it } from 'vitest';
import type { Conversation } from '@enclave/protocol';
import type { ConversationView } from '@enclave/sdk';
import {
  documentTitle,
  filterConversations,
  shouldNotify,
  sortConversations,
  totalUnread,
} from './conversation-list.ts';

function conv(id: string, extra: Partial<Conversation> = {}): Conversation {
  return {
    id: id as never,
    kind: 'group',
    name: id,
    peer: null,
    lastSeq: 1,
    lastTs: 0,
    minSeq: 0,
    unread: 0,
    mentions: 0,
    preview: null,
    muted: false,
    pinned: false,
    role: 'member',
    readSeq: 0,
    peerReadSeq: null,
    peerDeliveredSeq: null,
    memberCount: 2,
    announcement: null,
    allMuted: false,
    historyMode: 'from_join',
    dissolved: false,
    active: true,
    ...extra,
  };
}
const view = (c: Conversation) => ({ summary: c }) as ConversationView;

describe('conversation list', () => {
  it('sorts pinned first, then newest activity; hides conversations I left', () => {
    const list = sortConversations(
      [
        conv('old', { lastTs: 1 }),
        conv('new', { lastTs: 3 }),
        conv('pinned', { lastTs: 0, pinned: true }),
        conv('left', { lastTs: 9, active: false }),
      ].map(view),
    );
    expect(list.map((c) => c.id)).toEqual(['pinned', 'new', 'old']);
  });

  it('filters by name and counts unread without muted conversations', () => {
    const list = [conv('项目组', { unread: 3 }), conv('Lunch', { unread: 2, muted: true })];
    expect(filterConversations(list, '项目').map((c) => c.id)).toEqual(['项目组']);
    expect(filterConversations(list, 'lun').map((c) => c.id)).toEqual(['Lunch']);
    expect(totalUnread(list)).toBe(3);
    expect(documentTitle(3, 'Enclave')).toBe('(3) Enclave');
    expect(documentTitle(120, 'Enclave')).toBe('(99+) Enclave');
    expect(documentTitle(0, 'Enclave')).toBe('Enclave');
  });

  it('notifies unless muted (mentions still notify), do-not-disturb, my own, or already looking at it', () => {
    const base = {
      conversation: conv('c'),
      senderIsMe: false,
      mentionsMe: false,
      enabled: true,
      doNotDisturb: false,
      focusedOnConversation: false,
    };
    expect(shouldNotify(base)).toBe(true);
    expect(shouldNotify({ ...base, conversation: conv('c', { muted: true }) })).toBe(false);
    expect(shouldNotify({ ...base, conversation: conv('c', { muted: true }), mentionsMe: true })).toBe(true);
    expect(shouldNotify({ ...base, doNotDisturb: true })).toBe(false);
    expect(shouldNotify({ ...base, senderIsMe: true })).toBe(false);
    expect(shouldNotify({ ...base, focusedOnConversation: true })).toBe(false);
    expect(shouldNotify({ ...base, enabled: false })).toBe(false);
  });
});
