// The SQLite search indexer: one worker thread that applies the main database's `search_queue` to
// the search file (store/search-file.ts) in order, so the trigram and bigram FTS5 writes of every
// message run on another core, off the send path. The last queue id applied is stored in the same
// transaction as the index change: after a crash the index is exactly a prefix of the queue, and
// applying a row twice is harmless (a put replaces, a remove of nothing does nothing).
// Plain JavaScript on purpose: worker threads start without the TypeScript loader.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { bigramText, normalize } from './text-rules.mjs';

const { mainFile, searchFile, pollMs = 25, batch = 256 } = workerData;

// Background work gives way to the event loop and the send path (sqlite-driver.ts, BACKGROUND_NICE):
// on Linux each thread has a nice value of its own, set through the thread's id.
try {
  if (workerData.nice) os.setPriority(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()), workerData.nice);
} catch {
  /* no /proc: the thread keeps the process's priority */
}
const OP_PUT = 1;
const OP_REMOVE = 2;
const OP_REMOVE_RANGE = 3;

const main = new Database(mainFile, { readonly: true, fileMustExist: true });
main.pragma('busy_timeout = 10000');
const idx = new Database(searchFile, { fileMustExist: true });
idx.pragma('journal_mode = WAL');
// The index can be rebuilt from the messages; its mark moves with it, so NORMAL loses nothing it
// cannot redo: after a power cut it restarts from an earlier mark.
idx.pragma('synchronous = NORMAL');
idx.pragma('busy_timeout = 10000');

const readQueue = main.prepare(
  'select id, op, conversation_id, seq, to_seq, sender_id, ts, flags, body from search_queue where id > ? order by id limit ?',
);
const anyAfter = main.prepare('select 1 from search_queue where id > ? limit 1').pluck();
const getMark = idx.prepare("select v from search_state where k = 'indexed_up_to'").pluck();
const setMark = idx.prepare("update search_state set v = ? where k = 'indexed_up_to'");
const findDoc = idx.prepare('select id from search_docs where conversation_id = ? and seq = ?').pluck();
const rangeDocs = idx.prepare('select id from search_docs where conversation_id = ? and seq > ? and seq <= ?').pluck();
const addDoc = idx.prepare(
  'insert into search_docs (conversation_id, seq, sender_id, ts, flags) values (?, ?, ?, ?, ?)',
);
const addTrigrams = idx.prepare('insert into search_fts (rowid, body) values (?, ?)');
const addBigrams = idx.prepare('insert into search_bi (rowid, grams) values (?, ?)');
const setFlags = idx.prepare('update search_docs set flags = ? where id = ?');
const setTrigrams = idx.prepare('update search_fts set body = ? where rowid = ?');
const setBigrams = idx.prepare('update search_bi set grams = ? where rowid = ?');
const dropTrigrams = idx.prepare('delete from search_fts where rowid = ?');
const dropBigrams = idx.prepare('delete from search_bi where rowid = ?');
const dropDoc = idx.prepare('delete from search_docs where id = ?');

function drop(id) {
  dropTrigrams.run(id);
  dropBigrams.run(id);
  dropDoc.run(id);
}

function apply(r) {
  if (r.op === OP_PUT) {
    const body = normalize(r.body ?? '');
    const grams = bigramText(body);
    const id = findDoc.get(r.conversation_id, r.seq);
    if (id === undefined) {
      const newId = addDoc.run(r.conversation_id, r.seq, r.sender_id, r.ts, r.flags).lastInsertRowid;
      addTrigrams.run(newId, body);
      addBigrams.run(newId, grams);
    } else {
      // An edit (or a put applied again after a crash): same id, so "newest first" keeps its place.
      setFlags.run(r.flags, id);
      setTrigrams.run(body, id);
      setBigrams.run(grams, id);
    }
  } else if (r.op === OP_REMOVE) {
    const id = findDoc.get(r.conversation_id, r.seq);
    if (id !== undefined) drop(id);
  } else if (r.op === OP_REMOVE_RANGE) {
    for (const id of rangeDocs.all(r.conversation_id, r.seq, r.to_seq)) drop(id);
  } else {
    throw new Error(`search queue row ${r.id}: unknown op ${r.op}`);
  }
}

/** One batch in one transaction; returns the mark after it. */
const step = idx.transaction(() => {
  const mark = getMark.get() ?? 0;
  const rows = readQueue.all(mark, batch);
  if (!rows.length) return mark;
  for (const r of rows) apply(r);
  const upTo = rows[rows.length - 1].id;
  setMark.run(upTo);
  return upTo;
});

let reported = -1;
let timer = null;
let stopped = false;
let failures = 0;

function tick() {
  timer = null;
  if (stopped) return;
  let progressed = false;
  try {
    const before = reported;
    // Idle polls only read: no write transaction on the search file while nothing is queued.
    if (before >= 0 && anyAfter.get(before) === undefined) {
      timer = setTimeout(tick, pollMs);
      return;
    }
    const mark = step.immediate();
    progressed = mark !== before;
    if (progressed) {
      reported = mark;
      parentPort.postMessage({ t: 'indexed', upTo: mark });
    }
    failures = 0;
  } catch (e) {
    failures++;
    parentPort.postMessage({ t: 'error', message: e.message, code: e.code });
  }
  // A full batch: go on at once (after letting a stop or poke in); otherwise poll.
  const wait = failures ? Math.min(5_000, 100 * 2 ** failures) : progressed ? 0 : pollMs;
  timer = wait ? setTimeout(tick, wait) : setImmediate(tick);
}

parentPort.on('message', (m) => {
  if (m.t === 'poke') {
    if (timer && !failures) {
      clearTimeout(timer);
      clearImmediate(timer);
      timer = setImmediate(tick);
    }
  } else if (m.t === 'stop') {
    stopped = true;
    if (timer) {
      clearTimeout(timer);
      clearImmediate(timer);
    }
    main.close();
    idx.close();
    parentPort.postMessage({ t: 'stopped' });
    parentPort.close();
  }
});

tick();
