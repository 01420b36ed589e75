import type { Conversation, ConvEvent, Message, UserId } from '@enclave/protocol';
import { cursorAdd, cursorHas, cursorMax, cursorRaise } from './seq-cursor.ts';
import type { ConversationView } from './state.ts';

/* Pure helpers for one conversation's view; reducer.ts composes them. Nothing here mutates. */

const REPLACING = new Set(['message.edited', 'message.recalled', 'reaction.changed']);

/** Index of the message with `seq`, or where it would be inserted (binary search). */
function findIndex(messages: readonly Message[], seq: number): { index: number; found: boolean } {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const s = messages[mid]!.seq;
    if (s === seq) return { index: mid, found: true };
    if (s < seq) lo = mid + 1;
    else hi = mid;
  }
  return { index: lo, found: false };
}

export function findMessage(view: ConversationView, seq: number): Message | undefined {
  const { index, found } = findIndex(view.messages, seq);
  return found ? view.messages[index] : undefined;
}

/** Whether `seq` lies in the unloaded stretch between a jump's window and the live tail. */
export function inGap(view: ConversationView, seq: number): boolean {
  return view.gap !== null && seq >= view.gap.from && seq <= view.gap.to;
}

/**
 * Put `message` in the timeline as of event `version`, unless a newer version is there already or
 * the message lies below the loaded range or in its gap (loaded runs stay contiguous). `force` replaces
 * regardless of version (a sign-off revealing content does not advance the stream).
 */
export function upsertMessage(
  view: ConversationView,
  message: Message,
  version: number,
  force = false,
): ConversationView {
  if (message.seq < view.loadedFrom || inGap(view, message.seq)) return view;
  const { index, found } = findIndex(view.messages, message.seq);
  const known = view.versions[message.seq];
  if (found && !force && known !== undefined && known >= version) return view;
  const messages = found
    ? view.messages.map((m, i) => (i === index ? message : m))
    : [...view.messages.slice(0, index), message, ...view.messages.slice(index)];
  const v = force && known !== undefined ? Math.max(known, version) : version;
  return { ...view, messages, versions: { ...view.versions, [message.seq]: v } };
}

const str = (v: unknown): v is string => typeof v === 'string';
const bool = (v: unknown): v is boolean => typeof v === 'boolean';

/** The summary after a new event; `count` says the event is beyond what the server counted. */
function summaryAfter(s: Conversation, ev: ConvEvent, me: UserId | null, count: boolean): Conversation {
  const next: Conversation = { ...s, lastSeq: Math.max(s.lastSeq, ev.seq), lastTs: Math.max(s.lastTs, ev.ts) };
  const msg = ev.message;
  const data = ev.data ?? {};
  switch (ev.type) {
    case 'message.created':
      if (!msg) break;
      if (!s.preview || msg.seq >= s.preview.seq) next.preview = msg;
      if (!count) break;
      if (me !== null && msg.senderId === me) {
        // Sending means having read everything before it: the server moves the read cursor too.
        next.readSeq = Math.max(s.readSeq, msg.seq);
        next.unread = 0;
        next.mentions = 0;
      } else if (msg.kind === 'text' && msg.seq > s.readSeq) {
        next.unread = s.unread + 1;
        if (msg.mentionAll || (me !== null && msg.mentions.includes(me))) next.mentions = s.mentions + 1;
      }
      break;
    case 'conversation.updated':
      if (str(data.name)) next.name = data.name;
      if (data.announcement === null || str(data.announcement)) next.announcement = data.announcement;
      if (bool(data.allMuted)) next.allMuted = data.allMuted;
      if (data.historyMode === 'all' || data.historyMode === 'from_join') next.historyMode = data.historyMode;
      break;
    case 'conversation.dissolved':
      next.dissolved = true;
      break;
    case 'member.joined':
    case 'member.left':
      // Like unread: a snapshot's memberCount already includes the events it came with.
      if (count && Array.isArray(data.userIds)) {
        const delta = data.userIds.length * (ev.type === 'member.joined' ? 1 : -1);
        next.memberCount = Math.max(0, s.memberCount + delta);
      }
      break;
    default:
      if (msg && REPLACING.has(ev.type) && s.preview?.seq === msg.seq) next.preview = msg;
  }
  return next;
}

/**
 * Apply one durable event. Idempotent: a seq applied before changes nothing but may still carry a
 * newer version of a message (versions decide). Unread math runs only for events that are new
 * and beyond `countedSeq`.
 */
export function applyConvEvent(view: ConversationView, ev: ConvEvent, me: UserId | null): ConversationView {
  let next = view;
  const msg = ev.message;
  if (msg && (ev.type === 'message.created' || REPLACING.has(ev.type))) next = upsertMessage(next, msg, ev.seq);
  if (cursorHas(view.cursor, ev.seq)) return next;
  return {
    ...next,
    cursor: cursorAdd(next.cursor, ev.seq),
    summary: summaryAfter(next.summary, ev, me, ev.seq > view.countedSeq),
  };
}

