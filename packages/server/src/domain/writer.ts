import { EnclaveError, type ErrorCode } from '@enclave/protocol';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.ts';
import { isRetryableConflict, isUniqueViolation, type Trx } from '../store/dialect.ts';
import { SqliteError, type ProgramOutcome, type ProgramStep } from '../store/sqlite-driver.ts';
import type { Store } from '../store/store.ts';
import type { Outbox } from './deps.ts';

export type WriteFn<T> = (trx: Trx, out: Outbox) => Promise<T>;

/** What a write program's job read, once its batch has committed. */
export type ProgramRows = Extract<ProgramOutcome, { ok: true }>;

/**
 * A write as a program (SQLite): its statements, run with the rest of its batch on the writer's own
 * thread in one round trip, and what to make of the rows they read once the batch has committed.
 */
export interface WriteProgram<T> {
  steps: ProgramStep[];
  done(rows: ProgramRows, out: Outbox): T;
}

interface Job {
  key: number;
  fn: WriteFn<unknown> | null;
  program: WriteProgram<unknown> | null;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** Run again once after a unique violation (see runBatch). */
  again?: boolean;
}

/**
 * Group commit. Writes that arrive together share one transaction, each in its own SAVEPOINT so one
 * bad write fails alone. Jobs run in ascending `key` (conversation id) order so two batches lock
 * counter rows in the same order and cannot deadlock. Events a job collects are published only after
 * the commit. The queue is bounded: past `maxQueue` a write gets the retryable `server_busy`.
 */
export class Writer {
  private queue: Job[] = [];
  private running = 0;
  private scheduled = false;
  /** `programJobs`: writes that ran as programs (SQLite). */
  stats = { batches: 0, jobs: 0, maxBatch: 0, programJobs: 0 };
  /** Metrics: each committed batch's duration (gateway/metrics.ts). */
  onBatch: ((ms: number, jobs: number) => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly opts: { maxQueue: number; maxBatch: number; concurrency: number },
  ) {}

  run<T>(key: number, fn: WriteFn<T>): Promise<T> {
    return this.enqueue(key, fn as WriteFn<unknown>, null);
  }

  /** Whether this store runs write programs now (SQLite, once their thread is up); else use `run`. */
  get programs(): boolean {
    return this.store.programs?.ready() ?? false;
  }

  /** Start the program thread (SQLite) ahead of the first write that would start it. */
  startPrograms(): void {
    this.store.programs?.ready();
  }

  /**
   * A write as a program: batched with other programs queued with it, all of them one transaction
   * on the writer's own thread (store/sqlite-driver.ts, runProgram) — the event loop only sends the
   * batch and hears back. In queue order with every other write.
   */
  runProgram<T>(key: number, program: WriteProgram<T>): Promise<T> {
    if (!this.store.programs) return Promise.reject(new Error('this store runs no write programs'));
    return this.enqueue(key, null, program as WriteProgram<unknown>);
  }

