#!/usr/bin/env node
/*
 * Build the web client when dist/ is missing or older than its sources (the client, the SDK and the
 * protocol it bundles). `npm start` and `npm test` run this first, so a fresh clone serves a working
 * client and a build that is already current costs a directory walk (~10 ms).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(web, 'dist', '.build-stamp');
const sources = [
  path.join(web, 'src'),
  path.join(web, 'public'),
  path.join(web, 'index.html'),
  path.join(web, 'vite.config.ts'),
  path.join(web, 'package.json'),
  path.join(web, '..', 'sdk', 'src'),
  path.join(web, '..', 'protocol', 'src'),
];

function newest(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of fs.readdirSync(p)) max = Math.max(max, newest(path.join(p, name)));
  return max;
}

const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
const force = process.argv.includes('--force');
if (!force && built > 0 && built >= Math.max(...sources.map(newest))) process.exit(0);

const started = Date.now();
const { build } = await import('vite');
await build({ root: web, logLevel: 'warn', configFile: path.join(web, 'vite.config.ts') });
fs.writeFileSync(stamp, new Date().toISOString() + '\n');
console.log(`web client built in ${Date.now() - started} ms`);
