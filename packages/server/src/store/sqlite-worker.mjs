// One SQLite connection on its own thread, so a slow statement never blocks the event loop: the
// heavy readers (whole-table loads, exports, search), the WAL checkpointer, and the writer's
// programs (a whole write batch — BEGIN, each job's statements, COMMIT — in one round trip).
// Plain JavaScript on purpose: worker threads start without the TypeScript loader.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

// Background work gives way to the event loop and the send path (sqlite-driver.ts, BACKGROUND_NICE):
// on Linux each thread has a nice value of its own, set through the thread's id.
try {
  if (workerData.nice) os.setPriority(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()), workerData.nice);
} catch {
  /* no /proc: the thread keeps the process's priority */
}

const db = new Database(workerData.file, { readonly: workerData.readonly, timeout: 10_000 });
if (!workerData.readonly) {
  db.pragma('journal_mode = WAL');
  // The writer's program thread asks for NORMAL: its commits are synced by the event loop's WalSync.
  db.pragma(`synchronous = ${workerData.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  // Checkpoints run on the checkpointer's thread, never inside one of this thread's commits.
  if (workerData.noAutocheckpoint) db.pragma('wal_autocheckpoint = 0');
}
// The checkpointer asks for 0: it never waits for a reader (sqlite-driver.ts, truncateWhenIdle).
db.pragma(`busy_timeout = ${Number(workerData.busyTimeoutMs ?? 10_000)}`);
db.pragma('cache_size = -32000');
for (const [schema, file] of Object.entries(workerData.attach ?? {})) {
  if (!/^[a-z_]+$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  db.prepare(`attach database ? as ${schema}`).run(file);
}

const cache = new Map();
function prepare(sql) {
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    if (cache.size > 500) cache.delete(cache.keys().next().value);
    cache.set(sql, stmt);
  }
  return stmt;
}

const bind = (params) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));

/** Program templates by the id the event loop gave them (sent once each): a job's steps. */
const templates = new Map();

/**
 * A step's parameters: the job's values from `at` on, except where the template puts a column of the
 * row an earlier step of the job read.
 */
function paramsOf(step, job, at, rows) {
  const params = new Array(step.count);
  let r = 0;
  for (let i = 0; i < step.count; i++) {
    const ref = step.refs[r];
    if (ref && ref[0] === i) {
      const row = rows[ref[1]];
      if (!row || !(ref[2] in row)) throw new Error(`program: no ${ref[1]}.${ref[2]} for a later step`);
      params[i] = row[ref[2]];
      r++;
    } else {
      const p = job[at++];
      params[i] = typeof p === 'boolean' ? (p ? 1 : 0) : p;
    }
  }
  return params;
}

/** A refusal a step found (a missing row, a refusal column): the job fails alone with this code. */
class Refusal extends Error {
  constructor(code) {
    super(code);
    this.refusal = code;
  }
}

/**
 * One write batch as one transaction: each job's steps in order, each job in a savepoint when there
 * are several (one job alone is rolled back with the transaction if it fails). A job is its
 * template's id, then its parameter values. A step that reads keeps its first row under its name
 * (every row with `all`), for later steps' parameters and for the event loop; `stopIfRow` ends the
 * job there when a row came back (an idempotent retry's original), `stopUnlessRow` when none did
 * (nothing to do), `requireRow` fails it with that code when none did, and `refuseBy` fails it with
 * the code in that column.
 */
function runProgram(jobs) {
  const alone = jobs.length === 1;
  const results = [];
  let statements = 0;
  prepare('begin immediate').run();
  try {
    for (const job of jobs) {
      if (!alone) prepare('savepoint job').run();
      const rows = {};
      let stopped = null;
      let at = 1;
      try {
        for (const step of templates.get(job[0])) {
          const stmt = prepare(step.sql);
          const params = paramsOf(step, job, at, rows);
          at += step.count - step.refs.length;
          statements++;
          if (stmt.reader && step.all) {
            rows[step.n] = stmt.all(params);
          } else if (stmt.reader) {
            const row = stmt.get(params);
            rows[step.n] = row;
            if (row ? step.stopIfRow : step.stopUnlessRow) {
              stopped = step.n;
              break;
            }
            if (!row && step.requireRow) throw new Refusal(step.requireRow);
            if (row && step.refuseBy && row[step.refuseBy]) throw new Refusal(row[step.refuseBy]);
          } else {
            stmt.run(params);
          }
        }
        if (!alone) prepare('release job').run();
        results.push({ ok: true, rows, stopped });
      } catch (e) {
        if (!alone) {
          prepare('rollback to job').run();
          prepare('release job').run();
        }
        results.push({
          ok: false,
          error: e instanceof Refusal ? { refusal: e.refusal } : { message: e.message, code: e.code },
        });
      }
    }
    const commit = results.some((r) => r.ok);
    prepare(commit ? 'commit' : 'rollback').run();
    return { results, committed: commit, statements };
  } catch (e) {
    if (db.inTransaction) prepare('rollback').run();
    throw e;
  }
}

parentPort.on('message', ({ id, sql, params, program, defs }) => {
  try {
    if (program) {
      for (const [k, steps] of defs) templates.set(k, steps);
      parentPort.postMessage({ id, rows: [], program: runProgram(program) });
      return;
    }
    const stmt = prepare(sql);
    if (stmt.reader) {
      parentPort.postMessage({ id, rows: stmt.all(bind(params)) });
    } else {
      const r = stmt.run(bind(params));
      parentPort.postMessage({ id, rows: [], changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) });
    }
  } catch (e) {
    parentPort.postMessage({ id, error: { message: e.message, code: e.code } });
  }
});
