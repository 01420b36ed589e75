/*
 * The prebuilt server: packages/server/dist/, one ES module bundle of the server, the protocol and
 * their pure-JavaScript dependencies (esbuild), so a start does not transpile TypeScript or resolve
 * hundreds of files. Native and heavy optional packages stay external and load from node_modules
 * as before; worker files the server starts by URL are copied beside the bundle.
 *
 * `freshBundle()` is what bin/enclave.mjs asks at every start (a walk over the sources, ~5 ms);
 * `buildBundle()` is what ensure-built.mjs runs when the bundle is missing or older than them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const server = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(server, '..', '..');
export const DIST = path.join(server, 'dist');
const ENTRY = 'enclave.mjs';
const STAMP = '.build-stamp';

/** Everything the bundle is made of: a change to any of these makes it stale. */
const SOURCES = [
  path.join(server, 'src'),
  path.join(server, 'package.json'),
  path.join(server, 'scripts', 'bundle.mjs'),
  path.join(root, 'packages', 'protocol', 'src'),
  path.join(root, 'packages', 'protocol', 'package.json'),
  path.join(root, 'package-lock.json'),
  path.join(root, 'node_modules', '.package-lock.json'),
];

/**
 * Not bundled: native addons, packages loaded on demand (the bundle must not load them at start),
 * and packages that find their own files on disk at run time.
 */
const EXTERNAL = [
  'better-sqlite3',
  '@node-rs/argon2',
  'sharp',
  'pg',
  'pg-native',
  'mysql2',
  'ioredis',
  '@aws-sdk/*',
  'exceljs',
  'iconv-lite',
  'prom-client',
  'swagger-ui-dist',
];

function newest(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return p.endsWith('.test.ts') ? 0 : st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of fs.readdirSync(p)) max = Math.max(max, newest(path.join(p, name)));
  return max;
}

/** The bundle's entry as a file URL when it is built and newer than every source, else null. */
export function freshBundle() {
  let built;
  try {
    built = fs.statSync(path.join(DIST, STAMP)).mtimeMs;
  } catch {
    return null;
  }
  if (!fs.existsSync(path.join(DIST, ENTRY))) return null;
  for (const s of SOURCES) if (newest(s) > built) return null;
  return pathToFileURL(path.join(DIST, ENTRY)).href;
}

/** Plain-JavaScript files under src/ that the server starts by URL (worker threads). */
function workerFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...workerFiles(p));
    else if (e.name.endsWith('.mjs')) out.push(p);
  }
  return out;
}

/**
 * Build into a fresh directory, then swap it in for dist/, so a concurrent build or a reader never
 * sees half a bundle. Returns the milliseconds spent. (The scratch directories are named `dist`
 * inside a temporary parent, so one left by an interrupted build is ignored like dist/ itself.)
 */
export async function buildBundle() {
  const started = Date.now();
  const { build } = await import('esbuild');
  const scratch = fs.mkdtempSync(path.join(server, '.bundle-'));
  const tmp = path.join(scratch, 'dist');
  fs.mkdirSync(tmp, { mode: 0o755 });
  try {
    const result = await build({
      entryPoints: { enclave: path.join(server, 'src', 'cli', 'main.ts') },
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      // On-demand imports (cluster mode, org import, …) become chunks loaded when first used.
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: EXTERNAL,
      minifySyntax: true,
      minifyWhitespace: true,
      legalComments: 'none',
      logLevel: 'warning',
      metafile: true,
      // Bundled CommonJS packages call require() for Node's built-ins.
      banner: {
        js: "import { createRequire as __enclaveCreateRequire } from 'node:module'; const require = __enclaveCreateRequire(import.meta.url);",
      },
    });
    const workers = workerFiles(path.join(server, 'src'));
    for (const w of workers) fs.copyFileSync(w, path.join(tmp, path.basename(w)));
    // Every `new URL('./x', import.meta.url)` left in the output must name a file beside it.
    for (const out of Object.keys(result.metafile.outputs)) {
      const code = fs.readFileSync(path.resolve(out), 'utf8');
      for (const m of code.matchAll(/new URL\(\s*["'`]\.\/([^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g))
        if (!fs.existsSync(path.join(tmp, m[1])))
          throw new Error(`the bundle refers to ./${m[1]}, which the build did not place beside it`);
    }
    const stamp = path.join(tmp, STAMP);
    fs.writeFileSync(stamp, new Date(started).toISOString() + '\n');
    // Stale as soon as a source changes after the build started, even during it.
    fs.utimesSync(stamp, new Date(started), new Date(started));
    const old = path.join(scratch, 'previous');
    fs.mkdirSync(old);
    try {
      fs.renameSync(DIST, path.join(old, 'dist'));
    } catch {
      /* no previous build, or another build moved it */
    }
    try {
      fs.renameSync(tmp, DIST);
    } catch {
      /* another build put its dist/ in place first: it is as fresh as this one */
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return Date.now() - started;
}
