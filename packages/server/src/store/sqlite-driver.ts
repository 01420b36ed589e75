import fs from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
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
import { LimitInliner } from './sqlite-limits.ts';
import { sqlTimingEnd, sqlTimingStart } from './sql-timing.ts';

interface Reply {
  id: number;
  rows: Record<string, unknown>[];
  changes?: number;
  lastInsertRowid?: number;
  program?: ProgramReply;
  error?: { message: string; code?: string };
}

/**
 * One statement of a write program (run on the writer's program thread, sqlite-worker.mjs): the
 * compiled SQL and its parameters, where a parameter may be `stepRef(name, col)` — a column of the
 * row an earlier step of the same job read.
 */
export interface ProgramStep {
  name: string;
  sql: string;
  params: readonly unknown[];
  /** A row came back: the job ends here, with what it has read (an idempotent retry's original). */
  stopIfRow?: boolean;
  /** No row came back: the job ends here, having nothing to do (a conditional update that matched none). */
  stopUnlessRow?: boolean;
  /** No row came back: the job fails with this error code. */
  requireRow?: string;
  /** The row's column of this name holds an error code (not null): the job fails with it. */
  refuseBy?: string;
  /** Keep every row the step reads (an array), not only the first. */
  all?: boolean;
}

/**
 * A job's steps as its template holds them on the program thread: its parameters are the job's values
 * in order, except at the positions of `refs` — [position, step, column].
 */
interface TemplateStep {
  n: string;
  sql: string;
  count: number;
  refs: [number, string, string][];
  stopIfRow: boolean | undefined;
  stopUnlessRow: boolean | undefined;
  requireRow: string | undefined;
  refuseBy: string | undefined;
  all: boolean | undefined;
}

/** A parameter standing for a column of an earlier step's row. */
export const stepRef = (name: string, col: string): unknown => new StepRef(name, col);

class StepRef {
  constructor(
    readonly name: string,
    readonly col: string,
  ) {}
}

export type ProgramRow = Record<string, unknown>;

/** What one job of a program came to: the rows its steps read, or why it failed (rolled back alone). */
export type ProgramOutcome =
  | { ok: true; rows: Record<string, ProgramRow | ProgramRow[] | undefined>; stopped: string | null }
  | { ok: false; error: { refusal: string } | { message: string; code?: string } };

export interface ProgramReply {
  results: ProgramOutcome[];
  committed: boolean;
  statements: number;
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
  /** Why the thread is gone (it exited or failed): every statement fails with this from then on. */
  private gone: Error | null = null;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

  /** Statement texts of programs, by id. */
  private readonly textIds = new Map<string, number>();
  /** Program templates already sent to this thread, by what they are. */
  private readonly templates = new Map<string, number>();
  /** Settles once the thread runs. */
  readonly online: Promise<void>;

