import { connect, ping, type Db, type DialectKind } from './dialect.ts';
import { migrate } from './migrations.ts';

/** The Store port: a writer handle, a reader handle, the dialect, and lifecycle. */
export interface Store {
  kind: DialectKind;
  db: Db;
  reader: Db;
  ping(): Promise<void>;
  /** Statements executed so far (every dialect), for tests that pin hot-path cost. */
  stats: { statements: number };
  close(): Promise<void>;
}

export async function openStore(url: string, opts: { poolSize?: number; migrate?: boolean } = {}): Promise<Store> {
  const conns = connect(url, opts.poolSize ?? 10);
  if (opts.migrate !== false) await migrate(conns.db, conns.kind);
  const reader = conns.openReader();
  return {
    kind: conns.kind,
    db: conns.db,
    reader,
    stats: conns.stats,
    ping: () => ping(reader),
    async close() {
      if (reader !== conns.db) await reader.destroy();
      await conns.db.destroy();
    },
  };
}

export async function migrateStore(url: string): Promise<string[]> {
  const conns = connect(url, 2);
  try {
    return await migrate(conns.db, conns.kind);
  } finally {
    await conns.db.destroy();
  }
}
