import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { RedisBus } from '../bus/redis.ts';
import { RedisPresenceRegistry } from '../domain/presence/redis-registry.ts';

/**
 * The distributed parts of one cluster node (docs/architecture.md "Cluster"): the Redis bus and the
 * Redis presence registry, sharing the bus's command connection. Redis is never the system of
 * record — every durable event is committed to the store before it is published — so a node starts
 * and keeps serving its own sockets while Redis is away, and heals when it returns.
 */
export class ClusterNode {
  readonly bus: RedisBus;
  readonly registry: RedisPresenceRegistry;

  constructor(
    readonly config: Config,
    private readonly log: Logger,
  ) {
    this.bus = new RedisBus({
      url: config.redisUrl!,
      nodeId: config.nodeId,
      channel: `${config.redisPrefix}:bus`,
      log,
    });
    this.registry = new RedisPresenceRegistry({
      redis: this.bus.pub,
      nodeId: config.nodeId,
      prefix: config.redisPrefix,
      beatMs: config.clusterBeatMs,
      log,
    });
  }

  async start(): Promise<void> {
    await this.bus.start();
    await this.registry.start();
    this.log.info({ node: this.config.nodeId, redis: this.bus.connected }, 'cluster node started');
  }

  /** Redis answers within `timeoutMs`? (`/readyz`) */
  async redisReady(timeoutMs = 1_000): Promise<boolean> {
    if (!this.bus.connected) return false;
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref());
    return Promise.race([
      this.bus.ping().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  }

  /** Leave the cluster: remove this node's presence hash (its users go offline unless elsewhere). */
  async leave(): Promise<void> {
    await this.registry.stop();
  }

  async close(): Promise<void> {
    await this.registry.stop();
    await this.bus.close();
  }
}
