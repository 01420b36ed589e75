// One SQLite connection on its own thread, so a slow statement never blocks the event loop: the
// heavy readers (whole-table loads, exports, search) and the WAL checkpointer.
// Plain JavaScript on purpose: worker threads start without the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file, { readonly: workerData.readonly, timeout: 10_000 });
if (!workerData.readonly) {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
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

parentPort.on('message', ({ id, sql, params }) => {
  try {
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
