/**
 * Prints the operation and error tables of docs/protocol.md from the protocol package, so the docs
 * are generated from the same table the server, the SDK and the OpenAPI document use.
 *
 *   node --import tsx scripts/gen-protocol-tables.ts            # print both tables
 *   node --import tsx scripts/gen-protocol-tables.ts --write    # replace them in docs/protocol.md
 *
 * The tables go between `<!-- ops:start -->`/`<!-- ops:end -->` and
 * `<!-- errors:start -->`/`<!-- errors:end -->`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorCodes, ops, type OpDef } from '@enclave/protocol';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function opsTable(): string {
  const rows = ['| Op | REST route | Auth | Summary |', '| --- | --- | --- | --- |'];
  for (const [name, def] of Object.entries(ops) as [string, OpDef][]) {
    const route = def.http ? `\`${def.http.method} ${def.http.path}\`` : 'WebSocket only';
    const where = def.http && def.ws === false ? `${route} (REST only)` : route;
    rows.push(`| \`${name}\` | ${where} | ${def.auth} | ${cell(def.summary)} |`);
  }
  return rows.join('\n');
}

export function errorsTable(): string {
  const rows = ['| Code | HTTP status | Meaning |', '| --- | --- | --- |'];
  for (const [code, { status, message }] of Object.entries(errorCodes))
    rows.push(`| \`${code}\` | ${status} | ${cell(message)} |`);
  return rows.join('\n');
}

function replaceBetween(doc: string, marker: string, body: string): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs/protocol.md lacks the ${start} … ${end} markers`);
  return `${doc.slice(0, i + start.length)}\n${body}\n${doc.slice(j)}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'protocol.md');
    let doc = fs.readFileSync(file, 'utf8');
    doc = replaceBetween(doc, 'ops', opsTable());
    doc = replaceBetween(doc, 'errors', errorsTable());
    fs.writeFileSync(file, doc);
    console.log(`updated ${path.relative(process.cwd(), file)}`);
  } else {
    console.log(`<!-- ops:start -->\n${opsTable()}\n<!-- ops:end -->\n`);
    console.log(`<!-- errors:start -->\n${errorsTable()}\n<!-- errors:end -->`);
  }
}
