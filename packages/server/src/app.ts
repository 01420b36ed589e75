import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { pino, type Logger } from 'pino';
import { buildOpenApi, closeCodes, limits } from '@enclave/protocol';
import type { Config } from './config.ts';
import type { Bus } from './bus/bus.ts';
import { InProcessBus } from './bus/in-process.ts';
import type { ClusterNode } from './cluster/cluster-node.ts';
import { attachLifecycle } from './cluster/lifecycle.ts';
import type { Deps } from './domain/deps.ts';
import { Directory } from './domain/directory.ts';
import { MemberCache } from './domain/member-cache.ts';
import { OrgIndex } from './domain/org/org-index.ts';
import { PeopleIndex } from './domain/people/people-index.ts';
import { Presence } from './domain/presence/presence.ts';
import { MemoryPresenceRegistry } from './domain/presence/registry.ts';
import { Writer } from './domain/writer.ts';
import { createSearchIndex } from './domain/search/create-index.ts';
import { rebuildLostIndex } from './domain/search/reindex.ts';
import { identityCodec } from './lib/codec.ts';
import { PasswordHasher } from './lib/hasher.ts';
import { LoginThrottle } from './lib/throttle.ts';
import { openStore, type Store } from './store/store.ts';
import { originAllowed, tokenOf } from './gateway/auth.ts';
import { startOutboundBudget } from './gateway/backpressure.ts';
import { attachWebSocket } from './gateway/ws-upgrade.ts';
import { Connection } from './gateway/connection.ts';
import { registerRest } from './gateway/http.ts';
import { registerExport } from './gateway/export-route.ts';
import { registerWeb } from './gateway/web.ts';
import { Hub } from './gateway/hub.ts';
import { purgeDissolved } from './jobs/purge-dissolved.ts';
import { FileService } from './domain/files/file-service.ts';
import { registerFiles } from './gateway/files-http.ts';
import { startFileRetention } from './jobs/purge-files.ts';

export const VERSION = '0.1.0';

