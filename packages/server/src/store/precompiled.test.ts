/**
 * `precompiled` and `readTogether` on every store: LIMIT/OFFSET values are written into SQLite's
 * statement text (a bound LIMIT makes SQLite prepare the statement again on every run) with the same
 * rows as bound values elsewhere, and a group of reads answers each statement in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { allStoreTargets, type StoreTarget } from '../../test/stores.ts';
import { insertReturningId, uidToDb } from './dialect.ts';
import { precompiled, readTogether } from './precompiled.ts';
import { openStore, type Store } from './store.ts';

/** Users named by prefix, oldest first; `limit`/`offset` as arguments and as a constant. */
const named = precompiled((db, prefix: string, limit: number, offset: number) =>
  db.selectFrom('users').select('username').where('username', 'like', prefix).orderBy('id').limit(limit).offset(offset),
);
const firstNamed = precompiled((db, prefix: string) =>
  db.selectFrom('users').select('username').where('username', 'like', prefix).orderBy('id').limit(1),
);
const countNamed = precompiled((db, prefix: string) =>
  db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('username', 'like', prefix),
);

describe.each(allStoreTargets())('precompiled statements on $kind', (target: StoreTarget) => {
  describe.skipIf(target.skipReason !== null)(`${target.kind}`, () => {
    let database: { url: string; drop(): Promise<void> } | undefined;
    let store: Store;
    const names = ['pc-a', 'pc-b', 'pc-c', 'pc-d', 'pc-e'];

    beforeAll(async () => {
      database = await target.create();
      store = await openStore(database.url, { poolSize: 4 });
      for (const username of names)
        await insertReturningId(store.kind, store.db, 'users', {
          uid: uidToDb(store.kind, uuidv7()),
          username,
          display_name: username,
          password_hash: 'x',
          role: 'user',
          disabled: 0,
          must_change_password: 0,
          last_useq: 0,
          created_at: 1,
          updated_at: 1,
        });
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });

    it('pages with LIMIT and OFFSET arguments, new values each run', async () => {
      const page = async (limit: number, offset: number) =>
        (await named.rows(store.kind, store.reader, 'pc-%', limit, offset)).map((r) => r.username);
      expect(await page(2, 0)).toEqual(['pc-a', 'pc-b']);
      expect(await page(2, 2)).toEqual(['pc-c', 'pc-d']);
      expect(await page(3, 3)).toEqual(['pc-d', 'pc-e']);
      expect(await page(2, 0)).toEqual(['pc-a', 'pc-b']);
      expect((await firstNamed.first(store.kind, store.reader, 'pc-%'))?.username).toBe('pc-a');
    });

    it('writes the values into the SQL text on SQLite only, and binds anything but a count', () => {
      const q = named.with('pc-%', 2, 3).query(store.kind, store.reader);
      if (store.kind === 'sqlite') {
        expect(q.sql).toMatch(/ limit 2 offset 3$/);
        expect(q.parameters).toEqual(['pc-%']);
        // A value SQLite would not take as a count stays a parameter.
        const odd = named.with('pc-%', 2.5, 0).query(store.kind, store.reader);
        expect(odd.sql).toMatch(/ limit \? offset \?$/);
        expect(odd.parameters).toEqual(['pc-%', 2.5, 0]);
      } else {
        expect(q.sql).not.toMatch(/ limit 2/);
        expect(q.parameters).toContain(2);
      }
    });

    it('reads a group of statements, each answered in order, and counts them', async () => {
      const before = store.stats.statements;
      const [page, first, count] = await readTogether(
        store,
        store.reader,
        named.with('pc-%', 2, 1),
        firstNamed.with('pc-c%'),
        countNamed.with('pc-%'),
      );
      expect(page.map((r) => r.username)).toEqual(['pc-b', 'pc-c']);
      expect(first.map((r) => r.username)).toEqual(['pc-c']);
      expect(Number(count[0]!.n)).toBe(5);
      expect(store.stats.statements - before).toBe(3);
      const [[only]] = await readTogether(store, store.reader, firstNamed.with('pc-e%'));
      expect(only?.username).toBe('pc-e');
    });

    it('a failed statement in a group leaves the reader usable', async () => {
      const broken = precompiled((db, prefix: string) =>
        db
          .selectFrom('users')
          .select('username')
          .where('username', 'like', prefix)
          .where((eb) => eb.fn('no_such_function', [eb.ref('id')]), '=', 1),
      );
      await expect(readTogether(store, store.reader, firstNamed.with('pc-a%'), broken.with('pc-%'))).rejects.toThrow();
      const [[again]] = await readTogether(store, store.reader, firstNamed.with('pc-b%'), firstNamed.with('pc-c%'));
      expect(again?.username).toBe('pc-b');
    });
  });
});
