/**
 * Summarise V8 CPU profiles (from `npm run bench -- <scenario> --cpu-prof`, which starts the server
 * with `--cpu-prof`): self time per function and per file/package, top N.
 *
 *   node --import tsx bench/prof-top.ts bench/results/<run>/prof-<scenario>/*.cpuprofile [--top 25] [--from s --to s] [--total]
 *
 * `--total` adds time per function with its callees (each sample counted once per function on its stack).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from './lib.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { positional, flags } = parseArgs(process.argv.slice(2));
const top = Number(flags.top ?? 25);
/** Only samples between --from and --to seconds after the profile's start (e.g. one load step). */
const from = Number(flags.from ?? 0) * 1e6;
const to = Number(flags.to ?? Infinity) * 1e6;
if (!positional.length) {
  console.error('usage: node --import tsx bench/prof-top.ts <file.cpuprofile>... [--top 25]');
  process.exit(2);
}

function where(url: string): string {
  if (!url) return '(native/vm)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (u.startsWith('node:')) return u;
  const i = u.indexOf('/packages/');
  return i >= 0 ? u.slice(i + 1) : path.basename(u);
}

for (const file of positional) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (at < from || at > to) continue;
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    const key = `${name}  ${where(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const w = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : where(cf.url);
    files.set(w, (files.get(w) ?? 0) + us);
  }
  const idle = fn.get('(idle)  (native/vm)') ?? 0;
  const busy = total - idle;
  const show = (m: Map<string, number>) =>
    [...m]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) => `${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
      )
      .join('\n');
  console.log(`# ${file}`);
  console.log(
    `window ${(from / 1e6).toFixed(0)}–${Number.isFinite(to) ? (to / 1e6).toFixed(0) : 'end'} s of ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (idle ${(idle / 1e6).toFixed(1)} s); shares are of busy time\n`,
  );
  console.log(`## by file / package (self time)\n${show(files)}\n`);
  console.log(`## by function (self time)\n${show(fn)}\n`);
  if (flags.total) {
    // Inclusive time: each sample counts once for every distinct function on its stack.
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const inclusive = new Map<string, number>();
    for (const [id, us] of self) {
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const cf = byId.get(cur)!.callFrame;
        const key = `${cf.functionName || '(anonymous)'}  ${where(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + us);
      }
    }
    for (const k of ['(root)  (native/vm)', '(idle)  (native/vm)']) inclusive.delete(k);
    console.log(`## by function (total time, callees included)\n${show(inclusive)}\n`);
  }
}