  constructor(
    file: string,
    readonly: boolean,
    attach: Record<string, string> = {},
    busyTimeoutMs = 10_000,
    opts: { synchronous?: 'NORMAL'; noAutocheckpoint?: boolean; nice?: number } = {},
  ) {
    this.worker = new Worker(new URL('./sqlite-worker.mjs', import.meta.url), {
      workerData: { file, readonly, attach, busyTimeoutMs, ...opts },
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
    this.online = new Promise((resolve, reject) => {
      this.worker.once('online', resolve);
      this.worker.once('error', reject);
    });
    this.online.catch(() => undefined);
    // A thread that fails or exits fails what it was running and everything after, instead of
    // leaving callers (a writer holding its lease) waiting for answers that will never come.
    this.worker.on('error', (e) => this.lost(e));
    this.worker.on('exit', (code) =>
      this.lost(new SqliteError(`the SQLite worker thread exited (${code})`, undefined)),
    );
    this.worker.unref();
  }

  /** The thread has failed or exited. */
  get dead(): boolean {
    return this.gone !== null;
  }

  private lost(e: Error): void {
    this.gone ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  run(sql: string, params: readonly unknown[]): Promise<Reply> {
    return this.post({ sql, params: params.map(ownBytes) });
  }

  /**
   * A write batch as one transaction on this thread (sqlite-worker.mjs, runProgram). What a job's
   * steps are — statements, names, flags, which parameters are earlier steps' columns — crosses to
   * the thread once, as a template; a job then travels as one flat array, its template's id and its
   * parameter values (a send's seven steps as objects cost ~15 µs more to copy between threads).
   */
  async program(jobs: readonly (readonly ProgramStep[])[]): Promise<ProgramReply> {
    const defs: [number, TemplateStep[]][] = [];
    const program = jobs.map((steps) => {
      const job: unknown[] = [0];
      let key = '';
      for (const st of steps) {
        key += `${this.textId(st.sql)}|${st.name}|${st.stopIfRow ? 1 : 0}${st.stopUnlessRow ? 1 : 0}|${st.requireRow ?? ''}|${st.refuseBy ?? ''}|${st.all ? 1 : 0}|${st.params.length}`;
        for (let i = 0; i < st.params.length; i++) {
          const p = st.params[i];
          if (p instanceof StepRef) key += `|${i}=${p.name}.${p.col}`;
          else job.push(ownBytes(p));
        }
        key += ';';
      }
      let t = this.templates.get(key);
      if (t === undefined) {
        if (this.templates.size >= 1_000) throw new Error('program: more than 1,000 templates');
        this.templates.set(key, (t = this.templates.size));
        defs.push([t, steps.map((st) => this.templateStep(st))]);
      }
      job[0] = t;
      return job;
    });
    return (await this.post({ program, defs })).program!;
  }

  /** A statement text's id on this thread (the thread learns each text once, with its template). */
  private textId(sql: string): number {
    let s = this.textIds.get(sql);
    if (s === undefined) {
      if (this.textIds.size >= 1_000) throw new Error('program: more than 1,000 statement texts');
      this.textIds.set(sql, (s = this.textIds.size));
    }
    return s;
  }

  private templateStep(st: ProgramStep): TemplateStep {
    const refs: [number, string, string][] = [];
    st.params.forEach((p, i) => {
      if (p instanceof StepRef) refs.push([i, p.name, p.col]);
    });
    return {
      n: st.name,
      sql: st.sql,
      count: st.params.length,
      refs,
      stopIfRow: st.stopIfRow,
      stopUnlessRow: st.stopUnlessRow,
      requireRow: st.requireRow,
      refuseBy: st.refuseBy,
      all: st.all,
    };
  }

  private post(msg: Record<string, unknown>): Promise<Reply> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Keep the process alive only while a statement is in flight.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...msg });
    });
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

  /** Ends the thread; statements still in flight fail instead of never settling. */
  close(): Promise<number> {
    this.lost(new SqliteError('the SQLite worker connection is closed', undefined));
    return this.worker.terminate();
  }
}

/**
 * A Buffer usually views a slice of an 8 KB pool, and posting it copies the whole pool: posting a
 * send's 16-byte id that way cost ~7 µs more per message. Bytes of their own cross as they are.
 */
function ownBytes(p: unknown): unknown {
  return p instanceof Uint8Array && p.byteLength !== p.buffer.byteLength ? new Uint8Array(p) : p;
}

/**
 * The nice value of threads doing background work — the search indexer, the bulk readers (exports,
 * start-up loads) — on Linux, where each thread has its own: on two cores, a burst of indexing
 * scheduled beside the event loop and the send program held up sends (`npm run bench -- p2p` at
 * 2,000 msg/s, alternated: p50 7–12 → 4–8 ms). The checkpointer keeps the process's priority: a
 * checkpoint that falls behind lets the WAL grow, which every read and write then pays for.
 */
export const BACKGROUND_NICE = process.platform === 'linux' ? 10 : 0;

/** A tiny pool: each connection is a worker; a caller waits for a free one. */
class WorkerDriver implements Driver {
  private readonly free: WorkerConnection[] = [];
  private readonly all: WorkerConnection[] = [];
  private readonly waiters: ((c: WorkerConnection) => void)[] = [];

  constructor(
    private readonly file: string,
    private readonly readonly: boolean,
    private readonly size: number,
    private readonly attach: Record<string, string> = {},
  ) {}

