import os from 'node:os';
import path from 'node:path';
import { limits } from '@enclave/protocol';
import { loadFilesConfig, type FilesConfig } from './domain/files/files-config.ts';

/** Server configuration, read once from the environment and command-line flags. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** `sqlite:<file>` (default, under dataDir), `postgres://…` or `mysql://…`. */
  databaseUrl: string;
  publicUrl: string | null;
  trustedProxies: string[];
  adminPassword: string | null;
  recallWindowMs: number;
  /** Owners/admins may recall other members' messages. */
  adminsMayRecall: boolean;
  heartbeatMs: number;
  /** Bytes queued for all slow sockets together before the slowest are dropped (ENCLAVE_OUTBOUND_BUDGET_MB). */
  outboundBudgetBytes: number;
  /** Bytes queued for one socket before it is closed with `overflow` (ENCLAVE_SOCKET_QUEUE_MAX_MB). */
  socketQueueMaxBytes: number;
  authTimeoutMs: number;
  /**
   * Sockets accepted but not yet authenticated, at most (ENCLAVE_MAX_PENDING_AUTH): past it an
   * upgrade gets 503 with Retry-After, so a reconnect storm queues in the clients' backoff instead
   * of in this process.
   */
  maxPendingAuth: number;
  /** In-process bus fault injection: fraction of durable events dropped/reordered/delayed. */
  busFaults: number;
  writerQueueMax: number;
  logLevel: string;
  dbPoolSize: number;
  /** PostgreSQL: hot statements become named prepared statements (off behind a transaction-mode pooler). */
  pgPreparedStatements: boolean;
  /** Recalled bodies move to the compliance archive instead of being erased. */
  archiveRecalled: boolean;
  /** Dissolved groups' data is purged this long after dissolution. */
  purgeDissolvedAfterMs: number;
  /** Profile fields users may edit themselves (ENCLAVE_PROFILE_SELF_EDIT, comma list). */
  profileSelfEdit: string[];
  /** A socket silent this long (no frame, no pong) is offline and dropped. */
  presenceTimeoutMs: number;
  /** Department online counts reach subscribers at most once per this window. */
  departmentUpdateMs: number;
  /** Typing is forwarded in 1:1 and in groups up to this many members. */
  typingMaxMembers: number;
  /** At most one typing frame per socket per this interval is forwarded. */
  typingIntervalMs: number;
  /**
   * PostgreSQL and MySQL search: the ids of the newest messages a search reads first, checking each
   * row's text before it asks the full-text index (domain/search/port.ts `newestFirst`); 0: the index alone.
   */
  searchScanWindow: number;
  /** Cluster mode (`--cluster` or ENCLAVE_CLUSTER=true): Redis bus and presence; needs REDIS_URL. */
  cluster: boolean;
  /** `redis://…`; set → the Redis bus and presence registry are used. */
  redisUrl: string | null;
  /** This node's id in the cluster (ENCLAVE_NODE_ID; default host name + pid). */
  nodeId: string;
  /** Prefix of every Redis key and channel (several clusters may share one Redis). */
  redisPrefix: string;
  /** How often a node re-asserts its presence hash and reads the others' (TTL = 3×). */
  clusterBeatMs: number;
  /** After a bus reconnect, `resync` frames are spread over this window. */
  resyncJitterMs: number;
  /** Graceful drain: sockets are closed spread over this window, then writes finish. */
  drainMs: number;
  /** Files: blob storage, retention, size default, office converter (domain/files/files-config.ts). */
  files: FilesConfig;
}

type Flags = Record<string, string | boolean>;

export function parseFlags(argv: string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (v !== undefined) flags[k] = v;
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags[k] = argv[++i]!;
    else flags[k] = true;
  }
  return { positional, flags };
}

