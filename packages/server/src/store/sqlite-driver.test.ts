import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, sql } from 'kysely';
import { InlineSqliteReaderDialect, WorkerSqliteDialect } from './sqlite-driver.ts';

/*
 * The SQLite drivers' own behaviour (the portable contract is in dialect.test.ts): SAVEPOINT and
 * RELEASE are posted to the writer's worker without waiting for a reply; when one fails, nothing
 * after it may succeed — above all not a COMMIT the caller would believe failed.
 */

interface Db {
  t: { id: number; v: string };
}

describe('SQLite drivers', () => {
  let dir: string;
  let writer: Kysely<Db>;
  let reader: Kysely<Db>;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-sqlite-driver-'));
    const file = path.join(dir, 'db.sqlite');
    writer = new Kysely<Db>({ dialect: new WorkerSqliteDialect({ file, readonly: false, connections: 1 }) });
    await sql`create table t (id integer primary key, v text not null)`.execute(writer);
    reader = new Kysely<Db>({ dialect: new InlineSqliteReaderDialect({ file }) });
  });

  afterAll(async () => {
    await reader.destroy();
    await writer.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rows = () => reader.selectFrom('t').select(['id', 'v']).orderBy('id').execute();

  it('pipelined savepoints behave like awaited ones: a rolled-back savepoint undoes only its own work', async () => {
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

  it('after a failed pipelined statement every later statement and the commit fail; rollback recovers', async () => {
    const trx = await writer.startTransaction().execute();
    await trx.insertInto('t').values({ id: 10, v: 'never committed' }).execute();
    // RELEASE of a savepoint that does not exist fails inside the worker, unseen by this call.
    await trx.releaseSavepoint('no_such_savepoint' as never).execute();
    await expect(trx.insertInto('t').values({ id: 11, v: 'refused' }).execute()).rejects.toThrow(/no_such_savepoint/);
    await expect(trx.commit().execute()).rejects.toThrow(/no_such_savepoint/);
    await trx.rollback().execute();
    expect((await rows()).map((r) => r.id)).toEqual([1, 3]);

    // The connection is usable again.
    await writer.insertInto('t').values({ id: 12, v: 'after' }).execute();
    expect((await rows()).map((r) => r.id)).toEqual([1, 3, 12]);
  });

  it('the inline reader sees each commit as soon as it is made and refuses to write', async () => {
    await writer.insertInto('t').values({ id: 20, v: '中文 ✓' }).execute();
    expect((await rows()).at(-1)).toEqual({ id: 20, v: '中文 ✓' });
    await expect(reader.insertInto('t').values({ id: 21, v: 'x' }).execute()).rejects.toThrow(/readonly/i);
  });
});