/** A fresh view of a conversation first seen in a server snapshot: its timeline starts empty at lastSeq. */
export function newView(summary: Conversation): ConversationView {
  return {
    summary,
    messages: [],
    versions: {},
    cursor: { head: summary.lastSeq, ahead: [] },
    loadedFrom: summary.lastSeq + 1,
    countedSeq: summary.lastSeq,
    gap: null,
  };
}

/**
 * Merge a server snapshot of a conversation (sync, list, get) and the events that came with it.
 * The server's summary wins unless this client already applied newer events. If the snapshot
 * leaves a hole between our head and its lastSeq (a `limited` sync, or a list read after a long
 * sleep), the timeline restarts at the snapshot's events; older ones load on demand.
 */
export function mergeSnapshot(
  view: ConversationView | undefined,
  server: Conversation,
  events: readonly ConvEvent[],
  me: UserId | null,
): ConversationView {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const firstSeq = sorted[0]?.seq ?? server.lastSeq + 1;
  let next: ConversationView;
  if (!view) {
    next = { ...newView(server), cursor: { head: firstSeq - 1, ahead: [] }, loadedFrom: firstSeq };
  } else {
    const localNewer = cursorMax(view.cursor) > server.lastSeq;
    const s = view.summary;
    const summary: Conversation = localNewer
      ? { ...server, lastSeq: s.lastSeq, lastTs: s.lastTs, preview: s.preview, unread: s.unread, mentions: s.mentions }
      : server;
    next = {
      ...view,
      summary: { ...summary, readSeq: Math.max(server.readSeq, s.readSeq) },
      countedSeq: Math.max(view.countedSeq, server.lastSeq),
    };
    // Events just below the timeline's start that reach up to it (a conversation first seen in a
    // snapshot that already counted them: joined, or read while its first events were on their way)
    // join the timeline instead of staying history.
    const below = sorted.filter((e) => e.seq < next.loadedFrom);
    const reaches = below.at(-1)?.seq === next.loadedFrom - 1;
    if (reaches && below.every((e, i) => i === 0 || e.seq === below[i - 1]!.seq + 1))
      next = { ...next, loadedFrom: below[0]!.seq };
  }
  for (const ev of sorted) next = applyConvEvent(next, ev, me);
  if (next.cursor.head < server.lastSeq) {
    // A hole: restart the timeline at the snapshot's events, keeping anything newer than it.
    const loadedFrom = firstSeq;
    const messages = next.messages.filter((m) => m.seq >= loadedFrom);
    const versions = Object.fromEntries(Object.entries(next.versions).filter(([seq]) => Number(seq) >= loadedFrom));
    next = { ...next, messages, versions, loadedFrom, gap: null, cursor: cursorRaise(next.cursor, server.lastSeq) };
  }
  return next;
}

/** Keep only the messages (and their versions) that `keep` accepts. */
function retain(view: ConversationView, keep: (seq: number) => boolean): ConversationView {
  const messages = view.messages.filter((m) => keep(m.seq));
  if (messages.length === view.messages.length) return view;
  const versions = Object.fromEntries(Object.entries(view.versions).filter(([seq]) => keep(Number(seq))));
  return { ...view, messages, versions };
}

type Run = [from: number, to: number];

/**
 * The shape of the timeline after a jump (its events are applied afterwards): the window
 * `[first, last]` of the page around the message joins a loaded run it touches; otherwise it becomes
 * a separate run below the live tail with a gap between them. At most two runs are kept — the live
 * tail and the window the reader is in — so an earlier jump's window is dropped.
 */
export function openWindow(
  view: ConversationView,
  first: number,
  last: number,
  reachesHead: boolean,
): ConversationView {
  const runs: Run[] = view.gap
    ? [
        [view.loadedFrom, view.gap.from - 1],
        [view.gap.to + 1, Infinity],
      ]
    : [[view.loadedFrom, Infinity]];
  let window: Run = [first, reachesHead ? Infinity : last];
  const others: Run[] = [];
  for (const r of runs) {
    if (r[0] <= window[1] + 1 && window[0] <= r[1] + 1) window = [Math.min(r[0], window[0]), Math.max(r[1], window[1])];
    else others.push(r);
  }
  const tail = others.find((r) => r[1] === Infinity);
  const kept = tail ? [window, tail].sort((x, y) => x[0] - y[0]) : [window];
  const gap = kept.length === 2 ? { from: kept[0]![1] + 1, to: kept[1]![0] - 1 } : null;
  const next = retain(view, (seq) => kept.some((r) => seq >= r[0] && seq <= r[1]));
  return { ...next, loadedFrom: kept[0]![0], gap };
}

/**
 * The gap after a page read `after` the window: it shrinks to what is still unloaded, and closes
 * when the page reached the tail (or nothing newer remains).
 */
export function narrowGap(view: ConversationView, after: number, seqs: readonly number[], hasMore: boolean) {
  const gap = view.gap;
  if (!gap || after !== gap.from - 1) return view;
  const highest = seqs.reduce((m, s) => Math.max(m, s), after);
  const closed = !hasMore || seqs.length === 0 || highest >= gap.to;
  return { ...view, gap: closed ? null : { from: highest + 1, to: gap.to } };
}