const num = (v: string | undefined, d: number) => (v === undefined || v === '' ? d : Number(v));

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: Flags = {}): Config {
  const str = (flag: string, name: string) => (typeof flags[flag] === 'string' ? (flags[flag] as string) : env[name]);
  const dataDir = path.resolve(str('data', 'ENCLAVE_DATA_DIR') ?? './data');
  const config: Config = {
    port: num(str('port', 'PORT'), 8080),
    host: str('host', 'HOST') ?? '0.0.0.0',
    dataDir,
    databaseUrl: str('database-url', 'DATABASE_URL') ?? `sqlite:${path.join(dataDir, 'enclave.db')}`,
    publicUrl: str('public-url', 'PUBLIC_URL') ?? null,
    trustedProxies: (env.TRUSTED_PROXIES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    adminPassword: env.ENCLAVE_ADMIN_PASSWORD ?? null,
    recallWindowMs: num(env.ENCLAVE_RECALL_WINDOW_MS, 120_000),
    adminsMayRecall: env.ENCLAVE_ADMINS_MAY_RECALL !== 'false',
    heartbeatMs: num(env.ENCLAVE_HEARTBEAT_MS, 25_000),
    outboundBudgetBytes: num(env.ENCLAVE_OUTBOUND_BUDGET_MB, 256) * 1024 * 1024,
    socketQueueMaxBytes: num(env.ENCLAVE_SOCKET_QUEUE_MAX_MB, 8) * 1024 * 1024,
    authTimeoutMs: num(env.ENCLAVE_AUTH_TIMEOUT_MS, 5_000),
    maxPendingAuth: num(env.ENCLAVE_MAX_PENDING_AUTH, 1_000),
    busFaults: num(env.ENCLAVE_BUS_FAULTS, 0),
    writerQueueMax: num(env.ENCLAVE_WRITER_QUEUE_MAX, 10_000),
    logLevel: str('log-level', 'LOG_LEVEL') ?? 'info',
    dbPoolSize: num(env.ENCLAVE_DB_POOL, 10),
    pgPreparedStatements: env.ENCLAVE_PG_PREPARED_STATEMENTS !== 'false',
    archiveRecalled: env.ENCLAVE_ARCHIVE_RECALLED === 'true',
    purgeDissolvedAfterMs: num(env.ENCLAVE_PURGE_DISSOLVED_DAYS, 30) * 86_400_000,
    presenceTimeoutMs: num(env.ENCLAVE_PRESENCE_TIMEOUT_MS, 90_000),
    departmentUpdateMs: num(env.ENCLAVE_DEPARTMENT_UPDATE_MS, 5_000),
    typingMaxMembers: num(env.ENCLAVE_TYPING_MAX_MEMBERS, limits.typingMaxMembers),
    typingIntervalMs: limits.typingIntervalMs,
    searchScanWindow: num(env.ENCLAVE_SEARCH_SCAN_WINDOW, 2_000),
    cluster: flags.cluster === true || env.ENCLAVE_CLUSTER === 'true',
    redisUrl: str('redis-url', 'REDIS_URL') ?? null,
    nodeId: str('node-id', 'ENCLAVE_NODE_ID') ?? `${os.hostname()}-${process.pid}`,
    redisPrefix: env.ENCLAVE_REDIS_PREFIX ?? 'enclave',
    clusterBeatMs: num(env.ENCLAVE_CLUSTER_BEAT_MS, 2_000),
    resyncJitterMs: num(env.ENCLAVE_RESYNC_JITTER_MS, 5_000),
    drainMs: num(env.ENCLAVE_DRAIN_MS, 10_000),
    files: loadFilesConfig(env),
    profileSelfEdit: (env.ENCLAVE_PROFILE_SELF_EDIT ?? 'displayName,phone,email,avatarId')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535)
    throw new Error(`PORT must be 0..65535, got ${String(config.port)}`);
  if (!Number.isInteger(config.searchScanWindow) || config.searchScanWindow < 0)
    throw new Error(`ENCLAVE_SEARCH_SCAN_WINDOW must be a whole number ≥ 0, got ${String(config.searchScanWindow)}`);
  if (config.cluster && !config.redisUrl) throw new Error('Cluster mode needs REDIS_URL (redis://host:6379).');
  if (config.cluster && config.databaseUrl.startsWith('sqlite:'))
    throw new Error('Cluster mode needs a shared database: set DATABASE_URL to postgres://… or mysql://….');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(config.nodeId))
    throw new Error('ENCLAVE_NODE_ID must be 1–64 characters of letters, digits, _ . : -');
  return config;
}
