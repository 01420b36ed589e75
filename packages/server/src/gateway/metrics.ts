import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Deps } from '../domain/deps.ts';
import type { RedisBus } from '../bus/redis.ts';
import type { Hub } from './hub.ts';

export interface MetricsSources {
  deps: Deps;
  hub: Hub;
  nodeId: string;
  redisBus: RedisBus | null;
  /** Sockets of this node (authenticated or not). */
  connections: () => number;
  draining: () => boolean;
  /** Users online on any node, as this node's registry sees them. */
  onlineUsers: () => Iterable<number>;
}

const ms = (v: number) => v / 1000;

/**
 * Prometheus metrics at `/metrics` (text format): connections, writes in, frames out, fan-out
 * latency, store latency, bus lag and traffic, event-loop lag, plus Node's default process metrics.
 * Each app has its own registry, so several apps in one process (tests) do not collide. Counters
 * that already exist as plain numbers (hub, writer, bus stats) are read at scrape time; only the
 * histograms are fed on the hot path, through one optional callback each. Block `/metrics` at the
 * proxy: it is for the monitoring network (docs/operations.md).
 */
export function registerMetrics(http: FastifyInstance, s: MetricsSources): void {
  // Built at the first scrape: a node nobody scrapes never loads prom-client (start-up time). The
  // histograms therefore start with the first scrape; the counters read totals since start.
  let registry: Promise<Registry> | null = null;
  const loop = monitorEventLoopDelay({ resolution: 20 });
  http.get('/metrics', async (_req, reply) => {
    registry ??= import('prom-client').then((pc) => build(pc, s, loop));
    const register = await registry;
    const body = await register.metrics();
    return reply.type(register.contentType).send(body);
  });
  http.addHook('onClose', async () => loop.disable());
}

function build(pc: typeof import('prom-client'), s: MetricsSources, loop: IntervalHistogram): Registry {
  const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = pc;
  const register = new Registry();
  register.setDefaultLabels({ node: s.nodeId });
  collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 20 });

  new Gauge({
    name: 'enclave_connections',
    help: 'Open WebSocket connections on this node (authenticated).',
    registers: [register],
    collect() {
      this.set(s.hub.size);
    },
  });
  new Gauge({
    name: 'enclave_sockets',
    help: 'Open WebSocket connections on this node, authenticated or not.',
    registers: [register],
    collect() {
      this.set(s.connections());
    },
  });
  new Gauge({
    name: 'enclave_online_users',
    help: 'Users online on any node, as this node sees them.',
    registers: [register],
    collect() {
      let n = 0;
      for (const _ of s.onlineUsers()) n++;
      this.set(n);
    },
  });
  new Gauge({
    name: 'enclave_draining',
    help: '1 while this node drains before exiting.',
    registers: [register],
    collect() {
      this.set(s.draining() ? 1 : 0);
    },
  });
  const fromStats = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [register],
      collect() {
        // prom-client counters only go up; the sources are monotonic counts since start.
        this.reset();
        this.inc(read());
      },
    });
  fromStats(
    'enclave_writes_total',
    'Writes committed (messages, edits, reactions, cursors…): messages in.',
    () => s.deps.writer.stats.jobs,
  );
  fromStats('enclave_write_batches_total', 'Group-commit transactions.', () => s.deps.writer.stats.batches);
  fromStats(
    'enclave_slow_readers_closed_total',
    'Sockets closed with 4008 overflow: their queue passed ENCLAVE_SOCKET_QUEUE_MAX_MB (the client resyncs).',
    () => s.hub.stats.slowClosed,
  );
  fromStats(
    'enclave_slow_readers_cut_total',
    'Sockets terminated because all queues together passed ENCLAVE_OUTBOUND_BUDGET_MB (the client resyncs).',
    () => s.hub.stats.slowCut,
  );
  fromStats('enclave_events_total', 'Conversation events fanned out by this node.', () => s.hub.stats.events);
  fromStats(
    'enclave_frames_out_total',
    'Durable conversation frames written to sockets: messages out.',
    () => s.hub.stats.delivered,
  );
  new Gauge({
    name: 'enclave_writer_queue',
    help: 'Writes queued or running.',
    registers: [register],
    collect() {
      this.set(s.deps.writer.inFlight);
    },
  });

  const fanout = new Histogram({
    name: 'enclave_fanout_latency_seconds',
    help: "From an event being committed to its frames being handed to this node's sockets.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [register],
  });
  s.hub.onFanout = (v) => fanout.observe(ms(Math.max(0, v)));
  const store = new Histogram({
    name: 'enclave_store_commit_seconds',
    help: 'Duration of one group-commit transaction (store latency on the write path).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [register],
  });
  s.deps.writer.onBatch = (v) => store.observe(ms(v));
  const walSyncs = s.deps.store.walSyncs;
  if (walSyncs) {
    const sync = new Histogram({
      name: 'enclave_store_wal_sync_seconds',
      help: "SQLite: one fdatasync of the WAL, which every write's acknowledgement waits for (the disk's share).",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [register],
    });
    walSyncs.observe = (v) => sync.observe(ms(v));
  }

  loop.enable();
  new Gauge({
    name: 'enclave_event_loop_lag_p99_seconds',
    help: 'p99 event-loop delay since the previous scrape.',
    registers: [register],
    collect() {
      this.set(loop.percentile(99) / 1e9);
      loop.reset();
    },
  });

  const bus = s.redisBus;
  if (bus) {
    const lag = new Histogram({
      name: 'enclave_bus_lag_seconds',
      help: 'From another node publishing a bus message to this node receiving it.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [register],
    });
    bus.onLag((v) => lag.observe(ms(Math.max(0, v))));
    new Gauge({
      name: 'enclave_redis_up',
      help: '1 while both Redis bus connections are up.',
      registers: [register],
      collect() {
        this.set(bus.connected ? 1 : 0);
      },
    });
    fromStats('enclave_bus_published_total', 'Bus messages published by this node.', () => bus.stats.published);
    fromStats('enclave_bus_received_total', 'Bus messages received from other nodes.', () => bus.stats.received);
    fromStats(
      'enclave_bus_publish_failed_total',
      'Bus messages not sent because Redis was away.',
      () => bus.stats.publishFailed,
    );
    fromStats(
      'enclave_bus_reconnects_total',
      'Times the bus connection came back (each triggers a resync).',
      () => bus.stats.reconnects,
    );
  }

  return register;
}