  private enqueue<T>(key: number, fn: WriteFn<unknown> | null, program: WriteProgram<unknown> | null): Promise<T> {
    if (this.queue.length >= this.opts.maxQueue) return Promise.reject(new EnclaveError('server_busy'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ key, fn, program, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Writes queued or running: a draining node waits for this to reach 0. */
  get inFlight(): number {
    return this.queue.length + this.running;
  }

  private schedule() {
    if (this.scheduled || this.running >= this.opts.concurrency || !this.queue.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.running < this.opts.concurrency && this.queue.length) {
        // A batch is programs only or functions only: the queue's first writes of one sort. Batches
        // take the writer in the order they are made, so writes keep their queue order.
        const programs = this.queue[0]!.program !== null;
        let n = 1;
        while (n < this.opts.maxBatch && n < this.queue.length && (this.queue[n]!.program !== null) === programs) n++;
        const batch = this.queue.splice(0, n);
        batch.sort((a, b) => a.key - b.key); // stable: one conversation's writes keep their order
        this.running++;
        void (programs ? this.runProgramBatch(batch) : this.runBatch(batch)).finally(() => {
          this.running--;
          this.schedule();
        });
      }
    });
  }

  private async runProgramBatch(batch: Job[]): Promise<void> {
    const started = performance.now();
    let outcomes: ProgramOutcome[];
    try {
      ({ results: outcomes } = await this.store.programs!.run(batch.map((j) => j.program!.steps)));
    } catch (e) {
      this.log.error({ err: e, jobs: batch.length }, 'write program failed');
      const err = new EnclaveError('server_busy', 'The write could not be committed.');
      for (const job of batch) job.reject(err);
      return;
    }
    this.counted(batch.length, started);
    this.stats.programJobs += batch.length;
    batch.forEach((job, i) => {
      const r = outcomes[i]!;
      if (!r.ok) {
        const e = r.error;
        job.reject('refusal' in e ? new EnclaveError(e.refusal as ErrorCode) : new SqliteError(e.message, e.code));
        return;
      }
      try {
        const out: Outbox = [];
        const value = job.program!.done(r, out);
        for (const msg of out) this.bus.publish(msg);
        job.resolve(value);
      } catch (e) {
        job.reject(e);
      }
    });
  }

  private counted(jobs: number, started: number): void {
    this.stats.batches++;
    this.stats.jobs += jobs;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, jobs);
    this.onBatch?.(performance.now() - started, jobs);
  }

  private async runBatch(batch: Job[], attempt = 1): Promise<void> {
    const results: { job: Job; ok: boolean; value: unknown; out: Outbox }[] = [];
    let trx;
    const started = performance.now();
    try {
      trx = await this.store.db.startTransaction().execute();
      // A job alone needs no savepoint: if it fails, the transaction is rolled back instead — two
      // statements fewer, on PostgreSQL two round trips of the ~11 a send makes. Jobs of a batch run
      // one after another, never nested: one savepoint name serves them all, and the three statements
      // stay prepared (a fresh name per job would be parsed, and cached, every time).
      const alone = batch.length === 1;
      for (const job of batch) {
        const out: Outbox = [];
        const spTrx = alone ? null : await trx.savepoint('job').execute();
        try {
          const value = await job.fn!(spTrx ?? trx, out);
          await spTrx?.releaseSavepoint('job').execute();
          results.push({ job, ok: true, value, out });
        } catch (e) {
          if (isRetryableConflict(e)) throw e;
          await spTrx?.rollbackToSavepoint('job').execute();
          results.push({ job, ok: false, value: e, out });
        }
      }
      if (results.some((r) => r.ok)) await trx.commit().execute();
      else await trx.rollback().execute();
    } catch (e) {
      if (trx)
        await trx
          .rollback()
          .execute()
          .catch(() => undefined);
      if (isRetryableConflict(e) && attempt < 5) {
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
        return this.runBatch(batch, attempt + 1);
      }
      this.log.error({ err: e, jobs: batch.length }, 'write batch failed');
      const err = e instanceof EnclaveError ? e : new EnclaveError('server_busy', 'The write could not be committed.');
      for (const job of batch) job.reject(err);
      return;
    }
    this.counted(batch.length, started);
    for (const r of results) {
      if (r.ok) {
        for (const msg of r.out) this.bus.publish(msg);
        r.job.resolve(r.value);
      } else if (!r.job.again && isUniqueViolation(r.value)) {
        // On PostgreSQL and MySQL batches commit side by side: a clientMsgId sent twice at once (a
        // resend on a new socket while the first is being written) passes both sends' duplicate
        // checks, made before either takes the counter row's lock, and the second's insert then meets
        // the first's committed row. Run it once more in a new transaction, where its check finds that
        // row and answers as a duplicate. Jobs turn the violations they expect into errors of their
        // own; any other fails again and is reported (concurrency.test.ts).
        r.job.again = true;
        this.queue.push(r.job);
        this.schedule();
      } else r.job.reject(r.value);
    }
  }
}
