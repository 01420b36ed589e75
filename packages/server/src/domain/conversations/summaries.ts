import type { Conversation } from '@enclave/protocol';
import { sql } from 'kysely';
import type { Deps, Viewer } from '../deps.ts';
import { convColumnsOfC, toConvRow } from '../access.ts';
import { presentMessage } from '../present.ts';
import { recordFromRow } from '../records.ts';
import { rememberConvId } from '../conv-ids.ts';
import type { Executor } from '../../store/dialect.ts';
import { precompiled } from '../../store/precompiled.ts';

export interface SummaryFilter {
  /** Only these conversations (internal ids). */
  ids?: number[];
  /** Moved since this time (sync), paged by (last_ts, id) descending below `before`. */
  since?: number;
  before?: [number, number];
  includeLeft?: boolean;
  limit?: number;
}

/**
 * The viewer's conversations with unread, mentions, preview and settings — one statement for any
 * number of memberships (correlated sub-queries probe indexes per row), plus one for user names.
 * Unread = last_msg_no − read_msg_no − recalled unread messages; own messages advance the read cursor.
 */
export async function querySummaries(
  deps: Deps,
  exec: Executor,
  viewer: Pick<Viewer, 'userId'>,
  f: SummaryFilter,
): Promise<(Conversation & { internalId: number })[]> {
  const rows = await summariesQuery(exec, viewer.userId, f).execute();
  return presentSummaries(deps, viewer.userId, rows, f.since === undefined);
}

type SummaryRow = Awaited<ReturnType<ReturnType<typeof summariesQuery>['execute']>>[number];

/**
 * Sync's statement (every socket's first sync, so built by Kysely once): my active conversations
 * moved since a time, newest first, paged below `before` by (last_ts, id).
 */
export function movedSince(me: number, since: number, before: [number, number] | undefined, limit: number) {
  return before ? movedBefore.with(me, since, before[0], before[1], limit) : moved.with(me, since, limit);
}

/** Summaries from the statement's rows: user names (peer, preview sender) and the preview. */
export async function presentSummaries(
  deps: Deps,
  me: number,
  rows: SummaryRow[],
  /** Pinned first, then newest (the conversation list); otherwise the statement's order. */
  pinnedFirst: boolean,
): Promise<(Conversation & { internalId: number })[]> {
  const userIds = new Set<number>();
  for (const r of rows) {
    if (r.peer_id !== null) userIds.add(Number(r.peer_id));
    if (r.pm_sender_id !== null) userIds.add(Number(r.pm_sender_id));
  }
  const users = await deps.directory.users(userIds);
  const out = rows.map((r) => {
    const conv = toConvRow(r);
    rememberConvId(conv.uid, conv.id);
    const peer = r.peer_id === null ? null : (users.get(Number(r.peer_id)) ?? null);
    let preview = null;
    const active = !!Number(r.active);
    const floor = conv.historyMode === 'all' ? 1 : Number(r.joined_seq);
    // The preview is the newest message only when this viewer may see it: not before their join
    // point (from_join), and nothing at all once they have left.
    if (r.pm_seq !== null && r.pm_uid !== null && active && Number(r.pm_seq) >= floor) {
      const rec = recordFromRow(
        deps,
        {
          conversation_id: conv.id,
          seq: Number(r.pm_seq),
          uid: r.pm_uid,
          sender_id: Number(r.pm_sender_id),
          client_msg_id: r.pm_client_msg_id!,
          kind: r.pm_kind!,
          content: r.pm_content,
          format: r.pm_format!,
          meta: r.pm_meta!,
          msg_no: Number(r.pm_msg_no),
          ts: Number(r.pm_ts),
          edited_at: r.pm_edited_at,
          recalled_at: r.pm_recalled_at,
          signoff: Number(r.pm_signoff),
        },
        conv.uid,
        users.get(Number(r.pm_sender_id))?.id ?? '',
      );
      const signed = Number(r.pm_signed) > 0;
      preview = presentMessage({ userId: me, signed: () => signed }, rec, null);
    }
    const unread = active ? Math.max(0, conv.lastMsgNo - Number(r.read_msg_no) - Number(r.recalled_unread ?? 0)) : 0;
    const summary: Conversation & { internalId: number } = {
      internalId: conv.id,
      id: conv.uid as Conversation['id'],
      kind: conv.kind,
      name: conv.kind === 'direct' ? (peer?.displayName ?? conv.name) : conv.name,
      peer,
      lastSeq: conv.lastSeq,
      lastTs: conv.lastTs,
      minSeq: conv.historyMode === 'all' ? 1 : Number(r.joined_seq),
      unread,
      mentions: active ? Number(r.mention_count ?? 0) + Number(r.mention_all_count ?? 0) : 0,
      preview,
      muted: !!Number(r.muted),
      pinned: !!Number(r.pinned),
      role: r.role,
      readSeq: Number(r.read_seq),
      peerReadSeq: r.peer_read_seq === null ? null : Number(r.peer_read_seq),
      peerDeliveredSeq: r.peer_delivered_seq === null ? null : Number(r.peer_delivered_seq),
      memberCount: conv.memberCount,
      announcement: conv.announcement,
      allMuted: conv.allMuted,
      historyMode: conv.historyMode,
      dissolved: conv.dissolvedAt !== null,
      active,
    };
    return summary;
  });
  if (pinnedFirst) out.sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.lastTs - a.lastTs);
  return out;
}

