import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { CompiledQuery, sql, type RawBuilder } from 'kysely';
import type { Logger } from 'pino';
import type { Db, Executor, Trx } from '../../store/dialect.ts';
import { INDEXED_KEY } from '../../store/search-file.ts';
import { BACKGROUND_NICE } from '../../store/sqlite-driver.ts';
import type { Store } from '../../store/store.ts';
import { commonFilters, toHits, type IndexQuery, type SearchDoc, type SearchIndex } from './port.ts';
import { bigramText, charLength, ftsQuote, normalize, segments } from './text.ts';

/**
 * SQLite: FTS5 tables that own their text, keyed by search_docs.id, in their own database file
 * (store/search-file.ts; decision 0008):
 * - `search_fts` (trigram): terms of 3+ characters, exact substrings in any script;
 * - `search_bi` (unicode61 over CJK bigrams + last characters + words, detail=none): terms of 1–2
 *   characters, which a trigram index cannot answer (measured in docs/benchmarks.md).
 * The driving table is an FTS5 table walked by rowid descending, so "newest first" stops at the page.
 *
 * A message change only queues its index change (`search_queue`, one row in the main database, in the
 * change's own transaction); the indexer worker (sqlite-indexer.mjs) applies the queue in order on
 * another core. A search first waits until the indexer has applied everything committed before it
 * began, so a sender finds the message it was just acked for, and a recall has left the index.
 */
const ENQUEUE =
  'insert into search_queue (op, conversation_id, seq, to_seq, sender_id, ts, flags, body) values (?, ?, ?, ?, ?, ?, ?, ?)';
const OP_PUT = 1;
const OP_REMOVE = 2;
const OP_REMOVE_RANGE = 3;
/** A search waits at most this long for the indexer; then it answers from the index as it is. */
const CATCH_UP_MS = 5_000;
/** Applied queue rows are deleted at most this often. */
const TRIM_EVERY_MS = 1_000;

type IndexerMessage =
  { t: 'indexed'; upTo: number } | { t: 'error'; message: string; code?: string } | { t: 'stopped' };

export class SqliteSearchIndex implements SearchIndex {
  readonly kind = 'sqlite' as const;
  private worker: Worker | null = null;
  private stopping: Promise<void> | null = null;
  private closed = false;
  /** The last queue id the indexer reported applied (-1: not heard from yet). */
  private indexed = -1;
  private waiters: { upTo: number; done: () => void }[] = [];
  private trimmedUpTo = 0;
  private lastTrim = 0;
  private trimming = false;
  private lastError = '';

  constructor(
    private readonly store: Pick<Store, 'db' | 'reader' | 'files'>,
    private readonly log?: Logger,
  ) {}

  private get files() {
    if (!this.store.files) throw new Error("search: the SQLite index needs the store's file names");
    return this.store.files;
  }

  private enqueue(trx: Trx, params: unknown[]): Promise<unknown> {
    // Fixed SQL on every send: handed to the driver as is, without building it through Kysely.
    return trx.executeQuery(CompiledQuery.raw(ENQUEUE, params));
  }

  async add(trx: Trx, doc: SearchDoc): Promise<void> {
    await this.enqueue(trx, this.addStatement(doc).params as unknown[]);
  }

  addStatement(doc: SearchDoc): { sql: string; params: readonly unknown[] } {
    return {
      sql: ENQUEUE,
      params: [OP_PUT, doc.conversationId, doc.seq, null, doc.senderId, doc.ts, doc.flags, doc.text],
    };
  }

  async update(trx: Trx, doc: SearchDoc): Promise<void> {
    // The indexer's put replaces an indexed message in place (or adds one that never was).
    await this.add(trx, doc);
  }

  async remove(trx: Trx, conversationId: number, seq: number): Promise<void> {
    await this.enqueue(trx, [OP_REMOVE, conversationId, seq, null, null, null, null, null]);
  }

  async removeRange(trx: Trx, conversationId: number, afterSeq: number, upToSeq: number): Promise<void> {
    await this.enqueue(trx, [OP_REMOVE_RANGE, conversationId, afterSeq, upToSeq, null, null, null, null]);
  }

