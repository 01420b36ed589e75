/**
 * Summarise a V8 heap snapshot (from `npm run bench -- idle --heap-snapshot`): self size and count
 * per constructor / node type, top N, and per connection when `--per N` gives the socket count.
 *
 *   node --import tsx bench/heap-top.ts <file.heapsnapshot> [--top 30] [--per 5000]
 */
import fs from 'node:fs';
import { parseArgs } from './lib.ts';

const { positional, flags } = parseArgs(process.argv.slice(2));
const top = Number(flags.top ?? 30);
const per = Number(flags.per ?? 0);
if (!positional[0]) {
  console.error('usage: node --import tsx bench/heap-top.ts <file.heapsnapshot> [--top 30] [--per N]');
  process.exit(2);
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}
const snap = JSON.parse(fs.readFileSync(positional[0], 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const F = fields.length;
const iType = fields.indexOf('type');
const iName = fields.indexOf('name');
const iSize = fields.indexOf('self_size');

const by = new Map<string, { n: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += F) {
  const type = types[snap.nodes[i + iType]!]!;
  const name = snap.strings[snap.nodes[i + iName]!]!;
  const size = snap.nodes[i + iSize]!;
  total += size;
  const key = type === 'object' || type === 'closure' ? `${type}: ${name}` : `(${type})`;
  const e = by.get(key) ?? { n: 0, bytes: 0 };
  e.n++;
  e.bytes += size;
  by.set(key, e);
}
const rows = [...by.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
console.log(`total self size ${(total / 2 ** 20).toFixed(1)} MB in ${snap.nodes.length / F} nodes`);
console.log(`| kind | count | MB | ${per ? 'bytes per connection |' : ''}`);
console.log(`|---|---:|---:|${per ? '---:|' : ''}`);
for (const [k, v] of rows)
  console.log(
    `| ${k.slice(0, 70)} | ${v.n} | ${(v.bytes / 2 ** 20).toFixed(2)} | ${per ? `${(v.bytes / per).toFixed(0)} |` : ''}`,
  );
