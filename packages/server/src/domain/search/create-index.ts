import type { Logger } from 'pino';
import type { Store } from '../../store/store.ts';
import { MysqlSearchIndex } from './mysql-index.ts';
import type { SearchIndex } from './port.ts';
import { PostgresSearchIndex } from './postgres-index.ts';
import { SqliteSearchIndex } from './sqlite-index.ts';

/** The search index for a store: the embedded one on SQLite, the distributed ones beside PG/MySQL. */
export function createSearchIndex(
  store: Pick<Store, 'kind' | 'db' | 'reader' | 'files'>,
  log?: Logger,
  scanWindow = 2_000,
): SearchIndex {
  if (store.kind === 'postgres') return new PostgresSearchIndex(scanWindow);
  if (store.kind === 'mysql') return new MysqlSearchIndex(scanWindow);
  return new SqliteSearchIndex(store, log);
}
