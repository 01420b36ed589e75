import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * On SQLite the message search index lives in its own database file beside the main one
 * (`enclave.db` → `enclave-search.db`), written only by the indexer's worker thread
 * (domain/search/sqlite-indexer.mjs) and read by the heavy-read connections, which ATTACH it as
 * `search`. A send writes one row to `search_queue` in the main database inside its own transaction;
 * the indexer applies queued rows in order and records the last one it applied (`search_state`) in
 * the same transaction as the index change, so the index is exactly the queue's prefix after any
 * crash. Decision: docs/decisions/0008-sqlite-search-index-off-the-send-path.md.
 */
export function searchFileOf(mainFile: string): string {
  const dir = path.dirname(mainFile);
  const base = path.basename(mainFile).replace(/\.(db|sqlite3?)$/i, '');
  return path.join(dir, `${base}-search.db`);
}

const SCHEMA = `
create table if not exists search_docs (
  id integer primary key autoincrement,
  conversation_id integer not null,
  seq integer not null,
  sender_id integer not null,
  ts integer not null,
  flags integer not null default 0,
  unique (conversation_id, seq)
);
create index if not exists search_docs_conv on search_docs (conversation_id, id);
create virtual table if not exists search_fts using fts5(body, tokenize = 'trigram');
create virtual table if not exists search_bi using fts5(grams, detail = none);
create table if not exists search_state (k text primary key, v integer not null);
`;

/** The key in search_state of the last search_queue id applied. */
export const INDEXED_KEY = 'indexed_up_to';

export interface SearchFileState {
  file: string;
  /** The file was created now. */
  created: boolean;
  /** Docs moved from the main database's index (the layout before 0005_search_queue). */
  moved: number;
}

/**
 * Open (creating when missing) the search database beside `mainFile`. A main database that still
 * holds the index in its own tables (created by 0003_search) has it copied over once, before the
 * migration 0005_search_queue drops those tables.
 */
export function prepareSearchFile(mainFile: string): SearchFileState {
  const file = searchFileOf(mainFile);
  const created = !fs.existsSync(file);
  const db = new Database(file);
  let moved = 0;
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    db.exec(SCHEMA);
    const state = db.prepare('select v from search_state where k = ?').get(INDEXED_KEY) as { v: number } | undefined;
    if (!state) {
      db.prepare('attach database ? as old').run(mainFile);
      try {
        const hasOld = db
          .prepare("select 1 from old.sqlite_master where type = 'table' and name = 'search_docs'")
          .get();
        db.transaction(() => {
          if (hasOld) {
            moved = db
              .prepare(
                'insert into search_docs (id, conversation_id, seq, sender_id, ts, flags) ' +
                  'select id, conversation_id, seq, sender_id, ts, flags from old.search_docs',
              )
              .run().changes;
            db.exec('insert into search_fts (rowid, body) select rowid, body from old.search_fts');
            db.exec('insert into search_bi (rowid, grams) select rowid, grams from old.search_bi');
          }
          db.prepare('insert into search_state (k, v) values (?, 0)').run(INDEXED_KEY);
        })();
      } finally {
        db.exec('detach database old');
      }
    }
  } finally {
    db.close();
  }
  return { file, created, moved };
}
