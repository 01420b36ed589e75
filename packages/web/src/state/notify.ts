import { useEffect, useRef } from 'react';
import { previewText } from '../markdown.ts';
import { documentTitle, shouldNotify, totalUnread } from './conversation-list.ts';
import type { Prefs } from './prefs.ts';
import type { Session } from './session.ts';

/** A short two-tone chime made with Web Audio (no sound file to load). */
function chime(): void {
  try {
    const ctx = new AudioContext();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.connect(g);
    g.connect(ctx.destination);
    o.frequency.setValueAtTime(880, ctx.currentTime);
    o.frequency.setValueAtTime(660, ctx.currentTime + 0.12);
    g.gain.setValueAtTime(0.08, ctx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.3);
    o.start();
    o.stop(ctx.currentTime + 0.3);
    o.onended = () => void ctx.close();
  } catch {
    /* no audio device */
  }
}

/** The favicon with a red unread badge, drawn on a canvas (a data: URL, allowed by the CSP). */
function setFavicon(unread: number): void {
  const link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) return;
  if (unread <= 0) {
    link.href = '/icon.svg';
    return;
  }
  const c = document.createElement('canvas');
  c.width = c.height = 64;
  const g = c.getContext('2d');
  if (!g) return;
  g.fillStyle = '#1f6feb';
  g.beginPath();
  g.roundRect(0, 0, 64, 64, 14);
  g.fill();
  g.fillStyle = '#e5484d';
  g.beginPath();
  g.arc(44, 20, 20, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = '#fff';
  g.font = 'bold 24px sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText(unread > 99 ? '99+' : String(unread), 44, 21);
  link.href = c.toDataURL('image/png');
}

/** Tab title and favicon follow the unread total; new messages raise a notification when allowed. */
export function useNotifications(session: Session, prefs: Prefs, openConversation: string | null, appName: string) {
  const open = useRef(openConversation);
  open.current = openConversation;
  const p = useRef(prefs);
  p.current = prefs;

  useEffect(() => {
    const update = () => {
      const unread = totalUnread(Object.values(session.client.state.conversations).map((v) => v.summary));
      document.title = documentTitle(unread, appName);
      setFavicon(unread);
    };
    update();
    const off = session.client.on('state', update);
    return () => {
      off();
      document.title = appName;
      setFavicon(0);
    };
  }, [session, appName]);

  useEffect(() => {
    return session.client.on('conv', (ev) => {
      if (ev.type !== 'message.created' || !ev.message || ev.message.kind !== 'text') return;
      const m = ev.message;
      const conversation = session.client.state.conversations[ev.conversationId]?.summary;
      const me = session.me.id;
      const ok = shouldNotify({
        conversation,
        senderIsMe: m.senderId === me,
        mentionsMe: m.mentionAll || m.mentions.includes(me as never),
        enabled: p.current.notify,
        doNotDisturb: p.current.dnd,
        focusedOnConversation: document.hasFocus() && open.current === ev.conversationId,
      });
      if (!ok || !conversation) return;
      if (p.current.sound) chime();
      if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
      const sender = session.names.name(m.senderId);
      const body = m.content ? previewText(m.content.text, 120) : '';
      try {
        const n = new Notification(conversation.kind === 'group' ? conversation.name : sender, {
          body: conversation.kind === 'group' ? `${sender}: ${body}` : body,
          tag: ev.conversationId,
          icon: '/icon.svg',
        });
        n.onclick = () => {
          window.focus();
          n.close();
        };
      } catch {
        /* some browsers allow notifications only from the service worker */
      }
    });
  }, [session]);
}
