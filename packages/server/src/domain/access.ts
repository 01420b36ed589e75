import { EnclaveError } from '@enclave/protocol';
import type { ExpressionBuilder } from 'kysely';
import type { Deps, Viewer } from './deps.ts';
import type { Database } from '../store/schema.ts';
import { uidFromDb, uidToDb, type Executor } from '../store/dialect.ts';
import { precompiled } from '../store/precompiled.ts';

export const convColumns = [
  'id',
  'uid',
  'kind',
  'name',
  'owner_id',
  'last_seq',
  'last_msg_no',
  'last_ts',
  'last_msg_seq',
  'history_mode',
  'announcement',
  'all_muted',
  'dissolved_at',
  'member_version',
  'member_count',
] as const;

/** `convColumns` of `conversations as c`, for statements that join it. */
export const convColumnsOfC = convColumns.map((c) => `c.${c}` as const);

export interface ConvRow {
  id: number;
  uid: string;
  kind: 'direct' | 'group' | 'self';
  name: string;
  ownerId: number | null;
  lastSeq: number;
  lastMsgNo: number;
  lastTs: number;
  lastMsgSeq: number;
  historyMode: 'from_join' | 'all';
  announcement: string | null;
  allMuted: boolean;
  dissolvedAt: number | null;
  memberVersion: number;
  memberCount: number;
}

export interface MemberRow {
  role: 'owner' | 'admin' | 'member';
  active: boolean;
  joinedSeq: number;
  readSeq: number;
  readMsgNo: number;
  silencedUntil: number | null;
}

export interface Range {
  from: number;
  to: number;
}

export interface Access {
  conv: ConvRow;
  member: MemberRow;
  /** Seq ranges of this conversation the viewer may see. */
  ranges: Range[];
  minSeq: number;
}

type RawConv = { [K in (typeof convColumns)[number]]: Database['conversations'][K extends 'id' ? 'id' : K] };

export function toConvRow(r: Record<string, unknown>): ConvRow {
  const row = r as unknown as RawConv & { id: number };
  return {
    id: Number(row.id),
    uid: uidFromDb(row.uid),
    kind: row.kind,
    name: row.name,
    ownerId: row.owner_id === null ? null : Number(row.owner_id),
    lastSeq: Number(row.last_seq),
    lastMsgNo: Number(row.last_msg_no),
    lastTs: Number(row.last_ts),
    lastMsgSeq: Number(row.last_msg_seq),
    historyMode: row.history_mode,
    announcement: row.announcement,
    allMuted: !!Number(row.all_muted),
    dissolvedAt: row.dissolved_at === null ? null : Number(row.dissolved_at),
    memberVersion: Number(row.member_version),
    memberCount: Number(row.member_count),
  };
}

export const NO_END = Number.MAX_SAFE_INTEGER;

/**
 * The conversation by public id joined with the viewer's membership and its periods: one row per
 * period (one with null period columns when there is none), no row when the viewer never belonged.
 */
const accessByUid = precompiled((db, uid: unknown, userId: number) =>
  db
    .selectFrom('conversations as c')
    .innerJoin('members as m', (j) => j.onRef('m.conversation_id', '=', 'c.id').on('m.user_id', '=', userId))
    .leftJoin('member_periods as p', (j) =>
      j.onRef('p.conversation_id', '=', 'm.conversation_id').onRef('p.user_id', '=', 'm.user_id'),
    )
    .select([
      ...convColumnsOfC,
      'm.role',
      'm.active',
      'm.joined_seq',
      'm.read_seq',
      'm.read_msg_no',
      'm.silenced_until',
      'p.from_seq',
      'p.to_seq',
    ])
    .where('c.uid', '=', uid)
    .orderBy('p.from_seq')
    .limit(50),
);

/**
 * Load a conversation through the viewer: an id they were never a member of is not found (not
 * forbidden), so ids cannot be probed. Returns the ranges they may see. One statement: every op on
 * a conversation starts here, a history page included.
 */
export async function loadAccess(
  deps: Pick<Deps, 'store'>,
  exec: Executor,
  viewer: Pick<Viewer, 'userId'>,
  conversationUid: string,
): Promise<Access> {
  const kind = deps.store.kind;
  const rows = await accessByUid.rows(kind, exec, uidToDb(kind, conversationUid), viewer.userId);
  const first = rows[0];
  if (!first) throw new EnclaveError('conversation_not_found');
  const periods = first.from_seq === null ? [] : (rows as { from_seq: number; to_seq: number | null }[]);
  return accessOf(toConvRow(first), first, periods);
}

export async function loadAccessById(exec: Executor, viewer: Pick<Viewer, 'userId'>, conv: ConvRow): Promise<Access> {
  const m = await exec
    .selectFrom('members')
    .select(['role', 'active', 'joined_seq', 'read_seq', 'read_msg_no', 'silenced_until'])
    .where('conversation_id', '=', conv.id)
    .where('user_id', '=', viewer.userId)
    .executeTakeFirst();
  if (!m) throw new EnclaveError('conversation_not_found');
  const periods = await exec
    .selectFrom('member_periods')
    .select(['from_seq', 'to_seq'])
    .where('conversation_id', '=', conv.id)
    .where('user_id', '=', viewer.userId)
    .orderBy('from_seq')
    .limit(50)
    .execute();
  return accessOf(conv, m, periods);
}

function accessOf(
  conv: ConvRow,
  m: Pick<Database['members'], 'role' | 'active' | 'joined_seq' | 'read_seq' | 'read_msg_no' | 'silenced_until'>,
  periods: { from_seq: number; to_seq: number | null }[],
): Access {
  const ranges = periods.map((p) => ({ from: Number(p.from_seq), to: p.to_seq === null ? NO_END : Number(p.to_seq) }));
  if (conv.historyMode === 'all' && ranges[0]) ranges[0] = { ...ranges[0], from: 1 };
  return {
    conv,
    member: {
      role: m.role,
      active: !!Number(m.active),
      joinedSeq: Number(m.joined_seq),
      readSeq: Number(m.read_seq),
      readMsgNo: Number(m.read_msg_no),
      silencedUntil: m.silenced_until === null ? null : Number(m.silenced_until),
    },
    ranges,
    minSeq: ranges[0]?.from ?? 1,
  };
}

export function requireActive(a: Access): void {
  if (!a.member.active) throw new EnclaveError('not_a_member');
}

export function requireWritable(a: Access): void {
  requireActive(a);
  if (a.conv.dissolvedAt !== null) throw new EnclaveError('conversation_read_only');
}

export function requireGroupAdmin(a: Access): void {
  requireWritable(a);
  if (a.conv.kind !== 'group') throw new EnclaveError('forbidden', 'Only groups have administrators.');
  if (a.member.role === 'member') throw new EnclaveError('forbidden', 'Only the owner and admins may do this.');
}

export function visible(a: Access, seq: number): boolean {
  return a.ranges.some((r) => seq >= r.from && seq <= r.to);
}

/** A where-clause restricting `seq` to the viewer's ranges. */
export function inRanges(ranges: Range[], column: 'seq' = 'seq') {
  return <DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>) =>
    eb.or(
      ranges.map((r) =>
        eb.and([eb(eb.ref(column as never), '>=', r.from as never), eb(eb.ref(column as never), '<=', r.to as never)]),
      ),
    );
}
