/**
 * Shared helpers of the benchmark: percentiles, /proc sampling (process RSS/CPU, machine CPU and
 * steal), the clock every generator process shares, flag parsing, loopback checks, table printing.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * Milliseconds on CLOCK_MONOTONIC. `performance.now()` and `process.hrtime` both read it (libuv
 * uv_hrtime), so the offset below makes the value comparable across processes on this machine:
 * a generator stamps the intended send time, another generator's receipt time is subtracted from it.
 */
const OFFSET = Number(process.hrtime.bigint()) / 1e6 - performance.now();
export const nowMs = (): number => performance.now() + OFFSET;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function pct(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function summary(values: ArrayLike<number>): Summary {
  const s = Float64Array.from(values).sort();
  return {
    n: s.length,
    p50: pct(s, 50),
    p90: pct(s, 90),
    p99: pct(s, 99),
    p999: pct(s, 99.9),
    max: s.length ? s[s.length - 1]! : NaN,
  };
}

/**
 * The p99 latency of each second of a step, by intended send time, and of the step without its first
 * second (when every conversation is met for the first time since start-up and the path is cold).
 */
export function p99BySecond(at: ArrayLike<number>, lat: ArrayLike<number>): { each: number[]; after: number } {
  let t0 = Infinity;
  for (let i = 0; i < at.length; i++) t0 = Math.min(t0, at[i]!);
  const buckets: number[][] = [];
  const after: number[] = [];
  for (let i = 0; i < at.length; i++) {
    const b = Math.floor((at[i]! - t0) / 1000);
    (buckets[b] ??= []).push(lat[i]!);
    if (b > 0) after.push(lat[i]!);
  }
  return { each: Array.from(buckets, (v) => summary(v ?? []).p99), after: summary(after).p99 };
}

const CLK = 100; // USER_HZ

/** utime + stime of a whole process (all its threads), in seconds. */
export function procCpuSecs(pid: number): number {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK;
  } catch {
    return NaN;
  }
}

export function procRssMB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Whole machine from /proc/stat: busy = user+nice+system+irq+softirq; steal separately. */
export function machineTicks(): { busy: number; steal: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { busy: f[0]! + f[1]! + f[2]! + f[5]! + f[6]!, steal: f[7] ?? 0 };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

export interface CpuReading {
  secs: number;
  server_cores: number;
  client_cores: number;
  machine_busy_cores: number;
  machine_steal_cores: number;
}

/** CPU used since construction, in cores (1.0 = one core busy): server pid, generator pids, machine. */
export class CpuMeter {
  private readonly t = performance.now();
  private readonly server: number;
  private readonly clients: number;
  private readonly m = machineTicks();

  constructor(
    private readonly serverPid: number,
    private readonly clientPids: () => number[],
  ) {
    this.server = procCpuSecs(serverPid);
    this.clients = this.sumClients();
  }

  private sumClients(): number {
    return this.clientPids().reduce((a, pid) => a + procCpuSecs(pid), 0);
  }

  read(): CpuReading {
    const secs = (performance.now() - this.t) / 1000;
    const m = machineTicks();
    return {
      secs,
      server_cores: (procCpuSecs(this.serverPid) - this.server) / secs,
      client_cores: (this.sumClients() - this.clients) / secs,
      machine_busy_cores: (m.busy - this.m.busy) / CLK / secs,
      machine_steal_cores: (m.steal - this.m.steal) / CLK / secs,
    };
  }
}

export type Flags = Record<string, string | true>;

/** `--key value`, `--key=value`, `--flag`; positional arguments are returned separately. */
export function parseArgs(argv: string[]): { positional: string[]; flags: Flags } {
  const positional: string[] = [];
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags[a.slice(2)] = argv[++i]!;
    else flags[a.slice(2)] = true;
  }
  return { positional, flags };
}

export function assertLoopback(host: string): void {
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== '::1') throw new Error(`refusing non-loopback address ${host}`);
}

export const f = (x: number | undefined, d = 1): string =>
  typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : 'n/a';

/** A markdown table (it reads as a plain table in a terminal too). */
export function table(head: string[], rows: (string | number)[][]): string {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---:').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export const log = (...a: unknown[]) => console.error(`[${process.uptime().toFixed(1)}s]`, ...a);
