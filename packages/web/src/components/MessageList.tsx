import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useVirtualizer } from '@tanstack/react-virtual';
import { inGap, type ConversationView, type PendingEcho } from '@enclave/sdk';
import type { ChatActions } from '../state/chat-actions.ts';
import { buildRows } from '../state/timeline-rows.ts';
import { dayLabel, type TimeWords } from '../state/format-time.ts';
import { useNames, useNow } from '../state/hooks.ts';
import type { Session } from '../state/session.ts';
import { MessageItem, PendingItem } from './MessageItem.tsx';

/** A page of history; the first page is loaded when the conversation opens if sync brought fewer. */
export const PAGE = 50;
/** Start loading older messages when the top is this close (px). */
const LOAD_OLDER_AT = 400;
/** Follow new messages only when the reader is this close to the bottom (px). */
const STICK_PX = 120;
/** How long a message jumped to stays highlighted (ms). */
const HIGHLIGHT_MS = 3_500;

/**
 * The virtualised history: only visible rows are in the DOM (10,000 messages scroll smoothly), older
 * pages load on scroll up and keep the reader's position, new messages follow when at the bottom.
 */
export function MessageList({
  session,
  view,
  pending,
  actions,
  readCounts,
  jump = null,
  onJumpFailed,
}: {
  session: Session;
  view: ConversationView;
  pending: PendingEcho[];
  actions: ChatActions;
  readCounts: ReadonlyMap<number, number>;
  /** Scroll to this message (loading the page around it when needed) and highlight it briefly. */
  jump?: { seq: number; nonce: number } | null;
  onJumpFailed?: (e: unknown) => void;
}) {
  const { t } = useTranslation();
  const names = useNames(session);
  const now = useNow(15_000);
  const words = t('time', { returnObjects: true }) as TimeWords;
  const c = view.summary;
  const rows = useMemo(() => buildRows(view.messages, pending, view.gap), [view.messages, pending, view.gap]);
  const scroller = useRef<HTMLDivElement>(null);
  const [loading, setLoading] = useState(false);
  const [loadingNewer, setLoadingNewer] = useState(false);
  const [highlight, setHighlight] = useState<number | null>(null);
  const [jumpTick, setJumpTick] = useState(0);
  /** The seq to bring into view once it is loaded; the list does not follow the bottom meanwhile. */
  const pendingJump = useRef<number | null>(jump?.seq ?? null);
  const atBottom = useRef(!jump);
  const anchor = useRef<{ key: string; fromBottom: number } | null>(null);
  /** Filling the gap above the reader: keep the distance from the bottom, as for older pages. */
  const bottomAnchor = useRef<number | null>(null);
  const opened = useRef(false);
  const hasMore = view.loadedFrom > Math.max(c.minSeq, 1);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (i) => (rows[i]?.kind === 'day' ? 36 : 72),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 8,
  });

  const loadOlder = useCallback(async () => {
    if (loading || !hasMore) return;
    const el = scroller.current;
    if (el) anchor.current = { key: rows[0]?.key ?? '', fromBottom: el.scrollHeight - el.scrollTop };
    setLoading(true);
    try {
      await session.client.loadHistory(c.id, PAGE);
    } catch {
      anchor.current = null;
    } finally {
      setLoading(false);
    }
  }, [loading, hasMore, rows, session, c.id]);

  const loadNewer = useCallback(async () => {
    if (loadingNewer || !view.gap) return;
    const el = scroller.current;
    const gapRow = virtualizer.getVirtualItems().find((vi) => rows[vi.index]?.kind === 'gap');
    if (el && gapRow && gapRow.start < el.scrollTop) bottomAnchor.current = el.scrollHeight - el.scrollTop;
    setLoadingNewer(true);
    try {
      await session.client.loadNewer(c.id, PAGE);
    } catch {
      bottomAnchor.current = null; // the button stays; the next scroll tries again
    } finally {
      setLoadingNewer(false);
    }
  }, [loadingNewer, view.gap, session, c.id, virtualizer, rows]);

  // Jump: load the page around the message unless it is loaded already; the layout effect scrolls.
  useEffect(() => {
    if (!jump) return;
    pendingJump.current = jump.seq;
    atBottom.current = false;
    setJumpTick((n) => n + 1);
    const v = session.client.state.conversations[c.id] ?? view;
    if (jump.seq >= v.loadedFrom && !inGap(v, jump.seq)) return;
    session.client.loadAround(c.id, jump.seq, PAGE).catch((e: unknown) => {
      // Not visible any more (or offline): say so and show the latest messages instead.
      pendingJump.current = null;
      atBottom.current = true;
      setJumpTick((n) => n + 1);
      onJumpFailed?.(e);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per jump (its nonce), not on every change
  }, [jump?.nonce]);

  useEffect(() => {
    if (highlight === null) return;
    const timer = setTimeout(() => setHighlight(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlight]);

  // Opening: make sure the latest page is there (sync brings at most a few events per conversation).
  useEffect(() => {
    if (pendingJump.current === null && view.messages.length < PAGE && hasMore) void loadOlder();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per opened conversation, not on every page
  }, [c.id]);

  // Keep the reader's place when older rows are prepended; follow new rows when at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (anchor.current && rows[0]?.key !== anchor.current.key) {
      const fromBottom = anchor.current.fromBottom;
      anchor.current = null;
      el.scrollTop = el.scrollHeight - fromBottom;
      return;
    }
    if (bottomAnchor.current !== null) {
      el.scrollTop = el.scrollHeight - bottomAnchor.current;
      bottomAnchor.current = null;
      return;
    }
    const target = pendingJump.current;
    if (target !== null) {
      if (target < view.loadedFrom || inGap(view, target)) return; // the page around it is loading
      pendingJump.current = null;
      opened.current = true;
      el.dataset.ready = 'true';
      const index = rows.findIndex((r) => r.kind === 'message' && r.message.seq >= target);
      const row = rows[index];
      if (!row || row.kind !== 'message') {
        atBottom.current = true;
        if (rows.length > 0) virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
        return;
      }
      virtualizer.scrollToIndex(index, { align: 'center' });
      setHighlight(row.message.seq);
      return;
    }
    if (atBottom.current && rows.length > 0) {
      virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
      if (!opened.current && view.messages.length > 0) {
        opened.current = true;
        // "Open a conversation shows the latest page": measured to the first paint of the bottom rows.
        requestAnimationFrame(() => {
          try {
            performance.measure('enclave:open-conversation', `enclave:open:${c.id}`);
          } catch {
            /* mark cleared */
          }
          el.dataset.ready = 'true';
        });
      }
    }
  }, [rows, virtualizer, c.id, view, jumpTick]);

  // Reading on after a jump: the stretch not loaded yet loads as it scrolls into view.
  const gapVisible = virtualizer.getVirtualItems().some((vi) => rows[vi.index]?.kind === 'gap');
  useEffect(() => {
    if (gapVisible && opened.current && pendingJump.current === null && !loadingNewer) void loadNewer();
  }, [gapVisible, loadingNewer, loadNewer]);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    // Not while the list is still being positioned at the bottom on open (it starts at scrollTop 0).
    if (opened.current && el.scrollTop < LOAD_OLDER_AT && hasMore && !loading) void loadOlder();
  }, [hasMore, loading, loadOlder]);

  const me = session.me.id;
  const items = virtualizer.getVirtualItems();

  return (
    <div className="message-area">
      <div
        className="message-scroller"
        ref={scroller}
        onScroll={onScroll}
        data-testid="message-list"
        role="log"
        aria-live="polite"
      >
        <div className="history-top muted small">
          {loading ? t('chat.loadingOlder') : !hasMore && rows.length > 0 ? t('chat.start') : ''}
        </div>
        {rows.length === 0 && !hasMore && <div className="empty muted">{t('chat.emptyConv')}</div>}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
          {items.map((vi) => {
            const row = rows[vi.index]!;
            return (
              <div
                key={vi.key}
                data-index={vi.index}
                ref={virtualizer.measureElement}
                className={`row-wrap${row.kind === 'message' && row.message.seq === highlight ? ' jumped' : ''}`}
                data-jumped={row.kind === 'message' && row.message.seq === highlight ? 'true' : undefined}
                style={{ position: 'absolute', top: 0, left: 0, width: '100%', transform: `translateY(${vi.start}px)` }}
              >
                {row.kind === 'day' && (
                  <div className="day-sep">
                    <span>{dayLabel(row.ts, now, words)}</span>
                  </div>
                )}
                {row.kind === 'message' && (
                  <MessageItem
                    message={row.message}
                    grouped={row.grouped}
                    conversation={c}
                    me={me}
                    names={names}
                    now={now}
                    actions={actions}
                    unreadCount={readCounts.get(row.message.seq)}
                  />
                )}
                {row.kind === 'pending' && <PendingItem echo={row.echo} actions={actions} />}
                {row.kind === 'gap' && (
                  <div className="timeline-gap">
                    <button className="link" onClick={() => void loadNewer()} disabled={loadingNewer}>
                      {loadingNewer ? t('history.loadingNewer') : t('history.newer')}
                    </button>
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </div>
      {view.gap && (
        <button
          className="btn small to-latest"
          onClick={() => {
            atBottom.current = true;
            virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
          }}
        >
          {t('history.latest')}
        </button>
      )}
    </div>
  );
}