export interface App {
  http: FastifyInstance;
  deps: Deps;
  hub: Hub;
  /** The Redis bus and presence registry when REDIS_URL is set (cluster mode), else null. */
  cluster: ClusterNode | null;
  /** Graceful drain before close (SIGTERM): see cluster/lifecycle.ts. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface AppOverrides {
  store?: Store;
  bus?: Bus;
  log?: Logger;
  now?: () => number;
}

/** Build the server without listening: main.ts listens, tests listen on port 0. */
export async function buildApp(config: Config, o: AppOverrides = {}): Promise<App> {
  const log = o.log ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] });
  const store =
    o.store ??
    (await openStore(config.databaseUrl, {
      poolSize: config.dbPoolSize,
      pgPreparedStatements: config.pgPreparedStatements,
    }));
  // Loaded only in cluster mode: the Redis client costs start-up time a single node need not pay.
  const cluster =
    config.redisUrl && !o.bus ? new (await import('./cluster/cluster-node.ts')).ClusterNode(config, log) : null;
  const bus = o.bus ?? cluster?.bus ?? new InProcessBus(config.busFaults);
  const members = new MemberCache(store);
  const org = new OrgIndex(store);
  // Before listening nothing else runs on the event loop: the first load reads inline.
  await org.load(store.reader);
  // Built after the server listens (below): searches and profile changes wait for it.
  const people = new PeopleIndex(store, org, o.now ?? Date.now);
  const directory = new Directory(store);
  const hub = new Hub(members, log);
  const ports = { store, bus, config, log, directory, members };
  const presence = new Presence(ports, cluster?.registry ?? new MemoryPresenceRegistry(), hub.socketsOf);
  const deps: Deps = {
    store,
    bus,
    config,
    log,
    hasher: new PasswordHasher(),
    throttle: new LoginThrottle(),
    codec: identityCodec,
    directory,
    members,
    writer: new Writer(store, bus, log, {
      maxQueue: config.writerQueueMax,
      maxBatch: 200,
      // SQLite: one batch runs its statements while the previous one's commit reaches the disk.
      concurrency: store.kind === 'sqlite' ? 2 : 4,
    }),
    now: o.now ?? Date.now,
    org,
    people,
    search: createSearchIndex(store, log, config.searchScanWindow),
    files: new FileService(store, config),
    presence,
    onlineCount: (departmentId) => presence.onlineCount(departmentId),
    presenceOf: (userId) => presence.presenceOf(userId),
  };
  bus.subscribe(hub.onBus);
  bus.subscribe(presence.onBus);
  // Before counting: the registry's first read brings in the other nodes' online users.
  await cluster?.start();
  presence.setOrg(org);
  presence.start();

  const http = Fastify({
    // No route declares a JSON schema (bodies are checked with zod): Ajv and fast-json-stringify
    // are loaded only if one ever does, not at every start.
    schemaController: { compilersFactory: lazyCompilers() },
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: limits.maxBodyBytes,
    trustProxy: config.trustedProxies.length ? config.trustedProxies : false,
  });
  await http.register(fastifyCookie);
  http.server.once('listening', () => {
    deps.search.start?.();
    rebuildLostIndex(deps).catch((err: unknown) => log.error({ err }, 'search index rebuild failed'));
    people.load().catch((err: unknown) => log.error({ err }, 'people index load failed; retried at the next search'));
  });

  http.get('/healthz', async () => ({ status: 'ok', version: VERSION }));
  // /readyz (store and Redis), /metrics, drain and resync after a bus reconnect.
  const lifecycle = attachLifecycle({
    http,
    deps,
    hub,
    cluster,
    config,
    log,
    sockets: () => connections,
    onlineUsers: () => presence.onlineUsers(),
  });
  // Built at the first request: converting every schema to JSON Schema is not needed to start.
  let openapi: ReturnType<typeof buildOpenApi> | undefined;
  http.get('/api/openapi.json', async () => (openapi ??= buildOpenApi(VERSION)));
  await registerDocs(http);

  const connections = new Set<Connection>();
  const admission = { pending: 0 };
  const upgrades = attachWebSocket(http, {
    path: '/api/v1/ws',
    maxPayload: limits.maxFrameBytes,
    accept: () => (lifecycle.draining ? 'draining' : admission.pending >= config.maxPendingAuth ? 'busy' : null),
    onSocket: (socket, req, tcp) => {
      if (!originAllowed(req, config)) {
        socket.close(closeCodes.originNotAllowed, 'origin not allowed');
        return;
      }
      let token: string | null = null;
      try {
        token = tokenOf(req);
      } catch {
        socket.close(closeCodes.unauthenticated, 'bad authorization header');
        return;
      }
      const conn = new Connection(socket, deps, hub, token, tcp, admission);
      connections.add(conn);
      socket.on('close', () => connections.delete(conn));
    },
  });
  const beat = setInterval(() => {
    for (const c of connections) c.heartbeat();
  }, config.heartbeatMs);
  beat.unref();
  const outbound = startOutboundBudget(() => connections, config.outboundBudgetBytes, log);
  const purge = setInterval(() => {
    purgeDissolved(deps, config.purgeDissolvedAfterMs).catch((err: unknown) => log.error({ err }, 'purge failed'));
  }, 3_600_000);
  purge.unref();

  registerRest(http, deps);
  registerExport(http, deps);
  registerWeb(http);
  await registerFiles(http, deps);
  const stopFileRetention = startFileRetention(deps);

  return {
    http,
    deps,
    hub,
    cluster,
    drain: () => lifecycle.drain(),
    async close() {
      clearInterval(beat);
      outbound.stop();
      upgrades.close();
      lifecycle.stop();
      presence.stop();
      clearInterval(purge);
      stopFileRetention();
      for (const c of connections)
        c.close(closeCodes.shutdown, 'shutdown', JSON.stringify({ ev: 'closing', data: { reason: 'shutdown' } }));
      await http.close();
      // Let queued writes finish before the store goes away.
      for (let i = 0; i < 200 && deps.writer.pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
      await cluster?.leave();
      await bus.close();
      await deps.files.blobs.close();
      await people.settled();
      await deps.search.close?.();
      if (!o.store) await store.close();
    },
  };
}

/** Fastify's default schema compilers, required from Fastify's own dependencies when first used. */
function lazyCompilers() {
  const fromFastify = () => createRequire(createRequire(import.meta.url).resolve('fastify'));
  type Factory = (...args: unknown[]) => unknown;
  let validator: Factory | undefined;
  let serializer: Factory | undefined;
  return {
    buildValidator: (...args: unknown[]) =>
      (validator ??= (fromFastify()('@fastify/ajv-compiler') as () => Factory)())(...args),
    buildSerializer: (...args: unknown[]) =>
      (serializer ??= (fromFastify()('@fastify/fast-json-stringify-compiler') as () => Factory)())(...args),
  } as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
}

/** Swagger UI from the bundled swagger-ui-dist package: no CDN. */
async function registerDocs(http: FastifyInstance) {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  // Its few files by name (no directories): a static-file plugin would cost start-up time for them.
  const types: Record<string, string> = {
    '.js': 'application/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.html': 'text/html; charset=utf-8',
    '.map': 'application/json',
    '.png': 'image/png',
  };
  http.get('/api/docs/assets/:name', async (req, reply) => {
    const name = (req.params as { name: string }).name;
    const type = types[path.extname(name)];
    if (!type || !/^[\w.-]+$/.test(name) || name.startsWith('.')) return reply.callNotFound();
    let body: Buffer;
    try {
      body = await fs.promises.readFile(path.join(root, name));
    } catch {
      return reply.callNotFound();
    }
    return reply.type(type).header('cache-control', 'public, max-age=3600').send(body);
  });
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>Enclave API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>`;
  const init = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#ui' });`;
  http.get('/api/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
  http.get('/api/docs/init.js', async (_req, reply) => reply.type('application/javascript').send(init));
  if (!fs.existsSync(path.join(root, 'swagger-ui-bundle.js'))) throw new Error('swagger-ui-dist assets missing');
}
