import { useEffect, useRef, useState } from 'react';
import type { ConversationView } from '@enclave/sdk';
import type { Session } from '../state/session.ts';

/** How many of my latest messages in a group get a live "N unread" count. */
const TRACKED = 50;

/**
 * Group read receipts ("N unread") for my newest messages: fetched on open, when my messages arrive,
 * and (debounced) when a live read receipt for the conversation comes in.
 */
export function useReadCounts(session: Session, view: ConversationView): ReadonlyMap<number, number> {
  const [counts, setCounts] = useState<ReadonlyMap<number, number>>(new Map());
  const c = view.summary;
  const mine = view.messages
    .filter((m) => m.senderId === session.me.id && m.kind === 'text' && m.state !== 'recalled')
    .slice(-TRACKED)
    .map((m) => m.seq);
  const key = mine.join(',');
  const seqs = useRef(mine);
  seqs.current = mine;

  useEffect(() => {
    if (c.kind !== 'group' || !key) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () => {
      const list = seqs.current;
      if (list.length === 0) return;
      session.client
        .call('message.readCounts', { conversationId: c.id, seqs: list })
        .then((r) => {
          if (live) setCounts(new Map(r.items.map((i) => [i.seq, i.unreadCount])));
        })
        .catch(() => undefined);
    };
    load();
    const off = session.client.on('receipt', (r) => {
      if (r.conversationId !== c.id) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(load, 300);
    });
    return () => {
      live = false;
      off();
      if (timer) clearTimeout(timer);
    };
  }, [session, c.id, c.kind, key]);
  return counts;
}
