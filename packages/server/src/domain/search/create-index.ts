import type { DialectKind } from '../../store/dialect.ts';
import { MysqlSearchIndex } from './mysql-index.ts';
import type { SearchIndex } from './port.ts';
import { PostgresSearchIndex } from './postgres-index.ts';
import { SqliteSearchIndex } from './sqlite-index.ts';

/** The search index for a store: the embedded one on SQLite, the distributed ones beside PG/MySQL. */
export function createSearchIndex(kind: DialectKind): SearchIndex {
  if (kind === 'postgres') return new PostgresSearchIndex();
  if (kind === 'mysql') return new MysqlSearchIndex();
  return new SqliteSearchIndex();
}