/** The summaries statement for a filter (with `precompiled`'s placeholders: used as values only). */
function summariesQuery(exec: Executor, me: number, f: SummaryFilter) {
  let q = exec
    .selectFrom('members as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .leftJoin('messages as pm', (j) =>
      j.onRef('pm.conversation_id', '=', 'c.id').onRef('pm.seq', '=', 'c.last_msg_seq'),
    )
    // The peer of a direct conversation. The key is null for a group, so its members are not walked:
    // with `c.kind = 'direct'` as a condition of the join instead, SQLite scanned every member of each
    // group for it (~340 µs per sync for one group of 5,000 members, ~40 µs this way).
    .leftJoin('members as peer', (j) =>
      j
        .on(
          'peer.conversation_id',
          '=',
          sql<number>`case when ${sql.ref('c.kind')} = 'direct' then ${sql.ref('c.id')} end`,
        )
        .on('peer.user_id', '<>', me),
    )
    .select([
      ...convColumnsOfC,
      'm.role',
      'm.active',
      'm.joined_seq',
      'm.read_seq',
      'm.read_msg_no',
      'm.muted',
      'm.pinned',
      'peer.user_id as peer_id',
      'peer.read_seq as peer_read_seq',
      'peer.delivered_seq as peer_delivered_seq',
      'pm.seq as pm_seq',
      'pm.uid as pm_uid',
      'pm.sender_id as pm_sender_id',
      'pm.client_msg_id as pm_client_msg_id',
      'pm.kind as pm_kind',
      'pm.content as pm_content',
      'pm.format as pm_format',
      'pm.meta as pm_meta',
      'pm.msg_no as pm_msg_no',
      'pm.ts as pm_ts',
      'pm.edited_at as pm_edited_at',
      'pm.recalled_at as pm_recalled_at',
      'pm.signoff as pm_signoff',
      (eb) =>
        eb
          .selectFrom('mentions as mn')
          .select(eb.fn.countAll<number>().as('n'))
          .where('mn.user_id', '=', me)
          .whereRef('mn.conversation_id', '=', 'c.id')
          .whereRef('mn.seq', '>', 'm.read_seq')
          .as('mention_count'),
      (eb) =>
        eb
          .selectFrom('mention_all as ma')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('ma.conversation_id', '=', 'c.id')
          .whereRef('ma.seq', '>', 'm.read_seq')
          .as('mention_all_count'),
      (eb) =>
        eb
          .selectFrom('recalls as rm')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('rm.conversation_id', '=', 'c.id')
          .whereRef('rm.seq', '>', 'm.read_seq')
          .where('rm.sender_id', '<>', me)
          .as('recalled_unread'),
      (eb) =>
        eb
          .selectFrom('signoffs as so')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('so.conversation_id', '=', 'c.id')
          .whereRef('so.seq', '=', 'c.last_msg_seq')
          .where('so.user_id', '=', me)
          .as('pm_signed'),
    ])
    .where('m.user_id', '=', me);
  if (!f.includeLeft) q = q.where('m.active', '=', 1);
  if (f.ids) q = q.where('c.id', 'in', f.ids.length ? f.ids : [-1]);
  if (f.since !== undefined) q = q.where('c.last_ts', '>', f.since);
  if (f.before) {
    const [ts, id] = f.before;
    q = q.where((eb) => eb.or([eb('c.last_ts', '<', ts), eb.and([eb('c.last_ts', '=', ts), eb('c.id', '<', id)])]));
  }
  q = f.since !== undefined ? q.orderBy('c.last_ts', 'desc').orderBy('c.id', 'desc') : q.orderBy('c.last_ts', 'desc');
  if (f.limit) q = q.limit(f.limit);
  return q;
}

const moved = precompiled((db, me: number, since: number, limit: number) => summariesQuery(db, me, { since, limit }));
const movedBefore = precompiled((db, me: number, since: number, ts: number, id: number, limit: number) =>
  summariesQuery(db, me, { since, before: [ts, id], limit }),
);

export function totalUnread(items: Conversation[]): number {
  return items.reduce((n, c) => n + (c.muted ? 0 : c.unread), 0);
}

export function stripInternal<T extends { internalId: number }>(c: T): Omit<T, 'internalId'> {
  const { internalId: _, ...rest } = c;
  return rest;
}

/**
 * Total unread over my active, unmuted conversations: one statement (every sync: built once), run
 * with `readTogether`; `totalUnreadFrom` reads the total off its rows.
 */
export const totalUnreadStatement = (userId: number) => totalUnreadQuery.with(userId);

export const totalUnreadFrom = (rows: { total: number | null }[]): number => Math.max(0, Number(rows[0]?.total ?? 0));

const totalUnreadQuery = precompiled((exec, userId: number) =>
  exec
    .selectFrom('members as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .select((eb) =>
      eb.fn
        .sum<number>(
          eb(
            eb('c.last_msg_no', '-', eb.ref('m.read_msg_no')),
            '-',
            eb
              .selectFrom('recalls as rm')
              .select(eb.fn.countAll<number>().as('n'))
              .whereRef('rm.conversation_id', '=', 'c.id')
              .whereRef('rm.seq', '>', 'm.read_seq')
              .where('rm.sender_id', '<>', userId),
          ),
        )
        .as('total'),
    )
    .where('m.user_id', '=', userId)
    .where('m.active', '=', 1)
    .where('m.muted', '=', 0),
);
