import fs from 'node:fs';
import path from 'node:path';
import { EnclaveError } from '@enclave/protocol';
import type { App } from '../app.ts';
import { exportOrg } from '../domain/org/export-org.ts';
import { importOrg, type ImportSummary } from '../domain/org/import-org.ts';
import { readTable, tableKindOf, writeTable } from '../domain/org/org-table.ts';

/** `enclave org import <file> [--dry-run] [--json]` and `enclave org export <file>`. */
export async function orgCommand(
  app: App,
  sub: string | undefined,
  file: string | undefined,
  flags: Record<string, string | boolean>,
): Promise<number> {
  const json = flags.json === true;
  if (!file || (sub !== 'import' && sub !== 'export'))
    throw new EnclaveError('bad_request', 'Usage: enclave org import <file.csv|file.xlsx> [--dry-run] | export <file>');
  const kind = tableKindOf(file);
  if (sub === 'export') {
    const rows = await exportOrg(app.deps);
    fs.writeFileSync(file, await writeTable(rows, kind));
    const people = new Set(rows.slice(1).map((r) => r[0])).size;
    console.log(
      json
        ? JSON.stringify({ file: path.resolve(file), rows: rows.length - 1, people })
        : `Exported ${people} people (${rows.length - 1} rows) to ${file}.`,
    );
    return 0;
  }
  if (!fs.existsSync(file)) throw new EnclaveError('not_found', `No file ${file}.`);
  const table = await readTable(fs.readFileSync(file), kind);
  const summary = await importOrg(app.deps, table, { dryRun: flags['dry-run'] === true, onProgress: progress() });
  console.log(json ? JSON.stringify(summary) : describe(summary));
  return summary.errors.length ? 2 : 0;
}

/** A bar on a terminal, a line per 10 % otherwise (logs, CI). */
function progress(): (done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  let lastPct = -1;
  return (done, total) => {
    const pct = Math.floor((done / total) * 100);
    if (tty) {
      const width = 30;
      const fill = Math.round((done / total) * width);
      process.stderr.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}% ${done}/${total}`);
      if (done === total) process.stderr.write('\n');
    } else if (Math.floor(pct / 10) !== Math.floor(lastPct / 10) || done === total) {
      process.stderr.write(`import: ${done}/${total} people (${pct}%)\n`);
    }
    lastPct = pct;
  };
}

function describe(s: ImportSummary): string {
  const lines = [
    `${s.dryRun ? 'Dry run (nothing changed): would have ' : ''}${s.rows} rows, ${s.people} people: ` +
      `${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.errors.length} errors; ` +
      `${s.departmentsCreated} departments created.`,
  ];
  for (const e of s.errors) lines.push(`  row ${e.row}: ${e.code}: ${e.message}`);
  if (s.passwords.length) {
    lines.push('Initial passwords (shown only this once; each must be changed at first sign-in):');
    for (const p of s.passwords) lines.push(`  ${p.username}\t${p.password}`);
  }
  return lines.join('\n');
}
