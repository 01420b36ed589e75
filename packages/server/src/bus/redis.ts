import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Bus, BusMessage } from './bus.ts';

export interface RedisBusOptions {
  url: string;
  /** This node's id: a node skips its own messages (it delivered them locally already). */
  nodeId: string;
  /** Pub/sub channel; every node of one cluster uses the same one. */
  channel?: string;
  log: Logger;
}

/** What travels on the channel: origin node, publish time (bus lag) and the message. */
interface Envelope {
  n: string;
  at: number;
  m: BusMessage;
}

/**
 * The Bus port over Redis pub/sub: one channel, every node gets every message and filters locally
 * (docs/architecture.md "The Bus port"). The live path stays in process: a message is delivered to
 * this node's own subscribers on the next tick and published to Redis for the others, so a node keeps
 * serving its own sockets while Redis is away. Redis pub/sub is at-most-once — messages published
 * while a connection is down are lost — so when the subscriber connection returns, `onReconnect`
 * listeners run (the app sends a jittered `resync` to its sockets and re-checks their sessions).
 */
export class RedisBus implements Bus {
  readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channel: string;
  private readonly handlers: ((msg: BusMessage) => void)[] = [];
  private readonly remoteHandlers: ((msg: BusMessage) => void)[] = [];
  private readonly reconnectListeners: (() => void)[] = [];
  private readonly lagListeners: ((ms: number) => void)[] = [];
  private everReady = false;
  private down = false;
  private closed = false;
  stats = { published: 0, received: 0, publishFailed: 0, reconnects: 0, malformed: 0 };

  constructor(private readonly o: RedisBusOptions) {
    this.channel = o.channel ?? 'enclave:bus';
    const retryStrategy = (times: number) => Math.min(100 * times, 2_000);
    // Publishing never queues: a message that cannot go now is lost (clients heal by seq), and a
    // queue replayed minutes later would only add stale frames.
    this.pub = new Redis(o.url, { retryStrategy, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.sub = new Redis(o.url, { retryStrategy, autoResubscribe: true, maxRetriesPerRequest: null });
    this.pub.on('error', (err: Error) => o.log.debug({ err }, 'redis publisher error'));
    this.sub.on('error', (err: Error) => o.log.debug({ err }, 'redis subscriber error'));
    this.sub.on('close', () => {
      if (this.everReady && !this.down && !this.closed) o.log.warn('redis bus connection lost');
      if (this.everReady) this.down = true;
    });
    this.sub.on('ready', () => {
      if (this.everReady && this.down) {
        this.down = false;
        this.stats.reconnects++;
        o.log.warn('redis bus connection back; resyncing sockets');
        for (const l of this.reconnectListeners) l();
      }
      this.everReady = true;
    });
    this.sub.on('message', (_channel: string, text: string) => this.onMessage(text));
  }

  /** Connect and subscribe; waits up to `timeoutMs` for Redis, then goes on (it keeps retrying). */
  async start(timeoutMs = 5_000): Promise<boolean> {
    const subscribed = this.sub.subscribe(this.channel).then(
      () => true,
      () => false,
    );
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref());
    const ok = await Promise.race([subscribed, timeout]);
    if (!ok) this.o.log.warn('redis is not reachable yet; this node serves its own sockets until it is');
    return ok;
  }

  /** True while both connections are up. */
  get connected(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  /** Run `fn` each time the subscriber connection returns after a loss (not on the first connect). */
  onReconnect(fn: () => void): void {
    this.reconnectListeners.push(fn);
  }

  /** Observe publish → receive delay of messages from other nodes, in ms. */
  onLag(fn: (ms: number) => void): void {
    this.lagListeners.push(fn);
  }

  async ping(): Promise<void> {
    await this.pub.ping();
  }

  publish(msg: BusMessage): void {
    this.stats.published++;
    setImmediate(() => this.deliver(msg));
    if (this.pub.status !== 'ready') {
      this.stats.publishFailed++;
      return;
    }
    let text: string;
    try {
      text = JSON.stringify({ n: this.o.nodeId, at: Date.now(), m: msg } satisfies Envelope);
    } catch (err) {
      // Never thrown into the writer's publish loop: the event is committed; other nodes heal by seq.
      this.stats.publishFailed++;
      this.o.log.error({ err, t: msg.t }, 'bus message not serialisable');
      return;
    }
    this.pub.publish(this.channel, text).catch(() => {
      this.stats.publishFailed++;
    });
  }

  private onMessage(text: string) {
    let env: Envelope;
    try {
      env = JSON.parse(text) as Envelope;
    } catch {
      this.stats.malformed++;
      return;
    }
    if (env.n === this.o.nodeId || typeof env.m !== 'object' || env.m === null) return;
    this.stats.received++;
    const lag = Date.now() - env.at;
    for (const l of this.lagListeners) l(lag);
    this.deliver(env.m);
    for (const h of this.remoteHandlers) h(env.m);
  }

  private deliver(msg: BusMessage) {
    for (const h of this.handlers) {
      try {
        h(msg);
      } catch (err) {
        this.o.log.error({ err }, 'bus handler failed');
      }
    }
  }

  subscribe(handler: (msg: BusMessage) => void): void {
    this.handlers.push(handler);
  }

  /** Only messages from other nodes (cluster bookkeeping such as `org`). */
  subscribeRemote(handler: (msg: BusMessage) => void): void {
    this.remoteHandlers.push(handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
