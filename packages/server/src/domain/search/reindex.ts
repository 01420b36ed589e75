import type { Deps } from '../deps.ts';
import { messageColumns, recordFromRow, type MessageRow } from '../records.ts';
import { searchDocOf } from './doc.ts';
import type { SearchDoc } from './port.ts';

const PAGE = 2_000;

/**
 * Rebuild the search index from the messages table (`enclave search reindex`): after restoring a
 * backup, changing the codec, or upgrading the index format. Run it with the server stopped.
 * Index ids follow time order (ts, conversation, seq), which is what "newest first" walks; bodies are
 * decoded through the codec like every other read. Memory: three numbers per message for the order.
 */
export async function reindexSearch(
  deps: Pick<Deps, 'store' | 'search' | 'codec' | 'directory'>,
  onProgress?: (done: number, total: number) => void,
): Promise<{ messages: number }> {
  const db = deps.store.db;
  // Pass 1: the time order of every live message.
  const conv: number[] = [];
  const seqs: number[] = [];
  const ts: number[] = [];
  for (let last = { c: 0, s: 0 }; ;) {
    const rows = await db
      .selectFrom('messages')
      .select(['conversation_id', 'seq', 'ts'])
      .where('recalled_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('conversation_id', '>', last.c),
          eb.and([eb('conversation_id', '=', last.c), eb('seq', '>', last.s)]),
        ]),
      )
      .orderBy('conversation_id')
      .orderBy('seq')
      .limit(PAGE * 5)
      .execute();
    for (const r of rows) {
      conv.push(Number(r.conversation_id));
      seqs.push(Number(r.seq));
      ts.push(Number(r.ts));
    }
    if (rows.length < PAGE * 5) break;
    last = { c: conv.at(-1)!, s: seqs.at(-1)! };
  }
  const total = conv.length;
  const order = Array.from({ length: total }, (_, i) => i);
  order.sort((a, b) => ts[a]! - ts[b]! || conv[a]! - conv[b]! || seqs[a]! - seqs[b]!);
  const idAt = new Float64Array(total);
  order.forEach((pos, rank) => (idAt[pos] = rank + 1));

  await deps.search.clear(db);
  // Pass 2: the same key order, with bodies, in bounded transactions.
  let done = 0;
  while (done < total) {
    const c = conv[done]!;
    const from = seqs[done]!;
    const rows = (await db
      .selectFrom('messages')
      .select(messageColumns)
      .where('conversation_id', '=', c)
      .where('seq', '>=', from)
      .where('recalled_at', 'is', null)
      .orderBy('seq')
      .limit(PAGE)
      .execute()) as unknown as MessageRow[];
    const before = done;
    const docs: (SearchDoc & { id: number })[] = [];
    for (const row of rows) {
      // Stop at the first row pass 1 did not see (none should exist with the server stopped).
      if (done >= total || conv[done] !== c || seqs[done] !== Number(row.seq)) break;
      const rec = recordFromRow(deps, row, '', '');
      if (rec.text !== null && rec.kind !== 'system')
        docs.push({
          id: idAt[done]!,
          ...searchDocOf(rec.conversationId, rec.seq, rec.senderId, rec.ts, rec.text, rec.signoff, rec.file),
        });
      done++;
    }
    if (done === before) done++; // the message went away since pass 1
    await db.transaction().execute((trx) => deps.search.bulkLoad(trx, docs));
    onProgress?.(done, total);
  }
  await deps.search.finishLoad(db);
  return { messages: total };
}

/**
 * At start: a search file created now beside a store that already holds messages (the file was lost
 * or deleted, and it did not come from the old in-database layout) is rebuilt in the background;
 * searches answer from what is indexed so far until it finishes.
 */
export async function rebuildLostIndex(
  deps: Pick<Deps, 'store' | 'search' | 'codec' | 'directory' | 'log'>,
): Promise<void> {
  const files = deps.store.files;
  if (!files?.search.created || files.search.moved > 0) return;
  const any = await deps.store.reader.selectFrom('messages').select('seq').limit(1).executeTakeFirst();
  if (!any) return;
  deps.log.warn({ file: files.search.file }, 'search index file is new but messages exist: rebuilding it');
  const started = Date.now();
  const r = await reindexSearch(deps);
  deps.log.info({ messages: r.messages, ms: Date.now() - started }, 'search index rebuilt');
}
