/**
 * The stores every store-dependent suite runs on. SQLite always; PostgreSQL and MySQL when their
 * URLs are set (ENCLAVE_TEST_PG_URL, ENCLAVE_TEST_MYSQL_URL). CI sets ENCLAVE_REQUIRE_ALL_STORES=1,
 * and then a missing URL fails the run instead of skipping the suite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';

export interface StoreTarget {
  kind: 'sqlite' | 'postgres' | 'mysql';
  /** Why the target is unavailable, or null when it runs. */
  skipReason: string | null;
  /** A fresh, empty database for one suite; drop() removes it. */
  create(): Promise<{ url: string; drop(): Promise<void> }>;
}

const required = process.env.ENCLAVE_REQUIRE_ALL_STORES === '1';

function unavailable(kind: StoreTarget['kind'], envName: string): StoreTarget {
  const reason = `${kind} suite skipped: ${envName} is not set`;
  if (required) throw new Error(`${reason}, but ENCLAVE_REQUIRE_ALL_STORES=1 requires every store`);
  console.warn(`[stores] ${reason}`);
  return {
    kind,
    skipReason: reason,
    create: () => Promise.reject(new Error(reason)),
  };
}

const suffix = () => `${Date.now().toString(36)}_${crypto.randomBytes(4).toString('hex')}`;

export function sqliteTarget(): StoreTarget {
  return {
    kind: 'sqlite',
    skipReason: null,
    async create() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-test-'));
      return {
        url: `sqlite:${path.join(dir, 'enclave.db')}`,
        drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}

export function postgresTarget(): StoreTarget {
  const base = process.env.ENCLAVE_TEST_PG_URL;
  if (!base) return unavailable('postgres', 'ENCLAVE_TEST_PG_URL');
  return {
    kind: 'postgres',
    skipReason: null,
    async create() {
      const schema = `enclave_t_${suffix()}`;
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      const u = new URL(base);
      u.searchParams.set('options', `-c search_path=${schema}`);
      return {
        url: u.toString(),
        async drop() {
          const c = new pg.Client({ connectionString: base });
          await c.connect();
          await c.query(`drop schema if exists ${schema} cascade`);
          await c.end();
        },
      };
    },
  };
}

export function mysqlTarget(): StoreTarget {
  const base = process.env.ENCLAVE_TEST_MYSQL_URL;
  if (!base) return unavailable('mysql', 'ENCLAVE_TEST_MYSQL_URL');
  return {
    kind: 'mysql',
    skipReason: null,
    async create() {
      const name = `enclave_t_${suffix()}`;
      const admin = await mysql.createConnection(base);
      await admin.query(`create database ${name} character set utf8mb4 collate utf8mb4_bin`);
      await admin.end();
      const u = new URL(base);
      u.pathname = `/${name}`;
      return {
        url: u.toString(),
        async drop() {
          const c = await mysql.createConnection(base);
          await c.query(`drop database if exists ${name}`);
          await c.end();
        },
      };
    },
  };
}

export function allStoreTargets(): StoreTarget[] {
  return [sqliteTarget(), postgresTarget(), mysqlTarget()];
}