  /** Start the indexer (idempotent; the server calls it when it starts, a search when it must wait). */
  start(): void {
    if (this.worker || this.closed || this.stopping) return;
    const w = new Worker(new URL('./sqlite-indexer.mjs', import.meta.url), {
      workerData: { mainFile: this.files.main, searchFile: this.files.search.file, nice: BACKGROUND_NICE },
      execArgv: [],
    });
    w.unref();
    w.on('message', (m: IndexerMessage) => this.onMessage(m));
    w.on('error', (err) => this.log?.error({ err }, 'search indexer failed'));
    w.on('exit', () => {
      if (this.worker !== w) return;
      this.worker = null;
      if (this.closed) return;
      // Died without being asked: start again shortly; the queue keeps everything it has not applied.
      this.log?.error('search indexer stopped unexpectedly; restarting');
      setTimeout(() => this.start(), 1_000).unref();
    });
    this.worker = w;
  }

  private onMessage(m: IndexerMessage): void {
    if (m.t === 'indexed') {
      this.indexed = m.upTo;
      this.lastError = '';
      const ready = this.waiters.filter((w) => w.upTo <= m.upTo);
      if (ready.length) {
        this.waiters = this.waiters.filter((w) => w.upTo > m.upTo);
        for (const w of ready) w.done();
      }
      this.trim(m.upTo);
    } else if (m.t === 'error' && m.message !== this.lastError) {
      // Retried by the indexer with backoff; said once per distinct failure.
      this.lastError = m.message;
      this.log?.error({ code: m.code }, `search indexer: ${m.message}`);
    }
  }

  /** Delete applied queue rows, at most once a second, through the writer. */
  private trim(upTo: number): void {
    const now = Date.now();
    if (this.trimming || this.closed || upTo <= this.trimmedUpTo || now - this.lastTrim < TRIM_EVERY_MS) return;
    this.trimming = true;
    this.lastTrim = now;
    sql`delete from search_queue where id <= ${upTo}`
      .execute(this.store.db)
      .then(() => (this.trimmedUpTo = upTo))
      .catch((err: unknown) => this.log?.warn({ err }, 'search queue trim failed; retried'))
      .finally(() => (this.trimming = false));
  }

