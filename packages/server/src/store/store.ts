import { connect, ping, type Connections, type Db, type DialectKind, type ProgramRunner } from './dialect.ts';
import { migrate } from './migrations.ts';

/** The Store port: a writer handle, a reader handle, the dialect, and lifecycle. */
export interface Store {
  kind: DialectKind;
  db: Db;
  /** Indexed point and page reads (SQLite: synchronous on the event loop — microseconds). */
  reader: Db;
  /** Heavy reads: whole-table loads, imports, exports (SQLite: worker threads). */
  bulk: Db;
  ping(): Promise<void>;
  /** Statements executed so far (every dialect), for tests that pin hot-path cost. */
  stats: { statements: number };
  /** SQLite: the main database file and the search index's own file. */
  files?: Connections['files'];
  /** SQLite: write batches as programs on the writer's own thread (domain/writer.ts, runProgram). */
  programs?: ProgramRunner;
  /** SQLite: each WAL fsync's duration goes to `walSyncs.observe` (metrics). */
  walSyncs?: Connections['walSyncs'];
  close(): Promise<void>;
}

export async function openStore(
  url: string,
  opts: { poolSize?: number; migrate?: boolean; pgPreparedStatements?: boolean } = {},
): Promise<Store> {
  const conns = await connect(url, opts.poolSize ?? 10, opts.pgPreparedStatements ?? true);
  if (opts.migrate !== false) await migrate(conns.db, conns.kind);
  const reader = conns.openReader();
  const bulk = conns.openBulkReader();
  return {
    kind: conns.kind,
    db: conns.db,
    reader,
    bulk,
    stats: conns.stats,
    ...(conns.files ? { files: conns.files } : {}),
    ...(conns.programs ? { programs: conns.programs } : {}),
    ...(conns.walSyncs ? { walSyncs: conns.walSyncs } : {}),
    ping: () => ping(reader),
    async close() {
      if (reader !== conns.db) await reader.destroy();
      if (bulk !== conns.db) await bulk.destroy();
      await conns.db.destroy();
    },
  };
}

export async function migrateStore(url: string): Promise<string[]> {
  const conns = await connect(url, 2);
  try {
    return await migrate(conns.db, conns.kind);
  } finally {
    await conns.db.destroy();
  }
}
