/**
 * `enclave org import/export`: GB18030 (what Excel writes on Chinese Windows), UTF-8 with and without
 * a BOM, XLSX; re-import is idempotent; a dry run changes nothing; bad rows are reported by number and
 * never stop the rest; export → import round-trips. The first import runs the real CLI as a child
 * process over a SQLite file; a server on that file then proves what it wrote.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Department, OpOutput, Person } from '@enclave/protocol';
import { http, login, startServer, type TestServer } from './harness.ts';
import { importOrg, type ImportSummary } from '../src/domain/org/import-org.ts';
import { exportOrg } from '../src/domain/org/export-org.ts';
import { readTable, writeTable } from '../src/domain/org/org-table.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'packages/server/bin/enclave.mjs');
let dir: string;

const csv = [
  '用户名,姓名,工号,部门,职务,手机,邮箱,主岗',
  'zhangsan,张三,E001,总部/研发中心/前端组,组长,13800138000,zhangsan@example.cn,是',
  'zhangsan,张三,E001,总部/产品部,顾问,13800138000,zhangsan@example.cn,',
  'lisi,李四,E002,总部/研发中心/前端组,工程师,13900139000,,',
  'wangwu,王五,E003,总部/研发中心/后端组,工程师,,wangwu@example.cn,',
  ',,E004,总部/产品部,经理,,,',
  'zhaoliu,赵六,E005,总部/产品部,经理,,not-an-email,',
  'shanxx,单雄信,E006,"总部/销售部, 华东",销售,136 0000 0000,,',
].join('\r\n');

async function enclave(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  delete env.ENCLAVE_ADMIN_PASSWORD;
  delete env.DATABASE_URL;
  delete env.ENCLAVE_DATA_DIR;
  try {
    const r = await run(process.execPath, [bin, ...args, '--data', dir, '--json'], {
      cwd: root,
      env,
      timeout: 120_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as ImportSummary;

async function topDepartments(srv: TestServer): Promise<Department[]> {
  const top = await http<{ items: Department[] }>(srv, 'GET', '/api/v1/org/departments', { token: srv.adminToken });
  return top.body.items;
}

async function dept(srv: TestServer, id: string) {
  return (
    await http<OpOutput<'org.department'>>(srv, 'GET', `/api/v1/org/departments/${id}`, { token: srv.adminToken })
  ).body;
}

async function treeTotals(srv: TestServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const walk = async (items: Department[], prefix: string) => {
    for (const d of items) {
      out[prefix + d.name] = d.total;
      await walk((await dept(srv, d.id)).children, `${prefix}${d.name}/`);
    }
  };
  await walk(await topDepartments(srv), '');
  return out;
}

async function search(srv: TestServer, q: string): Promise<Person[]> {
  const r = await http<{ items: Person[] }>(srv, 'GET', `/api/v1/people/search?q=${encodeURIComponent(q)}`, {
    token: srv.adminToken,
  });
  return r.body.items;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-org-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('enclave org import (CLI)', () => {
  it('imports a GB18030 CSV, reports bad rows by number, and re-imports without duplicates', async () => {
    const file = path.join(dir, 'org-gbk.csv');
    fs.writeFileSync(file, iconv.encode(csv, 'gb18030'));
    expect(fs.readFileSync(file).includes(Buffer.from('张三'))).toBe(false); // really not UTF-8

    // A server on the file first: it creates the administrator the checks below sign in as.
    await (await startServer({ databaseUrl: `sqlite:${path.join(dir, 'enclave.db')}` })).close();
    const dry = await enclave(['org', 'import', file, '--dry-run']);
    const d = summaryOf(dry.stdout);
    expect(d).toMatchObject({ dryRun: true, created: 4, updated: 0, departmentsCreated: 6 });
    const first = await enclave(['org', 'import', file]);
    expect(first.code, first.stderr).toBe(2); // finished, with row errors
    expect(first.stderr).toMatch(/import: 4\/4 people/);
    const s = summaryOf(first.stdout);
    expect(s).toMatchObject({ rows: 7, people: 4, created: 4, updated: 0, unchanged: 0, departmentsCreated: 6 });
    expect(s.errors.map((e) => [e.row, e.code])).toEqual([
      [6, 'validation_failed'],
      [7, 'validation_failed'],
    ]);
    expect(s.errors[0]!.message).toMatch(/name/);
    expect(s.errors[1]!.message).toMatch(/email/);
    expect(s.passwords.map((p) => p.username).sort()).toEqual(['lisi', 'shanxx', 'wangwu', 'zhangsan']);

    const srv = await startServer({ databaseUrl: `sqlite:${path.join(dir, 'enclave.db')}` });
    try {
      const before = await treeTotals(srv);
      expect(before).toMatchObject({
        总部: 4,
        '总部/研发中心': 3,
        '总部/研发中心/前端组': 2,
        '总部/研发中心/后端组': 1,
        '总部/产品部': 1,
        '总部/销售部, 华东': 1,
      });
      const [zs] = await search(srv, 'zhangsan');
      expect(zs).toMatchObject({ displayName: '张三', employeeNo: 'E001', phone: '13800138000', title: '组长' });
      expect(zs!.posts.map((p) => p.departmentName)).toEqual(['前端组', '产品部']);
      expect((await search(srv, 'shan'))[0]!.displayName).toBe('单雄信');
      // The initial password works once and must be changed.
      const pw = s.passwords.find((p) => p.username === 'lisi')!.password;
      expect((await login(srv, 'lisi', pw)).mustChangePassword).toBe(true);

      // Re-import the same file: nothing new, nothing changed.
      await srv.close();
      const again = summaryOf((await enclave(['org', 'import', file])).stdout);
      expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 4, departmentsCreated: 0 });
      const srv2 = await startServer({ databaseUrl: `sqlite:${path.join(dir, 'enclave.db')}` });
      try {
        expect(await treeTotals(srv2)).toEqual(before);
        expect(await search(srv2, 'zhangsan')).toHaveLength(1);
      } finally {
        await srv2.close();
      }
    } finally {
      await srv.close().catch(() => undefined);
    }
  }, 120_000);
});

describe('org import and export (in process)', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv.close();
  });
  const imp = async (buf: Buffer, kind: 'csv' | 'xlsx', dryRun = false) =>
    importOrg(srv.app.deps, await readTable(buf, kind), { dryRun });

  it('reads UTF-8 with a BOM, English headers, and updates people matched by employee number', async () => {
    const text = [
      'username,displayName,employeeNo,department,title,phone,email,primary',
      'u1,甲一,X100,公司/一部,员工,,,',
      'u2,乙二,X200,公司/二部,员工,,,',
    ].join('\n');
    const s = await imp(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'csv');
    expect(s).toMatchObject({ created: 2, errors: [] });
    // Renamed in the file and moved: matched by employee number (username column differs), updated.
    const moved = ['姓名,工号,部门,职务', '甲一改,X100,公司/二部,主管'].join('\n');
    const s2 = await imp(Buffer.from(moved), 'csv');
    expect(s2).toMatchObject({ created: 0, updated: 1, errors: [] });
    const [p] = await search(srv, 'X100');
    expect(p).toMatchObject({ displayName: '甲一改', username: 'u1', title: '主管' });
    const company = (await topDepartments(srv)).find((d) => d.name === '公司')!;
    const kids = (await dept(srv, company.id)).children;
    expect(kids.map((k) => [k.name, k.total])).toEqual([
      ['一部', 0],
      ['二部', 2],
    ]);
  });

  it('reads XLSX, and a dry run changes nothing', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('人员');
    ws.addRow(['姓名', '用户名', '部门', '手机', '工号']);
    ws.addRow(['钱七', 'qianqi', '工厂/车间', '13700000000', '00123']);
    ws.addRow(['孙八', 'sunba', '工厂/车间', '', '00124']);
    const buf = Buffer.from(await wb.xlsx.writeBuffer());
    const dry = await imp(buf, 'xlsx', true);
    expect(dry).toMatchObject({ dryRun: true, created: 2, departmentsCreated: 2, errors: [] });
    expect(await search(srv, 'qianqi')).toEqual([]);
    expect((await topDepartments(srv)).some((d) => d.name === '工厂')).toBe(false);
    const real = await imp(buf, 'xlsx');
    expect(real).toMatchObject({ created: 2, departmentsCreated: 2, errors: [] });
    const [q] = await search(srv, 'qq');
    expect(q).toMatchObject({ displayName: '钱七', employeeNo: '00123', phone: '13700000000' });
  });

  it('export → import round-trips (CSV with BOM and XLSX)', async () => {
    for (const kind of ['csv', 'xlsx'] as const) {
      const rows = await exportOrg(srv.app.deps);
      const buf = await writeTable(rows, kind);
      if (kind === 'csv') expect([...buf.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      expect(await readTable(buf, kind)).toEqual(rows);
      const s = await imp(buf, kind);
      expect(s).toMatchObject({ created: 0, updated: 0, departmentsCreated: 0, errors: [] });
      expect(s.unchanged).toBe(new Set(rows.slice(1).map((r) => r[0])).size);
      // Into an empty server: the same people, departments and totals.
      const other = await startServer();
      try {
        const r2 = await importOrg(other.app.deps, await readTable(buf, kind), { dryRun: false });
        expect(r2.errors).toEqual([]);
        // Departments without people are not in a people file.
        const populated = async (x: TestServer) =>
          Object.fromEntries(Object.entries(await treeTotals(x)).filter(([, n]) => n > 0));
        expect(await populated(other)).toEqual(await populated(srv));
        expect(await exportOrg(other.app.deps)).toEqual(rows);
      } finally {
        await other.close();
      }
    }
  });
});
