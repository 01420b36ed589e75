import { useEffect, useState } from 'react';
import type { Session } from '../state/session.ts';

/** Typing is volatile: each frame shows the person for 5 s; a message from them clears it. */
export const TYPING_SHOW_MS = 5_000;

export function useTypingNames(session: Session, conversationId: string): string[] {
  const [typing, setTyping] = useState<Record<string, number>>({});
  useEffect(() => {
    setTyping({});
    const offTyping = session.client.on('typing', (e) => {
      if (e.conversationId !== conversationId || e.userId === session.me.id) return;
      setTyping((m) => ({ ...m, [e.userId]: Date.now() + TYPING_SHOW_MS }));
    });
    const offConv = session.client.on('conv', (e) => {
      if (e.conversationId !== conversationId || e.type !== 'message.created' || !e.message) return;
      const sender = e.message.senderId;
      setTyping((m) => {
        if (!(sender in m)) return m;
        const { [sender]: _gone, ...rest } = m;
        return rest;
      });
    });
    const timer = setInterval(() => {
      const now = Date.now();
      setTyping((m) => {
        const alive = Object.entries(m).filter(([, until]) => until > now);
        return alive.length === Object.keys(m).length ? m : Object.fromEntries(alive);
      });
    }, 1_000);
    return () => {
      offTyping();
      offConv();
      clearInterval(timer);
    };
  }, [session, conversationId]);
  return Object.keys(typing);
}
