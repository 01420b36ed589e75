import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EnclaveError } from '@enclave/protocol';

/**
 * The web client, served by the server itself from the built assets (packages/web/dist): no CDN.
 * Hashed files under /assets/ are cached for a year; everything else is revalidated. Any other path
 * without a file extension is a client-side route and gets index.html (SPA fallback). Unknown /api/
 * paths keep their JSON 404.
 */

/** Only same-origin scripts, styles, images, sockets and workers; no inline script, no framing. */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.webmanifest', '.svg', '.txt']);

interface Cached {
  mtimeMs: number;
  body: Buffer;
  gzip: Buffer | null;
}

/**
 * The built client: ENCLAVE_WEB_DIST, or beside the server package — found from this module's
 * directory upwards, which is src/gateway/ in the sources and dist/ in the bundle.
 */
export function defaultWebDir(): string {
  if (process.env.ENCLAVE_WEB_DIST) return process.env.ENCLAVE_WEB_DIST;
  let dir = import.meta.dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.resolve(dir, '..', 'web', 'dist');
}

export function registerWeb(http: FastifyInstance, webDir: string = defaultWebDir()): void {
  const root = path.resolve(webDir);
  const cache = new Map<string, Cached>();

  async function load(file: string): Promise<Cached | null> {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(file);
    } catch {
      return null;
    }
    if (!st.isFile()) return null;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit;
    const body = await fs.promises.readFile(file);
    const ext = path.extname(file);
    const entry: Cached = {
      mtimeMs: st.mtimeMs,
      body,
      gzip: COMPRESSIBLE.has(ext) && body.length > 1024 ? gzipSync(body) : null,
    };
    cache.set(file, entry);
    return entry;
  }

  async function send(req: FastifyRequest, reply: FastifyReply, file: string, entry: Cached) {
    const rel = path.relative(root, file);
    const ext = path.extname(file);
    void reply.header('content-type', TYPES[ext] ?? 'application/octet-stream');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header(
      'cache-control',
      rel.startsWith('assets' + path.sep) ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    if (ext === '.html') {
      void reply.header('content-security-policy', WEB_CSP);
      void reply.header('x-frame-options', 'DENY');
    }
    void reply.header('vary', 'accept-encoding');
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (entry.gzip && /\bgzip\b/.test(accepts)) {
      void reply.header('content-encoding', 'gzip');
      return reply.send(entry.gzip);
    }
    return reply.send(entry.body);
  }

  const notBuilt = `<!doctype html><meta charset="utf-8"><title>Enclave</title>
<p>The web client has not been built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it).</p>
<p>网页客户端尚未构建。请运行 <code>npm run build:web</code>（或 <code>npm start</code>，它会先构建）。</p>`;

  http.get('/*', async (req, reply) => {
    const urlPath = safeDecode((req.url.split('?')[0] ?? '/').replace(/\/+$/, '') || '/');
    if (urlPath === null) throw new EnclaveError('not_found');
    if (urlPath.startsWith('/api/') || urlPath === '/api')
      throw new EnclaveError('not_found', `No route GET ${urlPath}`);
    const file = path.resolve(root, '.' + (urlPath === '/' ? '/index.html' : urlPath));
    if (file !== root && !file.startsWith(root + path.sep)) throw new EnclaveError('not_found');
    const entry = await load(file);
    if (entry) return send(req, reply, file, entry);
    // A path with an extension is a missing file; anything else is a client-side route.
    if (path.extname(urlPath)) throw new EnclaveError('not_found', `No file ${urlPath}`);
    const index = path.join(root, 'index.html');
    const page = await load(index);
    if (page) return send(req, reply, index, page);
    void reply.header('content-security-policy', WEB_CSP);
    return reply.status(503).type('text/html; charset=utf-8').send(notBuilt);
  });
}

function safeDecode(p: string): string | null {
  try {
    const d = decodeURIComponent(p);
    return d.includes('\0') ? null : d;
  } catch {
    return null;
  }
}
