import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { closeCodes } from '@enclave/protocol';
import type { Config } from '../config.ts';
import type { Deps } from '../domain/deps.ts';
import type { Hub } from '../gateway/hub.ts';
import { registerMetrics } from '../gateway/metrics.ts';
import type { ClusterNode } from './cluster-node.ts';
import { syncOrgAcrossNodes } from './org-sync.ts';
import { recheckSessions, resyncSockets } from './resync.ts';

export interface LifecycleParts {
  http: FastifyInstance;
  deps: Deps;
  hub: Hub;
  cluster: ClusterNode | null;
  config: Config;
  log: Logger;
  /** Every open socket of this node, authenticated or not. */
  sockets: () => Iterable<{ close(code: number, reason: string, frame?: string): void }>;
  onlineUsers: () => Iterable<number>;
}

export interface Lifecycle {
  readonly draining: boolean;
  /**
   * Graceful drain (SIGTERM, rolling restart): `/readyz` turns 503 so the load balancer stops sending
   * new connections, new WebSocket upgrades get 503 (`draining` is the upgrade handler's `accept`
   * gate; the proxy retries another node), open sockets get
   * `closing {reason:"shutdown"}` spread over `drainMs` (the SDK reconnects with full-jitter backoff,
   * through the proxy, to another node), queued writes finish, and the node leaves the presence
   * registry. The caller then closes the app.
   */
  drain(): Promise<void>;
  stop(): void;
}

const SHUTDOWN_FRAME = JSON.stringify({ ev: 'closing', data: { reason: 'shutdown' } });

/** Health, readiness, metrics, resync after a bus reconnect and drain: how a node lives in a cluster. */
export function attachLifecycle(p: LifecycleParts): Lifecycle {
  let draining = false;
  let resyncTimers = new Set<NodeJS.Timeout>();
  const { http, deps, cluster, config, log } = p;

  http.get('/readyz', async (_req, reply) => {
    const body: Record<string, unknown> = { status: 'ready', node: config.nodeId, store: deps.store.kind };
    let ok = true;
    try {
      await deps.store.ping();
      body.storeUp = true;
    } catch {
      body.storeUp = false;
      ok = false;
    }
    if (cluster) {
      // A node without Redis still serves its own sockets, but the load balancer should prefer others.
      body.redis = (await cluster.redisReady()) ? 'up' : 'down';
      if (body.redis === 'down') ok = false;
    }
    if (draining) {
      body.status = 'draining';
      return reply.status(503).send(body);
    }
    if (!ok) body.status = 'unavailable';
    return reply.status(ok ? 200 : 503).send(body);
  });

  registerMetrics(http, {
    deps,
    hub: p.hub,
    nodeId: config.nodeId,
    redisBus: cluster?.bus ?? null,
    connections: () => {
      let n = 0;
      for (const _ of p.sockets()) n++;
      return n;
    },
    draining: () => draining,
    onlineUsers: p.onlineUsers,
  });

  const stopOrgSync = cluster ? syncOrgAcrossNodes(cluster.bus, deps.org, log) : () => undefined;
  cluster?.bus.onReconnect(() => {
    resyncTimers = resyncSockets(p.hub, config.resyncJitterMs);
    cluster.registry.refresh();
    recheckSessions(deps, p.hub).then(
      (n) => n && log.warn({ closed: n }, 'closed sockets of sessions revoked while the bus was away'),
      (err: unknown) => log.error({ err }, 'session recheck failed'),
    );
  });

  return {
    get draining() {
      return draining;
    },
    async drain() {
      if (draining) return;
      draining = true;
      const started = Date.now();
      const sockets = [...p.sockets()];
      log.info({ sockets: sockets.length, windowMs: config.drainMs }, 'draining');
      // Spread the closes evenly over the window, in random order, so reconnects arrive as a stream.
      for (let i = sockets.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [sockets[i], sockets[j]] = [sockets[j]!, sockets[i]!];
      }
      const step = sockets.length ? config.drainMs / sockets.length : 0;
      for (let i = 0; i < sockets.length; i++) {
        const due = started + i * step;
        const wait = due - Date.now();
        if (wait > 5) await new Promise((r) => setTimeout(r, wait));
        sockets[i]!.close(closeCodes.shutdown, 'shutdown', SHUTDOWN_FRAME);
      }
      // In-flight writes finish (their acks may be lost with the socket; the SDK's outbox resends with
      // the same clientMsgId and gets the original ack from another node).
      for (let i = 0; i < 500 && deps.writer.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
      await cluster?.leave();
      log.info({ ms: Date.now() - started }, 'drained');
    },
    stop() {
      stopOrgSync();
      for (const t of resyncTimers) clearTimeout(t);
      resyncTimers.clear();
    },
  };
}