  async init(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      const c = new WorkerConnection(this.file, this.readonly, this.attach, 10_000, { nice: BACKGROUND_NICE });
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
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${name}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${name}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${name}`));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.all.map((c) => c.close()));
  }
}

/** Kysely dialect for SQLite with every statement off the event loop (heavy reads; checkpoints). */
export class WorkerSqliteDialect implements Dialect {
  constructor(
    private readonly opts: {
      file: string;
      readonly: boolean;
      connections: number;
      /** Other database files every connection attaches: schema name → file. */
      attach?: Record<string, string>;
    },
  ) {}
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new WorkerDriver(this.opts.file, this.opts.readonly, this.opts.connections, this.opts.attach);
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's introspector takes any database
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
}

interface Prepared {
  stmt: Database.Statement;
  /** For a statement that returns rows: makes the object of a raw row. */
  shape: ((row: unknown[]) => Record<string, unknown>) | null;
}

/**
 * A function building `{ name: row[i], … }` as one object literal, so every row of a statement gets
 * the same hidden class. Column names are quoted with JSON.stringify; a repeated name keeps the
 * last column, as better-sqlite3's objects do.
 */
function rowShape(names: string[]): (row: unknown[]) => Record<string, unknown> {
  const body = names.map((n, i) => `${JSON.stringify(n)}: r[${i}]`).join(', ');
  return new Function('r', `return { ${body} };`) as (row: unknown[]) => Record<string, unknown>;
}

/**
 * Reads on the event loop: one read-only better-sqlite3 handle with a statement cache. An indexed
 * page or point read costs a few microseconds here, against ~40 µs for a worker round trip plus
 * two structured clones; WAL readers never wait for the writer. Heavy reads (whole-table loads,
 * exports) keep using the worker readers (`Store.bulk`).
 */
class InlineConnection implements DatabaseConnection {
  private readonly cache = new Map<string, Prepared>();
  /** Bound LIMIT/OFFSET values go into the text: SQLite would prepare the statement again every run. */
  private readonly limits = new LimitInliner();

  constructor(readonly db: Database.Database) {}

  private prepare(sqlText: string): Prepared {
    let p = this.cache.get(sqlText);
    if (!p) {
      const stmt = this.db.prepare(sqlText);
      // Rows come back as arrays and become objects of one shape here: better-sqlite3 building an
      // object per row through V8's API costs ~40 % more on a 50-row, 20-column page.
      const names = stmt.reader ? stmt.columns().map((c) => c.name) : [];
      p =
        stmt.reader && !names.includes('__proto__')
          ? { stmt: stmt.raw(true), shape: rowShape(names) }
          : { stmt, shape: null };
      if (this.cache.size >= 500) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(sqlText, p);
    }
    return p;
  }

  /** Run one statement now, on this thread; `wrote` tells whether it changed the database. */
  runSync<R>(compiled: CompiledQuery): { result: QueryResult<R>; wrote: boolean } {
    const started = sqlTimingStart();
    try {
      const q = this.limits.apply(compiled.sql, compiled.parameters);
      const { stmt, shape } = this.prepare(q.sql);
      const params = q.params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
      if (shape)
        return { result: { rows: (stmt.all(params) as unknown[][]).map(shape) as R[] }, wrote: !stmt.readonly };
      const r = stmt.run(params);
      return {
        result: { rows: [], numAffectedRows: BigInt(r.changes), insertId: BigInt(r.lastInsertRowid) },
        wrote: r.changes > 0,
      };
    } catch (e) {
      const err = e as { message: string; code?: string };
      throw new SqliteError(err.message, err.code);
    } finally {
      sqlTimingEnd(compiled.sql, started);
    }
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return this.runSync<R>(compiled).result;
  }

  // eslint-disable-next-line require-yield -- streaming is not used; Kysely requires the method
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the inline SQLite connection');
  }
}

class InlineDriver implements Driver {
  private db: Database.Database | null = null;
  private conn: InlineConnection | null = null;

  constructor(private readonly file: string) {}

  async init(): Promise<void> {
    this.db = new Database(this.file, { readonly: true, timeout: 10_000 });
    this.db.pragma('cache_size = -32000');
    // No memory map (mmap_size): after every commit of the writer, a mapped reader's next statement
    // unmaps and maps the file again — a point lookup cost ~19 µs instead of ~8 with writes between
    // lookups (bench/probe-reader-after-write.ts), and 1:1 at 1,000 msg/s used a quarter more server
    // CPU. Mapping saved 5–10 % of a history page only while nothing was written.
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

/**
 * Makes committed WAL frames durable: `fdatasync` of the WAL file on libuv's thread pool, so the
 * event loop never waits for the disk. Commits that arrive while a sync runs share the next one
 * (the one in flight may have started before their frames were written).
 */
class WalSync {
  private fd: number | null = null;
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  syncs = 0;

  constructor(
    private readonly walFile: string,
    private readonly timer?: SyncTimer,
  ) {}

  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.once().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    return (this.next ??= this.running.then(() => {
      this.next = null;
      return this.sync();
    }));
  }

  private once(): Promise<void> {
    this.syncs++;
    this.fd ??= fs.openSync(this.walFile, 'r+');
    const fd = this.fd;
    const started = performance.now();
    return new Promise((resolve, reject) =>
      fs.fdatasync(fd, (e) => {
        this.timer?.observe?.(performance.now() - started);
        if (e) reject(e);
        else resolve();
      }),
    );
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** One transaction's (or one statement's) hold on the writer's single connection. */
class WriterLease implements DatabaseConnection {
  /** Handed to the next caller right after COMMIT, while this one waits for its fsync. */
  handedOff = false;
  inTransaction = false;
  private sliceStart = 0;

  constructor(
    private readonly conn: InlineConnection,
    private readonly sync: () => Promise<void>,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.handedOff) throw new Error('the transaction has already committed');
    if (this.inTransaction) {
      // A long transaction (an import, a reindex) lets sockets and timers run every few milliseconds.
      if (performance.now() - this.sliceStart > 8) {
        await yieldToEventLoop();
        this.sliceStart = performance.now();
      }
      return this.conn.runSync<R>(compiled).result;
    }
    const { result, wrote } = this.conn.runSync<R>(compiled);
    if (wrote) await this.sync(); // an autocommitted write is durable before its caller hears of it
    return result;
  }

  exec(sqlText: string): void {
    this.conn.runSync(CompiledQuery.raw(sqlText));
  }

  begin(): void {
    this.exec('begin immediate');
    this.inTransaction = true;
    this.sliceStart = performance.now();
  }

  // eslint-disable-next-line require-yield -- streaming is not used; Kysely requires the method
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the SQLite writer');
  }
}

/** 65,536 frames of 4 KiB: a WAL of 256 MB. */
const WAL_RESTART_FRAMES = 65_536;
/** A WAL file larger than this (64 MB) is truncated after a minute without a commit. */
const WAL_IDLE_TRUNCATE_BYTES = 64 * 1024 * 1024;
const WAL_TRUNCATE_AFTER_IDLE_MS = 60_000;
/** A checkpoint pass this short leaves little for the copy that holds the writer. */
const QUICK_PASS_MS = 5;

class InlineWriterDriver implements Driver {
  private conn: InlineConnection | null = null;
  private wal: WalSync | null = null;
  private checkpointer: WorkerConnection | null = null;
  /** Runs write programs (whole batches of the hottest writes) on its own connection and thread. */
  private programs: WorkerConnection | null = null;
  private programsOnline = false;
  private closed = false;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private commitsSinceCheckpoint = 0;
  /** When the checkpointer first found no commit since its previous round (null: writes going on). */
  private idleSince: number | null = null;
  private checkpointing = false;
  private busy = false;
  private readonly waiters: ((lease: WriterLease) => void)[] = [];

  constructor(private readonly opts: InlineWriterOptions) {}

  get syncs(): number {
    return this.wal?.syncs ?? 0;
  }

  async init(): Promise<void> {
    const db = new Database(this.opts.file, { timeout: 2_000 });
    db.pragma('journal_mode = WAL');
    // COMMIT appends to the WAL without fsync; WalSync makes it durable before the commit resolves.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('cache_size = -32000');
    // Checkpoints (which fsync the database file) run on a worker thread, not in a COMMIT here.
    db.pragma('wal_autocheckpoint = 0');
    // No journal_size_limit: cutting a WAL of hundreds of MB back when it starts over stalled the
    // next fsyncs of the WAL ~100 ms (1:1 p99 86–132 ms against 15–30 ms without it). The file keeps
    // its largest size, bounded by WAL_RESTART_FRAMES, until writes pause for a minute
    // (truncateWhenIdle) or the store closes.
    this.conn = new InlineConnection(db);
    this.wal = new WalSync(`${this.opts.file}-wal`, this.opts.syncTimer);
    // Busy timeout 0, never waiting for readers: PASSIVE does not anyway, and a truncation that would
    // have to wait (truncateWhenIdle, which holds the writer meanwhile) is skipped and tried again.
    this.checkpointer = new WorkerConnection(this.opts.file, false, {}, 0);
    this.checkpointTimer = setInterval(() => void this.checkpoint(), this.opts.checkpointMs ?? 1_000);
    this.checkpointTimer.unref();
  }

  /**
   * Copy the WAL into the database, on the checkpointer's thread. A PASSIVE checkpoint never waits
   * for the writer, but under a steady stream of commits it never catches up with it either, and
   * SQLite starts the WAL over only when a write begins with every frame already copied: the file
   * would grow for as long as the stream lasts (hundreds of MB a minute at 2,000 msg/s). Lookups do
   * not slow down with it (readers search only frames after the last checkpoint), so the writer is
   * held for a last copy — a pause of one short copy and its fsync between two transactions — only
   * once the WAL passes WAL_RESTART_FRAMES, after passes that leave it little to copy.
   */
  private async checkpoint(): Promise<void> {
    if (!this.checkpointer || this.checkpointing) return;
    if (!this.commitsSinceCheckpoint) {
      this.idleSince ??= performance.now();
      if (performance.now() - this.idleSince >= (this.opts.walTruncateAfterIdleMs ?? WAL_TRUNCATE_AFTER_IDLE_MS))
        await this.truncateWhenIdle();
      return;
    }
    this.idleSince = null;
    this.checkpointing = true;
    this.commitsSinceCheckpoint = 0;
    try {
      const frames = await this.passive();
      if (frames < (this.opts.walRestartFrames ?? WAL_RESTART_FRAMES)) return;
      // Copy again while writers go on until a pass is quick: what is left for the held copy is then
      // only what came in during that quick pass.
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await this.passive();
        if (performance.now() - started < QUICK_PASS_MS) break;
      }
      const held = await this.acquireConnection();
      try {
        await this.passive();
      } finally {
        await this.releaseConnection(held);
      }
    } catch {
      /* a closing store, or a reader in the way: the next round tries again */
    } finally {
      this.checkpointing = false;
    }
  }

  /**
   * A WAL file left large by a burst is cut back once no write has committed for a minute: the
   * writer is held while the checkpointer copies what is left and truncates the file to zero bytes,
   * and the truncation is synced before anyone commits again. Not sooner: a WAL that has been cut
   * back grows again by appending, and an append's fsync also writes the file's new size (p50 0.7–1.0
   * against 0.5 ms here, p90 2–3 against 1 ms), so a server that pauses between bursts keeps its
   * WAL. Readers in the way make SQLite skip the truncation; a later idle round tries again.
   */
  private async truncateWhenIdle(): Promise<void> {
    let size: number;
    try {
      size = fs.statSync(`${this.opts.file}-wal`).size;
    } catch {
      return; // no WAL file yet
    }
    if (size <= (this.opts.walIdleTruncateBytes ?? WAL_IDLE_TRUNCATE_BYTES)) return;
    this.checkpointing = true;
    try {
      const held = await this.acquireConnection();
      try {
        await this.checkpointer!.run('pragma wal_checkpoint(TRUNCATE)', []);
        await this.wal!.sync();
      } finally {
        await this.releaseConnection(held);
      }
    } catch {
      /* a closing store, or a reader in the way */
    } finally {
      this.checkpointing = false;
    }
  }

  /** PASSIVE: copies what no reader still needs. Returns the frames in the WAL as it found it. */
  private async passive(): Promise<number> {
    const r = await this.checkpointer!.run('pragma wal_checkpoint(PASSIVE)', []);
    return Number((r.rows[0] as { log?: number } | undefined)?.log ?? 0);
  }

  /**
   * Run a write batch as a program on the program thread: BEGIN, each job's steps, COMMIT there, in
   * one round trip, while the event loop goes on. It holds the writer like a transaction does (the
   * two connections never write at once, and a checkpoint's held copy waits for both), hands it on
   * as soon as the thread has committed, and resolves once the WAL's fsync has made it durable.
   */
  async runProgram(jobs: readonly (readonly ProgramStep[])[]): Promise<ProgramReply> {
    const thread = this.programThread();
    const held = await this.acquireConnection();
    let reply: ProgramReply;
    try {
      reply = await thread.program(jobs);
    } finally {
      await this.releaseConnection(held);
    }
    if (reply.committed) {
      this.commitsSinceCheckpoint++;
      await this.wal!.sync();
    }
    return reply;
  }

  /**
   * Whether the program thread is up. The first call starts it — not while the store opens, where a
   * second thread cost ~70–160 ms of a ~600 ms cold start here, but once the server answers
   * (`enclave start` asks right after `listen`) or at the first write — and until it is up, writes
   * that could be programs run as transactions on the event loop instead.
   */
  programsReady(): boolean {
    if (!this.programsOnline && !this.closed) this.programThread();
    return this.programsOnline;
  }

  private programThread(): WorkerConnection {
    if (this.closed) throw new Error('the SQLite writer is closed');
    if (this.programs?.dead) {
      // Its batch failed (`server_busy`, retryable) and its transaction died with its connection;
      // the next program starts a new thread.
      this.programs = null;
      this.programsOnline = false;
    }
    if (!this.programs) {
      this.programs = new WorkerConnection(this.opts.file, false, {}, 2_000, {
        synchronous: 'NORMAL',
        noAutocheckpoint: true,
      });
      const thread = this.programs;
      thread.online.then(
        () => (this.programsOnline = this.programs === thread),
        () => undefined, // its statements fail with the thread's error
      );
    }
    return this.programs;
  }

  private lease(): WriterLease {
    return new WriterLease(this.conn!, () => {
      this.commitsSinceCheckpoint++;
      return this.wal!.sync();
    });
  }

  acquireConnection(): Promise<DatabaseConnection> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve(this.lease());
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private handOff(): void {
    const next = this.waiters.shift();
    if (next) next(this.lease());
    else this.busy = false;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const lease = connection as WriterLease;
    if (lease.handedOff) return;
    lease.handedOff = true;
    this.handOff();
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as WriterLease).begin();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as WriterLease;
    lease.exec('commit');
    lease.inTransaction = false;
    // The next transaction may run its statements while this one's frames reach the disk.
    lease.handedOff = true;
    this.handOff();
    this.commitsSinceCheckpoint++;
    await this.wal!.sync();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = connection as WriterLease;
    if (lease.handedOff) return; // committed: nothing of it to roll back
    lease.inTransaction = false;
    if (this.conn!.db.inTransaction) lease.exec('rollback');
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as WriterLease).exec(`savepoint ${name}`);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as WriterLease).exec(`rollback to ${name}`);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    (connection as WriterLease).exec(`release ${name}`);
  }

  async destroy(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    await this.checkpointer?.close();
    this.checkpointer = null;
    this.closed = true;
    await this.programs?.close();
    this.programs = null;
    if (this.conn) {
      try {
        this.conn.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        /* a reader still holds a snapshot: the next start checkpoints */
      }
      this.conn.db.close();
    }
    this.wal?.close();
    this.conn = null;
  }
}

export interface InlineWriterOptions {
  file: string;
  /** How often the checkpointer thread copies the WAL into the database (ms). */
  checkpointMs?: number;
  /** Past this many frames, a checkpoint holds the writer for its last copy so the WAL starts over. */
  walRestartFrames?: number;
  /** A WAL file larger than this is truncated once no write has committed for walTruncateAfterIdleMs. */
  walIdleTruncateBytes?: number;
  walTruncateAfterIdleMs?: number;
  /** Told how long each WAL `fdatasync` took (the disk's share of a write's latency). */
  syncTimer?: SyncTimer;
}

/** Where the writer reports its WAL syncs' durations (ms); `observe` may be set after start. */
export interface SyncTimer {
  observe: ((ms: number) => void) | null;
}

/**
 * Kysely dialect for the SQLite writer, on the event loop. Statements run synchronously on one
 * read-write handle — microseconds each, no thread hop and no event-loop turn between the
 * statements of a transaction. One caller holds the connection from BEGIN to COMMIT; the next
 * waits. Durability is kept off the event loop: `synchronous = NORMAL` makes COMMIT a plain write
 * to the WAL, and the commit resolves only after a shared `fdatasync` of the WAL file on libuv's
 * thread pool — so nothing is acknowledged before it is on disk, and a transaction that arrives
 * meanwhile already runs. Checkpoints run on a worker thread. See decision 0007. The hottest writes
 * run as programs instead, a whole batch in one round trip to a thread of their own (`runProgram`,
 * decision 0009).
 */
export class InlineSqliteWriterDialect implements Dialect {
  private driver: InlineWriterDriver | null = null;
  constructor(private readonly opts: InlineWriterOptions) {}
  /** WAL fsyncs so far (commits share them under load). */
  get syncs(): number {
    return this.driver?.syncs ?? 0;
  }
  /** A write batch as one program on the writer's program thread (InlineWriterDriver.runProgram). */
  runProgram(jobs: readonly (readonly ProgramStep[])[]): Promise<ProgramReply> {
    if (!this.driver) throw new Error('the SQLite writer has not started');
    return this.driver.runProgram(jobs);
  }
  /** Whether the program thread is up (the first call starts it). */
  programsReady(): boolean {
    return this.driver?.programsReady() ?? false;
  }
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return (this.driver = new InlineWriterDriver(this.opts));
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's introspector takes any database
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
}
