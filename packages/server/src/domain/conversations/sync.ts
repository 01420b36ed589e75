import { EnclaveError, limits, type SyncResult, type UserEvent } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { NO_END, type Access, type Range } from '../access.ts';
import { eventPage } from './read-events.ts';
import { uidFromDb } from '../../store/dialect.ts';
import { movedSince, presentSummaries, stripInternal, totalUnreadFrom, totalUnreadStatement } from './summaries.ts';
import { precompiled, readTogether } from '../../store/precompiled.ts';

/** My user events after a useq: every sync (and every socket's first one), built by Kysely once. */
const userEventsAfter = precompiled((db, userId: number, afterUseq: number) =>
  db
    .selectFrom('user_events as e')
    .innerJoin('conversations as c', 'c.id', 'e.conversation_id')
    .select(['e.useq', 'e.type', 'e.data', 'e.ts', 'c.uid'])
    .where('e.user_id', '=', userId)
    .where('e.useq', '>', afterUseq)
    .orderBy('e.useq')
    .limit(limits.userEventsPageMax + 1),
);

/** Opaque to clients. u: last useq seen; t: conversations moved after this time; n/c: paging state. */
interface Token {
  u: number;
  t: number;
  n?: number;
  c?: [number, number];
}

/** Commits can land this long after their ts was taken; sync looks back this far. */
const SLACK_MS = 10_000;

function decodeToken(s: string | undefined): Token {
  if (!s) return { u: 0, t: 0 };
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Token;
    const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!int(t.u) || !int(t.t) || (t.n !== undefined && !int(t.n))) throw new Error('shape');
    if (t.c !== undefined && !(Array.isArray(t.c) && t.c.length === 2 && t.c.every(int))) throw new Error('shape');
    return t;
  } catch {
    throw new EnclaveError('validation_failed', 'The sync token is not valid; sync without one.');
  }
}

const encodeToken = (t: Token) => Buffer.from(JSON.stringify(t)).toString('base64url');

/**
 * One bounded answer to "what changed since my token": my user events, then the conversations that
 * moved (newest first, at most `conversationLimit`), each with its summary and newest events.
 * `limited` with a token means: call again for the rest.
 */
export async function sync(
  deps: Deps,
  viewer: Viewer,
  input: { token?: string | undefined; conversationLimit: number; eventsPerConversation: number },
): Promise<SyncResult> {
  const tok = decodeToken(input.token);
  const exec = deps.store.reader;
  const now = deps.now();
  const nextT = tok.n ?? Math.max(0, now - SLACK_MS);

  // My user events, the conversations that moved and the total unread, read on one snapshot.
  const [ueRows, movedRows, unreadRows] = await readTogether(
    deps.store,
    exec,
    userEventsAfter.with(viewer.userId, tok.u),
    movedSince(viewer.userId, tok.t, tok.c, input.conversationLimit + 1),
    totalUnreadStatement(viewer.userId),
  );
  const userLimited = ueRows.length > limits.userEventsPageMax;
  const userEvents: UserEvent[] = ueRows.slice(0, limits.userEventsPageMax).map((r) => ({
    useq: Number(r.useq),
    ts: Number(r.ts),
    type: r.type as UserEvent['type'],
    conversationId: uidFromDb(r.uid) as UserEvent['conversationId'],
    data: JSON.parse(r.data) as Record<string, unknown>,
  }));
  const lastUseq = userEvents.at(-1)?.useq ?? tok.u;

  const moved = await presentSummaries(deps, viewer.userId, movedRows, false);
  const convLimited = moved.length > input.conversationLimit;
  const page = moved.slice(0, input.conversationLimit);

  const ids = page.map((c) => c.internalId);
  const periods = ids.length
    ? await exec
        .selectFrom('member_periods')
        .select(['conversation_id', 'from_seq', 'to_seq'])
        .where('user_id', '=', viewer.userId)
        .where('conversation_id', 'in', ids)
        .orderBy('from_seq')
        .execute()
    : [];
  const rangesOf = new Map<number, Range[]>();
  for (const p of periods) {
    const list = rangesOf.get(Number(p.conversation_id)) ?? [];
    list.push({ from: Number(p.from_seq), to: p.to_seq === null ? NO_END : Number(p.to_seq) });
    rangesOf.set(Number(p.conversation_id), list);
  }

  const conversations: SyncResult['conversations'] = [];
  for (const c of page) {
    const ranges = rangesOf.get(c.internalId) ?? [];
    if (c.historyMode === 'all' && ranges[0]) ranges[0] = { ...ranges[0], from: 1 };
    const access: Access = {
      conv: {
        id: c.internalId,
        uid: c.id,
        kind: c.kind,
        name: c.name,
        ownerId: null,
        lastSeq: c.lastSeq,
        lastMsgNo: 0,
        lastTs: c.lastTs,
        lastMsgSeq: 0,
        historyMode: c.historyMode,
        announcement: c.announcement,
        allMuted: c.allMuted,
        dissolvedAt: null,
        memberVersion: 0,
        memberCount: c.memberCount,
      },
      member: {
        role: c.role,
        active: c.active,
        joinedSeq: c.minSeq,
        readSeq: c.readSeq,
        readMsgNo: 0,
        silencedUntil: null,
      },
      ranges,
      minSeq: ranges[0]?.from ?? 1,
    };
    let events: SyncResult['conversations'][number]['events'] = [];
    let limited = false;
    if (input.eventsPerConversation > 0 && ranges.length) {
      // The newest page, as `conversation.events` reads it: events with their messages in one
      // compiled statement per visible range, and whether older visible events remain.
      const newest = await eventPage(deps, exec, viewer, access, { limit: input.eventsPerConversation, desc: true });
      events = newest.events;
      // Older events remain that are newer than the token: the client loads them when it opens this.
      limited = newest.hasMore && !!events[0] && events[0].ts > tok.t;
    }
    conversations.push({ conversation: stripInternal(c), events, limited });
  }

  const last = page.at(-1);
  const token: Token =
    convLimited && last
      ? { u: lastUseq, t: tok.t, n: nextT, c: [last.lastTs, last.internalId] }
      : { u: lastUseq, t: nextT };
  return {
    token: encodeToken(token),
    userEvents,
    conversations,
    limited: convLimited || userLimited,
    totalUnread: totalUnreadFrom(unreadRows),
    serverTime: now,
  };
}
