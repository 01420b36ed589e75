import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';

interface Reply {
  id: number;
  rows: Record<string, unknown>[];
  changes?: number;
  lastInsertRowid?: number;
  error?: { message: string; code?: string };
}

/** An error from SQLite, carrying its extended result code (e.g. SQLITE_CONSTRAINT_UNIQUE). */
export class SqliteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteError';
  }
}

/** A connection whose statements run on a worker thread that owns one better-sqlite3 handle. */
class WorkerConnection implements DatabaseConnection {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  constructor(file: string, readonly: boolean) {
    this.worker = new Worker(new URL('./sqlite-worker.mjs', import.meta.url), {
      workerData: { file, readonly },
      execArgv: [],
    });
    this.worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if (r.error) p.reject(new SqliteError(r.error.message, r.error.code));
      else p.resolve(r);
    });
    this.worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    this.worker.unref();
  }

  run(sql: string, params: readonly unknown[]): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Keep the process alive only while a statement is in flight.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, sql, params });
    });
  }

  /**
   * Post a statement that returns nothing without waiting for it (SAVEPOINT / RELEASE inside the
   * writer's batch): the worker runs statements in order, so the next statement runs after it; if
   * it failed, the worker refuses every later statement with its error until a ROLLBACK. Saves two
   * of the ~9 round trips a send costs.
   */
  pipeline(sql: string): void {
    this.worker.postMessage({ id: 0, sql, params: [] });
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const r = await this.run(compiled.sql, compiled.parameters);
    return r.changes === undefined
      ? { rows: r.rows as R[] }
      : {
          rows: r.rows as R[],
          numAffectedRows: BigInt(r.changes),
          insertId: r.lastInsertRowid === undefined ? undefined : BigInt(r.lastInsertRowid),
        };
  }

  // eslint-disable-next-line require-yield -- streaming is not used; Kysely requires the method
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the SQLite worker driver');
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/** A tiny pool: each connection is a worker; a caller waits for a free one. */
class WorkerDriver implements Driver {
  private readonly free: WorkerConnection[] = [];
  private readonly all: WorkerConnection[] = [];
  private readonly waiters: ((c: WorkerConnection) => void)[] = [];

  constructor(
    private readonly file: string,
    private readonly readonly: boolean,
    private readonly size: number,
  ) {}

  async init(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      const c = new WorkerConnection(this.file, this.readonly);
      this.all.push(c);
      this.free.push(c);
    }
  }

  acquireConnection(): Promise<DatabaseConnection> {
    const c = this.free.pop();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const c = connection as WorkerConnection;
    const w = this.waiters.shift();
    if (w) w(c);
    else this.free.push(c);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    // IMMEDIATE takes the write lock up front: a deferred read-then-write transaction can fail with
    // SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry.
    await connection.executeQuery(CompiledQuery.raw(this.readonly ? 'begin' : 'begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as WorkerConnection).pipeline(`savepoint ${name}`);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${name}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as WorkerConnection).pipeline(`release ${name}`);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.all.map((c) => c.close()));
  }
}

/** Kysely dialect for SQLite with every statement off the event loop. */
export class WorkerSqliteDialect implements Dialect {
  constructor(private readonly opts: { file: string; readonly: boolean; connections: number }) {}
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new WorkerDriver(this.opts.file, this.opts.readonly, this.opts.connections);
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's introspector takes any database
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
}

/**
 * Reads on the event loop: one read-only better-sqlite3 handle with a statement cache. An indexed
 * page or point read costs a few microseconds here, against ~40 µs for a worker round trip plus
 * two structured clones; WAL readers never wait for the writer. Heavy reads (whole-table loads,
 * exports) keep using the worker readers (`Store.bulk`).
 */
class InlineConnection implements DatabaseConnection {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private prepare(sqlText: string): Database.Statement {
    let stmt = this.cache.get(sqlText);
    if (!stmt) {
      stmt = this.db.prepare(sqlText);
      if (this.cache.size >= 500) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(sqlText, stmt);
    }
    return stmt;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const stmt = this.prepare(compiled.sql);
      const params = compiled.parameters.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
      if (stmt.reader) return { rows: stmt.all(params) as R[] };
      const r = stmt.run(params);
      return { rows: [], numAffectedRows: BigInt(r.changes) };
    } catch (e) {
      const err = e as { message: string; code?: string };
      throw new SqliteError(err.message, err.code);
    }
  }

  // eslint-disable-next-line require-yield -- streaming is not used; Kysely requires the method
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the inline SQLite reader');
  }
}

class InlineDriver implements Driver {
  private db: Database.Database | null = null;
  private conn: InlineConnection | null = null;

  constructor(private readonly file: string) {}

  async init(): Promise<void> {
    this.db = new Database(this.file, { readonly: true, timeout: 10_000 });
    this.db.pragma('cache_size = -32000');
    this.conn = new InlineConnection(this.db);
  }

  // Statements run synchronously, so one connection is never used by two callers at once.
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.conn!;
  }
  async releaseConnection(): Promise<void> {}
  async beginTransaction(): Promise<void> {
    throw new Error('the inline SQLite reader does not run transactions');
  }
  async commitTransaction(): Promise<void> {}
  async rollbackTransaction(): Promise<void> {}
  async destroy(): Promise<void> {
    this.db?.close();
    this.db = null;
  }
}

/** Kysely dialect for read-only SQLite statements run synchronously on the calling thread. */
export class InlineSqliteReaderDialect implements Dialect {
  constructor(private readonly opts: { file: string }) {}
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new InlineDriver(this.opts.file);
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's introspector takes any database
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
}
