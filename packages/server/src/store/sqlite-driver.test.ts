import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, sql } from 'kysely';
import Database from 'better-sqlite3';
import { InlineSqliteReaderDialect, InlineSqliteWriterDialect, stepRef, type ProgramStep } from './sqlite-driver.ts';

/*
 * The SQLite drivers' own behaviour (the portable contract is in dialect.test.ts): the writer runs
 * on the event loop with one caller at a time, commits become durable through a shared WAL fsync,
 * long transactions let the event loop breathe, and an acknowledged write survives a killed process.
 */

interface Db {
  t: { id: number; v: string };
}

describe('SQLite drivers', () => {
  let dir: string;
  let file: string;
  let dialect: InlineSqliteWriterDialect;
  let writer: Kysely<Db>;
  let reader: Kysely<Db>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-sqlite-driver-'));
    file = path.join(dir, 'db.sqlite');
    dialect = new InlineSqliteWriterDialect({ file, checkpointMs: 50 });
    writer = new Kysely<Db>({ dialect });
    await sql`create table t (id integer primary key, v text not null)`.execute(writer);
    reader = new Kysely<Db>({ dialect: new InlineSqliteReaderDialect({ file }) });
  });

  afterAll(async () => {
    await reader.destroy();
    await writer.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rows = () => reader.selectFrom('t').select(['id', 'v']).orderBy('id').execute();

  it('a rolled-back savepoint undoes only its own work', async () => {
    const trx = await writer.startTransaction().execute();
    await trx.insertInto('t').values({ id: 1, v: 'kept' }).execute();
    const sp = await trx.savepoint('a').execute();
    await sp.insertInto('t').values({ id: 2, v: 'undone' }).execute();
    await sp.rollbackToSavepoint('a').execute();
    const sp2 = await trx.savepoint('b').execute();
    await sp2.insertInto('t').values({ id: 3, v: 'released' }).execute();
    await sp2.releaseSavepoint('b').execute();
    await trx.commit().execute();
    expect(await rows()).toEqual([
      { id: 1, v: 'kept' },
      { id: 3, v: 'released' },
    ]);
  });

  it('a failed transaction rolls back whole and leaves the writer usable', async () => {
    await expect(
      writer.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ id: 10, v: 'never committed' }).execute();
        await trx.insertInto('t').values({ id: 1, v: 'duplicate key' }).execute();
      }),
    ).rejects.toThrow(/UNIQUE/);
    await writer.insertInto('t').values({ id: 12, v: 'after' }).execute();
    expect((await rows()).map((r) => r.id)).toEqual([1, 3, 12]);
  });

  it('transactions that arrive together run one after another, in order, and share WAL fsyncs', async () => {
    const before = dialect.syncs;
    const ids = Array.from({ length: 60 }, (_, i) => 100 + i);
    const order: number[] = [];
    await Promise.all(
      ids.map((id) =>
        writer.transaction().execute(async (trx) => {
          const n = await trx
            .selectFrom('t')
            .select(sql<number>`count(*)`.as('n'))
            .executeTakeFirstOrThrow();
          await Promise.resolve(); // a turn of the microtask queue inside the transaction
          await trx
            .insertInto('t')
            .values({ id, v: `seen ${n.n}` })
            .execute();
          order.push(id);
        }),
      ),
    );
    expect(order).toEqual(ids);
    const got = (await rows()).filter((r) => r.id >= 100);
    // Each transaction saw every one before it: none interleaved with another.
    expect(got.map((r) => r.v)).toEqual(ids.map((_, i) => `seen ${3 + i}`));
    const used = dialect.syncs - before;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(ids.length);
  });

  it('a program step that finds no row can end its job with nothing more to do (stopUnlessRow)', async () => {
    await writer.insertInto('t').values({ id: 28_000, v: 'at 1' }).execute();
    const advance = (to: number): ProgramStep[] => [
      {
        name: 'moved',
        sql: "update t set v = 'at ' || cast(? as integer) where id = 28000 and cast(substr(v, 4) as integer) < ? returning id",
        params: [to, to],
        stopUnlessRow: true,
      },
      { name: 'log', sql: "insert into t (id, v) values (?, 'moved')", params: [28_000 + to] },
    ];
    const reply = await dialect.runProgram([advance(3), advance(2), advance(5)]);
    expect(reply.results.map((r) => r.ok && r.stopped)).toEqual([null, 'moved', null]);
    expect((await rows()).filter((r) => r.id >= 28_000 && r.id < 28_100)).toEqual([
      { id: 28_000, v: 'at 5' },
      { id: 28_003, v: 'moved' },
      { id: 28_005, v: 'moved' },
    ]);
  });

  it('a write program runs a batch as one transaction on its own thread: later steps take earlier rows, a refused job is undone alone', async () => {
    await writer.insertInto('t').values({ id: 30_000, v: 'counter 7' }).execute();
    const before = dialect.syncs;
    const counter: ProgramStep = {
      name: 'c',
      sql: "update t set v = 'counter ' || (cast(substr(v, 9) as integer) + 1) where id = ? returning cast(substr(v, 9) as integer) as n",
      params: [30_000],
      requireRow: 'conversation_not_found',
    };
    const insert = (id: number): ProgramStep => ({
      name: 'i',
      sql: "insert into t (id, v) values (?, 'took ' || cast(? as integer))",
      params: [id, stepRef('c', 'n')],
    });
    const refuse = (code: string | null): ProgramStep => ({
      name: 'r',
      sql: 'select ? as refusal',
      params: [code],
      refuseBy: 'refusal',
    });
    const reply = await dialect.runProgram([
      [counter, insert(30_001), refuse(null)],
      // Refused after its writes: its counter step and insert are rolled back, the others kept.
      [counter, insert(30_002), refuse('member_muted')],
      // Stops at a row that exists (an idempotent retry): nothing after it runs.
      [{ name: 'd', sql: 'select id, v from t where id = ?', params: [30_001], stopIfRow: true }, insert(30_003)],
      [counter, insert(30_004)],
      // A statement that fails (duplicate key) fails its job alone, as SQLite reports it.
      [counter, insert(30_001)],
      [{ ...counter, params: [404] }, insert(30_005)],
    ]);
    expect(reply.committed).toBe(true);
    expect(reply.results.map((r) => (r.ok ? (r.stopped ?? 'ok') : r.error))).toEqual([
      'ok',
      { refusal: 'member_muted' },
      'd',
      'ok',
      { message: expect.stringMatching(/UNIQUE/), code: 'SQLITE_CONSTRAINT_PRIMARYKEY' },
      { refusal: 'conversation_not_found' },
    ]);
    const stopped = reply.results[2]!;
    expect(stopped.ok && stopped.rows.d).toEqual({ id: 30_001, v: 'took 8' });
    // Visible to the inline reader once the program has resolved, and made durable by an fsync.
    expect((await rows()).filter((r) => r.id >= 30_000)).toEqual([
      { id: 30_000, v: 'counter 9' },
      { id: 30_001, v: 'took 8' },
      { id: 30_004, v: 'took 9' },
    ]);
    expect(dialect.syncs).toBeGreaterThan(before);
    // A job alone that fails leaves nothing behind either (no savepoint: the transaction is rolled back).
    const alone = await dialect.runProgram([[counter, insert(30_006), refuse('not_a_member')]]);
    expect(alone.committed).toBe(false);
    expect((await rows()).filter((r) => r.id >= 30_000).map((r) => r.v)).toEqual(['counter 9', 'took 8', 'took 9']);
  });

  it('programs and transactions take the writer in the order they ask for it', async () => {
    const count = '(select count(*) from t where id between 40000 and 40999)';
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => 40_000 + i).map((id) =>
        id % 2
          ? dialect
              .runProgram([[{ name: 'i', sql: `insert into t (id, v) values (?, 'seen ' || ${count})`, params: [id] }]])
              .then(() => order.push(id))
          : writer.transaction().execute(async (trx) => {
              await sql`insert into t (id, v) values (${id}, 'seen ' || ${sql.raw(count)})`.execute(trx);
              order.push(id);
            }),
      ),
    );
    const got = (await rows()).filter((r) => r.id >= 40_000 && r.id < 41_000);
    // Each write saw every one asked for before it, whichever connection ran it.
    expect(got.map((r) => r.v)).toEqual(got.map((_, i) => `seen ${i}`));
    expect(got).toHaveLength(40);
    expect(order).toHaveLength(40);
  });

  it('a program thread that dies fails its batch, not the writer: the next program runs on a new thread', async () => {
    // Reach the thread the way nothing in the server can: the driver's own field.
    const driver = (dialect as unknown as { driver: { programs: { close(): Promise<number> } | null } }).driver;
    const slow: ProgramStep = {
      name: 's',
      sql: 'with recursive n(i) as (select 1 union all select i + 1 from n where i < 3000000) select count(*) as c from n',
      params: [],
    };
    const insert = (id: number): ProgramStep[] => [
      { name: 'i', sql: "insert into t (id, v) values (?, 'after a lost thread')", params: [id] },
    ];
    const dying = expect(dialect.runProgram([[...insert(29_500), slow]])).rejects.toThrow(/closed|exited/);
    await new Promise((r) => setTimeout(r, 20));
    await driver.programs!.close();
    await dying;
    // The writer was handed on: a transaction and a program both still commit.
    await writer.insertInto('t').values({ id: 29_501, v: 'after a lost thread' }).execute();
    const next = await dialect.runProgram([insert(29_502)]);
    expect(next.committed).toBe(true);
    expect((await rows()).filter((r) => r.id >= 29_500 && r.id < 29_600).map((r) => r.id)).toEqual([29_501, 29_502]);
  });

  it('a long transaction lets timers run while it works', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    await writer.transaction().execute(async (trx) => {
      for (let i = 0; performance.now() - started < 120; i++)
        await trx
          .insertInto('t')
          .values({ id: 10_000 + i, v: 'x'.repeat(200) })
          .execute();
    });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });

  it('bound LIMIT and OFFSET values page correctly (written into the statement text), past any cache of them', async () => {
    await writer.transaction().execute(async (trx) => {
      for (let i = 0; i < 60; i++)
        await trx
          .insertInto('t')
          .values({ id: 50_000 + i, v: `page ${i}` })
          .execute();
    });
    const ids = Array.from({ length: 60 }, (_, i) => 50_000 + i);
    // 40 distinct (limit, offset) pairs on the reader — more than the texts kept per statement —
    // then the writer inside a transaction, each against the rows computed here.
    for (let n = 1; n <= 40; n++) {
      const limit = (n % 7) + 1;
      const offset = n;
      const got = await reader
        .selectFrom('t')
        .select('id')
        .where('id', '>=', 50_000)
        .orderBy('id')
        .limit(limit)
        .offset(offset)
        .execute();
      expect(got.map((r) => r.id)).toEqual(ids.slice(offset, offset + limit));
    }
    await writer.transaction().execute(async (trx) => {
      const sub = await trx
        .selectFrom('t')
        .select('v')
        .where('id', 'in', (eb) => eb.selectFrom('t').select('id').where('id', '>=', 50_000).orderBy('id').limit(3))
        .orderBy('id', 'desc')
        .limit(2)
        .execute();
      expect(sub.map((r) => r.v)).toEqual(['page 2', 'page 1']);
    });
    // Not a plain count: bound, as SQLite takes it (-1: no limit).
    const all = await reader.selectFrom('t').select('id').where('id', '>=', 50_000).limit(-1).offset(58).execute();
    expect(all.map((r) => r.id)).toEqual(ids.slice(58));
  });

  it('the inline reader sees each commit as soon as it is made and refuses to write', async () => {
    await writer.insertInto('t').values({ id: 20, v: '中文 ✓' }).execute();
    expect((await rows()).find((r) => r.id === 20)).toEqual({ id: 20, v: '中文 ✓' });
    await expect(reader.insertInto('t').values({ id: 21, v: 'x' }).execute()).rejects.toThrow(/readonly/i);
  });

  it('writes acknowledged before the process is killed are there after a restart', { timeout: 30_000 }, async () => {
    const crashFile = path.join(dir, 'crash.sqlite');
    const script = path.join(dir, 'crash-writer.mts');
    fs.writeFileSync(
      script,
      `import { Kysely, sql } from ${JSON.stringify(import.meta.resolve('kysely'))};
import { InlineSqliteWriterDialect } from ${JSON.stringify(path.resolve(import.meta.dirname, 'sqlite-driver.ts'))};
const dialect = new InlineSqliteWriterDialect({ file: ${JSON.stringify(crashFile)}, checkpointMs: 60_000 });
const db = new Kysely<any>({ dialect });
await sql\`create table t (id integer primary key, v text)\`.execute(db);
for (let i = 1; i <= 200; i++) {
  // Every other write as a program on the writer's own thread.
  if (i % 2) await db.transaction().execute((trx) => trx.insertInto('t').values({ id: i, v: 'acked ' + i }).execute());
  else await dialect.runProgram([[{ name: 'i', sql: 'insert into t (id, v) values (?, ?)', params: [i, 'acked ' + i] }]]);
  process.stdout.write(i + '\\n');
}
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: import.meta.dirname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    let acked = 0;
    child.stdout.on('data', (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line) acked = Number(line);
      if (acked >= 150) child.kill('SIGKILL');
    });
    await exited;
    expect(acked).toBeGreaterThanOrEqual(150);
    const db = new Database(crashFile, { readonly: true });
    const n = (db.prepare('select count(*) as n from t').get() as { n: number }).n;
    db.close();
    expect(n).toBeGreaterThanOrEqual(acked);
  });

  it('a WAL left large by a burst is cut back once writes pause long enough, and never makes a write wait for a reader', async () => {
    const idleFile = path.join(dir, 'idle.sqlite');
    const wal = `${idleFile}-wal`;
    const db = new Kysely<Db>({
      dialect: new InlineSqliteWriterDialect({
        file: idleFile,
        checkpointMs: 50,
        walIdleTruncateBytes: 64 * 1024,
        walTruncateAfterIdleMs: 100,
      }),
    });
    try {
      await sql`create table t (id integer primary key, v text not null)`.execute(db);
      // A reader on another connection holds a snapshot from before the burst: the truncation must
      // be skipped (not waited for) while it does.
      const holder = new Database(idleFile, { readonly: true });
      holder.exec('begin');
      holder.prepare('select count(*) from t').get();
      for (let i = 1; i <= 100; i++)
        await db
          .insertInto('t')
          .values({ id: i, v: 'x'.repeat(4_000) })
          .execute();
      expect(fs.statSync(wal).size).toBeGreaterThan(64 * 1024);
      // Several idle rounds pass with the reader in the way; a write in the middle is not held up.
      await new Promise((r) => setTimeout(r, 300));
      const started = performance.now();
      await db.insertInto('t').values({ id: 101, v: 'while a reader holds its snapshot' }).execute();
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(fs.statSync(wal).size).toBeGreaterThan(64 * 1024);
      holder.exec('commit');
      holder.close();

      const deadline = performance.now() + 5_000;
      while (fs.statSync(wal).size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(fs.statSync(wal).size).toBe(0);
      // Everything is still there, and the writer goes on.
      await db.insertInto('t').values({ id: 102, v: 'after' }).execute();
      const check = new Database(idleFile, { readonly: true });
      expect((check.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(102);
      check.close();
    } finally {
      await db.destroy();
    }
  });

  it('a WAL is kept through pauses shorter than the idle time (appending to a cut-back WAL costs more per fsync)', async () => {
    const keptFile = path.join(dir, 'kept.sqlite');
    const db = new Kysely<Db>({
      dialect: new InlineSqliteWriterDialect({ file: keptFile, checkpointMs: 50, walIdleTruncateBytes: 64 * 1024 }),
    });
    try {
      await sql`create table t (id integer primary key, v text not null)`.execute(db);
      for (let i = 1; i <= 100; i++)
        await db
          .insertInto('t')
          .values({ id: i, v: 'x'.repeat(4_000) })
          .execute();
      await new Promise((r) => setTimeout(r, 400)); // eight checkpoint rounds, well under a minute
      expect(fs.statSync(`${keptFile}-wal`).size).toBeGreaterThan(64 * 1024);
    } finally {
      await db.destroy();
    }
  });
});