  /** The last queue id committed (AUTOINCREMENT keeps it even when the queue is empty). */
  private async queuedUpTo(exec: Db): Promise<number> {
    const row = (await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'search_queue'`.execute(exec))
      .rows[0];
    return Number(row?.seq ?? 0);
  }

  /** Wait until the indexer has applied every change committed before now (bounded). */
  async caughtUp(): Promise<boolean> {
    const target = await this.queuedUpTo(this.store.reader);
    if (this.indexed >= target) return true;
    this.start();
    this.worker?.postMessage({ t: 'poke' });
    let timer: NodeJS.Timeout | undefined;
    const done = await new Promise<boolean>((resolve) => {
      const w = { upTo: target, done: () => resolve(true) };
      this.waiters.push(w);
      timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(false);
      }, CATCH_UP_MS);
    });
    clearTimeout(timer);
    if (!done) this.log?.warn({ target, indexed: this.indexed }, 'search index is behind; answering from it as it is');
    return done;
  }

  /** Stop the indexer (the queue keeps what it has not applied). */
  async stop(): Promise<void> {
    const w = this.worker;
    if (!w) return this.stopping ?? undefined;
    this.stopping = new Promise<void>((resolve) => {
      const kill = setTimeout(() => void w.terminate(), 5_000);
      w.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      w.postMessage({ t: 'stop' });
    }).finally(() => {
      this.stopping = null;
    });
    this.worker = null;
    return this.stopping;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters) w.done();
    this.waiters = [];
    await this.stop();
  }

  async query(exec: Executor, q: IndexQuery): Promise<ReturnType<typeof toHits>> {
    await this.caughtUp();
    const long = q.terms.filter((t) => charLength(t) >= 3);
    const short = q.terms.filter((t) => charLength(t) < 3);
    const where = commonFilters(q);
    let from: RawBuilder<unknown>;
    let order: RawBuilder<unknown>;
    if (long.length) {
      from = sql`search_fts f join search_docs d on d.id = f.rowid`;
      where.unshift(sql`search_fts match ${long.map(ftsQuote).join(' ')}`);
      order = sql`f.rowid desc`;
      // A short term beside a long one: its bigram doclist as a set. (Checking instr() on each row the
      // trigram walk yields reads every candidate's text: 381 ms p50 against 78 ms, docs/benchmarks.md.)
      for (const t of short) where.push(this.shortClause(t));
    } else if (short.length) {
      from = sql`search_bi b join search_docs d on d.id = b.rowid`;
      where.unshift(sql`search_bi match ${short.map((t) => bigramQuery(t)).join(' AND ')}`);
      order = sql`b.rowid desc`;
      const mixed = short.filter((t) => segments(t).length !== 1);
      if (mixed.length) {
        from = sql`${from} join search_fts f on f.rowid = d.id`;
        for (const t of mixed) where.push(sql`instr(f.body, ${t}) > 0`);
      }
    } else {
      from = sql`search_docs d`;
      order = sql`d.id desc`;
    }
    const rows = await sql<
      Record<string, unknown>
    >`select d.id, d.conversation_id, d.seq, d.ts from ${from} where ${sql.join(
      where,
      sql` and `,
    )} order by ${order} limit ${q.limit}`.execute(exec);
    return toHits(rows.rows);
  }

  private shortClause(t: string): RawBuilder<unknown> {
    const c = sql`d.id in (select rowid from search_bi where search_bi match ${bigramQuery(t)})`;
    if (segments(t).length === 1) return c;
    return sql`(${c} and instr(f.body, ${t}) > 0)`;
  }

  /*
   * Rebuild (`enclave search reindex`, and a lost search file at start): written straight to the
   * search file with the indexer stopped. The mark becomes the queue's last id when the rebuild
   * starts: the messages read after it already hold every change queued up to then, and a change
   * queued during the rebuild is applied after it (a put replaces, so applying it twice is harmless).
   */
  private maintenance: Database.Database | null = null;
  private wasRunning = false;

  async clear(): Promise<void> {
    this.wasRunning = this.worker !== null;
    await this.stop();
    const mark = await this.queuedUpTo(this.store.reader);
    const db = (this.maintenance ??= new Database(this.files.search.file));
    db.pragma('busy_timeout = 10000');
    db.transaction(() => {
      db.exec('delete from search_fts; delete from search_bi; delete from search_docs;');
      db.prepare('update search_state set v = ? where k = ?').run(mark, INDEXED_KEY);
    })();
    this.indexed = -1;
  }

  async bulkLoad(_exec: Executor, docs: (SearchDoc & { id: number })[]): Promise<void> {
    const db = this.maintenance;
    if (!db) throw new Error('search: bulkLoad before clear');
    const addDoc = db.prepare(
      'insert into search_docs (id, conversation_id, seq, sender_id, ts, flags) values (?, ?, ?, ?, ?, ?)',
    );
    const addTrigrams = db.prepare('insert into search_fts (rowid, body) values (?, ?)');
    const addBigrams = db.prepare('insert into search_bi (rowid, grams) values (?, ?)');
    db.transaction(() => {
      for (const d of docs) {
        const body = normalize(d.text);
        addDoc.run(d.id, d.conversationId, d.seq, d.senderId, d.ts, d.flags);
        addTrigrams.run(d.id, body);
        addBigrams.run(d.id, bigramText(body));
      }
    })();
  }

  async finishLoad(): Promise<void> {
    const db = this.maintenance;
    if (db) {
      db.exec(
        "insert into search_fts (search_fts) values ('optimize'); insert into search_bi (search_bi) values ('optimize');",
      );
      db.close();
      this.maintenance = null;
    }
    if (this.wasRunning) this.start();
  }
}

/** FTS5 query on the bigram table for a 1–2 character term (all its segments must match). */
function bigramQuery(term: string): string {
  return segments(term)
    .map((s) => {
      const text = s.chars.join('');
      // One CJK character: any bigram starting with it, or it at the end of a run. Two: that bigram.
      // A word: as a word prefix.
      if (s.cjk && s.chars.length >= 2) return ftsQuote(text);
      return ftsQuote(text) + '*';
    })
    .join(' AND ');
}
