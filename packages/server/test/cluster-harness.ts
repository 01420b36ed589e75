/**
 * Cluster test support: real server processes (`enclave start --cluster`) on loopback ports, a private
 * redis-server and nginx from Debian in front, each a child process with its own temp dir, so a test
 * can `kill -9` a node or restart Redis without touching anything shared.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD } from './harness.ts';

const bin = fileURLToPath(new URL('../bin/enclave.mjs', import.meta.url));

export const hasBinary = (name: string) =>
  ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'].some((d) => fs.existsSync(path.join(d, name)));

/**
 * A port that is free now and stays so while the nodes start: picked below the kernel's ephemeral
 * range (32768–60999 by default), which port 0 and every outgoing connection draw from — a port
 * taken from there could be handed to another process's socket before the node binds it (seen once:
 * EADDRINUSE with other suites running beside this one).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000–31999');
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A private redis-server (no persistence) that can be killed and started again on the same port. */
export class PrivateRedis {
  child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.up();
    return r;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await waitForPort(this.port, 10_000);
  }

  /** SIGKILL: every key and subscription is gone. */
  async kill(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c) return;
    c.kill('SIGKILL');
    await exited(c);
  }
}

export interface NodeProcess {
  id: string;
  port: number;
  url: string;
  wsUrl: string;
  child: ChildProcess;
}

export interface NodeOptions {
  id: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  env?: Record<string, string>;
}

/** `enclave start --cluster` as a child; resolves when it printed its JSON start line. */
export async function startNode(o: NodeOptions): Promise<NodeProcess> {
  const args = [bin, 'start', '--cluster', '--port', String(o.port), '--host', '127.0.0.1', '--json'];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      REDIS_URL: o.redisUrl,
      ENCLAVE_NODE_ID: o.id,
      ENCLAVE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ENCLAVE_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), `enclave-${o.id}-`)),
      LOG_LEVEL: 'error',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.id} did not start`)), 90_000);
    lines.on('line', (line) => {
      if (line.startsWith('{') && line.includes('"url"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${o.id} exited early (${code})`));
    });
  });
  const url = `http://127.0.0.1:${o.port}`;
  return { id: o.id, port: o.port, url, wsUrl: `ws://127.0.0.1:${o.port}/api/v1/ws`, child };
}

export async function kill9(n: { child: ChildProcess }): Promise<void> {
  n.child.kill('SIGKILL');
  await exited(n.child);
}

/** SIGTERM and wait for the exit code (a drained node exits 0). */
export async function terminate(n: { child: ChildProcess }): Promise<number | null> {
  n.child.kill('SIGTERM');
  return exited(n.child);
}

/** nginx from Debian in front of the nodes: private prefix and config, not a daemon, on a free port. */
export class Nginx {
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly child: ChildProcess,
  ) {}

  static async start(upstreams: number[]): Promise<Nginx> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-nginx-'));
    fs.chmodSync(dir, 0o755);
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) {
      fs.mkdirSync(path.join(dir, d));
      fs.chmodSync(path.join(dir, d), 0o777);
    }
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir, port, upstreams));
    const check = spawnSync(
      'nginx',
      ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'logs/error.log')],
      {
        encoding: 'utf8',
      },
    );
    if (check.status !== 0) throw new Error(`nginx config: ${check.stderr}`);
    const child = spawn(
      'nginx',
      ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'logs/error.log')],
      {
        stdio: 'ignore',
      },
    );
    await waitForPort(port, 10_000);
    return new Nginx(port, dir, child);
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/api/v1/ws`;
  }

  async stop(): Promise<void> {
    this.child.kill('SIGQUIT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited(this.child);
    clearTimeout(timer);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The reference proxy settings of docs/operations.md, shrunk to a test: short failure windows. */
function nginxConfig(dir: string, port: number, upstreams: number[]): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream enclave {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=3s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://enclave;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_connect_timeout 1s;
      proxy_read_timeout 75s;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 3;
    }
  }
}
`;
}
