import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { EnclaveError, ExportFormat } from '@enclave/protocol';
import type { App } from '../app.ts';
import type { Viewer } from '../domain/deps.ts';
import { exportConversation } from '../domain/search/export-conversation.ts';
import { reindexSearch } from '../domain/search/reindex.ts';
import { uidFromDb } from '../store/dialect.ts';

/**
 * `enclave search reindex` — rebuild the message search index (server stopped).
 * `enclave export <conversation-id> --as <username> --out <file> [--format html|json|csv]` — export a
 * conversation as that member sees it (audited like the REST export).
 */
export async function searchCommand(
  app: App,
  cmd: 'search' | 'export',
  arg: string | undefined,
  flags: Record<string, string | boolean>,
): Promise<number> {
  const json = flags.json === true;
  if (cmd === 'search') {
    if (arg !== 'reindex') throw new EnclaveError('bad_request', 'Usage: enclave search reindex');
    const started = Date.now();
    let shown = 0;
    const r = await reindexSearch(app.deps, (done, total) => {
      if (!json && (done - shown >= 50_000 || done === total)) {
        shown = done;
        process.stderr.write(`  indexed ${done} / ${total}\n`);
      }
    });
    const ms = Date.now() - started;
    console.log(
      json ? JSON.stringify({ ...r, ms }) : `Reindexed ${r.messages} messages in ${(ms / 1000).toFixed(1)} s.`,
    );
    return 0;
  }
  const username = typeof flags.as === 'string' ? flags.as.toLowerCase() : '';
  const out = typeof flags.out === 'string' ? flags.out : '';
  if (!arg || !username || !out)
    throw new EnclaveError(
      'bad_request',
      'Usage: enclave export <conversation-id> --as <username> --out <file> [--format html|json|csv]',
    );
  const format = ExportFormat.parse(typeof flags.format === 'string' ? flags.format : 'html');
  const row = await app.deps.store.db
    .selectFrom('users')
    .select(['id', 'uid', 'role'])
    .where('username', '=', username)
    .executeTakeFirst();
  if (!row) throw new EnclaveError('user_not_found', `No user named "${username}".`);
  const viewer: Viewer = {
    userId: Number(row.id),
    uid: uidFromDb(row.uid),
    role: row.role === 'admin' ? 'admin' : 'user',
    sessionId: 0,
    sessionUid: 'cli',
    deviceId: 0,
    deviceUid: 'cli',
    mustChangePassword: false,
  };
  const result = await exportConversation(app.deps, viewer, arg, format);
  await pipeline(Readable.from(result.chunks), fs.createWriteStream(out));
  const bytes = fs.statSync(out).size;
  console.log(json ? JSON.stringify({ file: out, bytes, format }) : `Exported to ${out} (${bytes} bytes).`);
  return 0;
}
