import fs from 'node:fs';

/**
 * Diagnostics: `ENCLAVE_SQL_TIMING=<file>` makes the SQLite connections on the event loop time every
 * statement, and every 2 s writes `<file>.<pid>` with the 40 costliest statement texts: runs, total
 * µs, µs per run, text. Off (one null check per statement) unless set. For finding where a
 * benchmark's SQLite time goes; not for production.
 */
const file = process.env.ENCLAVE_SQL_TIMING;
const totals: Map<string, { n: number; ns: bigint }> | null = file ? new Map() : null;

if (totals)
  setInterval(() => {
    const rows = [...totals.entries()].sort((a, b) => (b[1].ns > a[1].ns ? 1 : -1)).slice(0, 40);
    const us = (ns: bigint) => Number(ns / 1000n);
    fs.writeFileSync(
      `${file}.${process.pid}`,
      rows.map(([sql, v]) => `${v.n}\t${us(v.ns)}\t${(us(v.ns) / v.n).toFixed(1)}\t${sql}`).join('\n') + '\n',
    );
  }, 2_000).unref();

/** The start of a timed statement, or 0n when timing is off. */
export function sqlTimingStart(): bigint {
  return totals ? process.hrtime.bigint() : 0n;
}

export function sqlTimingEnd(sql: string, started: bigint): void {
  if (!totals) return;
  const key = sql.length > 4000 ? sql.slice(0, 4000) : sql;
  const e = totals.get(key);
  const ns = process.hrtime.bigint() - started;
  if (e) {
    e.n++;
    e.ns += ns;
  } else totals.set(key, { n: 1, ns });
}
