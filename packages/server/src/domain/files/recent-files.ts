import { attachmentOfColumns } from './file-rows.ts';
import { EnclaveError, type OpOutput, type OpParsedInput, type RecentFile } from '@enclave/protocol';
import { sql } from 'kysely';
import type { Deps, Viewer } from '../deps.ts';
import { uidFromDb } from '../../store/dialect.ts';

const escapeLike = (s: string) => s.replace(/[!%_]/g, (c) => `!${c}`);

interface Cursor {
  ts: number;
  conv: number;
  seq: number;
}

const encodeCursor = (c: Cursor) => Buffer.from(`${c.ts}.${c.conv}.${c.seq}`).toString('base64url');

function decodeCursor(s: string): Cursor {
  const parts = Buffer.from(s, 'base64url').toString('utf8').split('.');
  const [ts, conv, seq] = parts.map(Number);
  if (parts.length !== 3 || ![ts, conv, seq].every((n) => Number.isSafeInteger(n) && n! >= 0)) {
    throw new EnclaveError('bad_request', 'The cursor is not valid; start again from the first page.');
  }
  return { ts: ts!, conv: conv!, seq: seq! };
}

/**
 * The Files view: files sent in every conversation the viewer is an active member of, newest first
 * (keyset by time, conversation, seq), only in messages the viewer may see — inside a membership
 * period (or before the first one when the group shows all history), not recalled, not removed from
 * the group file space, not expired. A name search is a substring match.
 *
 * Every step is an index lookup (members_user → file_refs, messages, files by primary key), but the
 * sort covers every file of the viewer's conversations before the limit applies: it runs on `bulk`.
 */
export async function listRecentFiles(
  deps: Deps,
  viewer: Viewer,
  i: OpParsedInput<'files.recent'>,
): Promise<OpOutput<'files.recent'>> {
  const me = viewer.userId;
  const now = deps.now();
  const after = i.cursor ? decodeCursor(i.cursor) : null;
  let q = deps.store.bulk
    .selectFrom('members as mb')
    .innerJoin('conversations as c', 'c.id', 'mb.conversation_id')
    .innerJoin('file_refs as r', 'r.conversation_id', 'mb.conversation_id')
    .innerJoin('messages as m', (j) =>
      j.onRef('m.conversation_id', '=', 'r.conversation_id').onRef('m.seq', '=', 'r.seq'),
    )
    .innerJoin('files as f', 'f.id', 'r.file_id')
    .leftJoin('file_blobs as b', 'b.id', 'f.blob_id')
    .where('mb.user_id', '=', me)
    .where('mb.active', '=', 1)
    .where('r.deleted_at', 'is', null)
    .where('m.recalled_at', 'is', null)
    .where((eb) => eb.or([eb('f.expires_at', 'is', null), eb('f.expires_at', '>', now)]))
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('member_periods as p')
          .select('p.from_seq')
          .whereRef('p.conversation_id', '=', 'r.conversation_id')
          .where('p.user_id', '=', me)
          .where((e) => e.or([e('p.to_seq', 'is', null), e('p.to_seq', '>=', e.ref('r.seq'))]))
          .where((e) =>
            e.or([
              e('p.from_seq', '<=', e.ref('r.seq')),
              // history "all": the first period reaches back to the start of the conversation
              e.and([
                e('c.history_mode', '=', 'all'),
                e.not(
                  e.exists(
                    e
                      .selectFrom('member_periods as p0')
                      .select('p0.from_seq')
                      .whereRef('p0.conversation_id', '=', 'p.conversation_id')
                      .where('p0.user_id', '=', me)
                      .whereRef('p0.from_seq', '<', 'p.from_seq'),
                  ),
                ),
              ]),
            ]),
          ),
      ),
    );
  if (i.q) q = q.where(sql<boolean>`lower(r.name) like ${'%' + escapeLike(i.q.toLowerCase()) + '%'} escape '!'`);
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('r.created_at', '<', after.ts),
        eb.and([eb('r.created_at', '=', after.ts), eb('r.conversation_id', '<', after.conv)]),
        eb.and([
          eb('r.created_at', '=', after.ts),
          eb('r.conversation_id', '=', after.conv),
          eb('r.seq', '<', after.seq),
        ]),
      ]),
    );
  }
  const rows = await q
    .select([
      'r.conversation_id',
      'r.seq',
      'r.sender_id',
      'r.created_at',
      'c.uid as conv_uid',
      'c.kind as conv_kind',
      'c.name as conv_name',
      'm.uid as message_uid',
      'f.uid',
      'f.name',
      'f.size',
      'f.mime',
      'f.kind',
      'b.has_thumb',
      'b.width',
      'b.height',
    ])
    .orderBy('r.created_at', 'desc')
    .orderBy('r.conversation_id', 'desc')
    .orderBy('r.seq', 'desc')
    .limit(i.limit + 1)
    .execute();
  const more = rows.length > i.limit;
  const page = more ? rows.slice(0, i.limit) : rows;

  // A direct chat is named after the other person.
  const directIds = [...new Set(page.filter((r) => r.conv_kind === 'direct').map((r) => Number(r.conversation_id)))];
  const peerOf = new Map<number, number>();
  if (directIds.length) {
    const peers = await deps.store.reader
      .selectFrom('members')
      .select(['conversation_id', 'user_id'])
      .where('conversation_id', 'in', directIds)
      .where('user_id', '!=', me)
      .execute();
    for (const p of peers) peerOf.set(Number(p.conversation_id), Number(p.user_id));
  }
  const users = await deps.directory.users([...page.map((r) => Number(r.sender_id)), ...peerOf.values()]);
  const items: RecentFile[] = page.map((r) => {
    const peer = users.get(peerOf.get(Number(r.conversation_id)) ?? -1);
    return {
      file: attachmentOfColumns(r),
      seq: Number(r.seq),
      messageId: uidFromDb(r.message_uid) as RecentFile['messageId'],
      senderId: users.get(Number(r.sender_id))?.id as RecentFile['senderId'],
      sentAt: Number(r.created_at),
      conversation: {
        id: uidFromDb(r.conv_uid) as RecentFile['conversation']['id'],
        kind: r.conv_kind,
        name: r.conv_kind === 'direct' ? (peer?.displayName ?? r.conv_name) : r.conv_name,
      },
    };
  });
  const last = page[page.length - 1];
  return {
    items,
    nextCursor:
      more && last
        ? encodeCursor({ ts: Number(last.created_at), conv: Number(last.conversation_id), seq: Number(last.seq) })
        : null,
  };
}
