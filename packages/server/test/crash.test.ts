/**
 * kill -9 under load (SQLite): after each restart every acknowledged clientMsgId is present exactly
 * once, at the seq its ack named, and every conversation's seqs are gap-free. The ack is sent only
 * after the commit (WAL, synchronous=FULL), so a crash can lose only what was never acknowledged.
 * The search index, worked from a queue committed with each message, has each of them exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, http, text, WsClient } from './harness.ts';

const bin = fileURLToPath(new URL('../bin/enclave.mjs', import.meta.url));

interface Running {
  child: ChildProcess;
  url: string;
  wsUrl: string;
}

async function startChild(dir: string): Promise<Running> {
  const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--host', '127.0.0.1', '--data', dir, '--json'], {
    env: { ...process.env, ENCLAVE_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 30_000);
    lines.on('line', (line) => {
      try {
        const info = JSON.parse(line) as { url?: string };
        if (info.url) {
          clearTimeout(timer);
          resolve(info.url);
        }
      } catch {
        /* a log line */
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
  return { child, url, wsUrl: url.replace(/^http/, 'ws') + '/api/v1/ws' };
}

function kill9(r: Running): Promise<void> {
  return new Promise((resolve) => {
    r.child.once('exit', () => resolve());
    r.child.kill('SIGKILL');
  });
}

describe('kill -9 under 200-client load (SQLite)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-crash-'));
  let running: Running | null = null;
  afterAll(async () => {
    if (running) await kill9(running);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged message and duplicates none across 5 crashes', async () => {
    running = await startChild(dir);
    const admin = await http<{ token: string }>(running, 'POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    const users: { id: string; token: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const username = `crash${i}`;
      const password = `Crash-pass-${i}`;
      const u = await http<{ id: string }>(running, 'POST', '/api/v1/admin/users', {
        token: admin.body.token,
        body: { username, displayName: username, password, mustChangePassword: false },
      });
      const s = await http<{ token: string }>(running, 'POST', '/api/v1/auth/login', { body: { username, password } });
      users.push({ id: u.body.id, token: s.body.token });
    }
    // 10 groups of 5.
    const groupOf: string[] = [];
    for (let g = 0; g < 10; g++) {
      const owner = users[g * 5]!;
      const r = await http<{ id: string }>(running, 'POST', '/api/v1/groups', {
        token: owner.token,
        body: { name: `crash group ${g}`, memberIds: users.slice(g * 5 + 1, g * 5 + 5).map((u) => u.id) },
      });
      for (let k = 0; k < 5; k++) groupOf[g * 5 + k] = r.body.id;
    }

    const acked = new Map<string, { seq: number; user: number; conv: string }>();
    /** Per socket: the message in flight when the server died (resent with the same id next round). */
    const inFlight = new Map<number, { cmid: string; body: string }>();
    let counter = 0;

    for (let round = 0; round < 5; round++) {
      if (!running) running = await startChild(dir);
      const r = running;
      // 200 sockets: 4 per user.
      const sockets = await Promise.all(
        Array.from({ length: 200 }, (_, i) => WsClient.connect(r, users[i % 50]!.token)),
      );
      let dead = false;
      const loops = sockets.map(async (ws, i) => {
        const userIdx = i % 50;
        const conv = groupOf[userIdx]!;
        while (!dead) {
          const next = inFlight.get(i) ?? { cmid: `c${i}-${++counter}`, body: `round ${round} msg ${counter}` };
          inFlight.set(i, next);
          let f;
          try {
            f = await ws.request(
              'message.send',
              { conversationId: conv, clientMsgId: next.cmid, content: text(next.body) },
              5_000,
            );
          } catch {
            return; // the server died: this message stays in flight
          }
          if (f.ok) {
            const seq = (f.data as { seq: number }).seq;
            const prior = acked.get(next.cmid);
            if (prior) expect(prior.seq).toBe(seq); // a resend after a crash returns the original ack
            acked.set(next.cmid, { seq, user: userIdx, conv });
            inFlight.delete(i);
          } else if (f.error?.code !== 'server_busy') {
            throw new Error(`send failed: ${JSON.stringify(f.error)}`);
          }
        }
      });
      await new Promise((res) => setTimeout(res, 300 + Math.random() * 1_200));
      dead = true;
      await kill9(r);
      running = null;
      await Promise.all(loops);
      for (const s of sockets) s.ws.terminate();
    }

    running = await startChild(dir);
    expect(acked.size).toBeGreaterThan(200);
    // Every member reads their group's full history; each sender sees their own clientMsgIds.
    const found = new Map<string, number[]>();
    const seqsByConv = new Map<string, number[]>();
    const messageSeqs = new Map<string, number[]>();
    for (let u = 0; u < 50; u++) {
      const conv = groupOf[u]!;
      let after = 0;
      const seqs: number[] = [];
      for (;;) {
        const page = await http<{
          events: { seq: number; message: { clientMsgId?: string } | null }[];
          hasMore: boolean;
        }>(running, 'GET', `/api/v1/conversations/${conv}/events?after=${after}&limit=200`, { token: users[u]!.token });
        for (const e of page.body.events) {
          seqs.push(e.seq);
          const cmid = e.message?.clientMsgId;
          if (cmid) found.set(cmid, [...(found.get(cmid) ?? []), e.seq]);
          if (e.message && u % 5 === 0) messageSeqs.set(conv, [...(messageSeqs.get(conv) ?? []), e.seq]);
        }
        if (!page.body.hasMore) break;
        after = page.body.events.at(-1)!.seq;
      }
      seqsByConv.set(conv, seqs);
    }
    for (const [cmid, a] of acked) expect(found.get(cmid), cmid).toEqual([a.seq]);
    for (const seqs of seqsByConv.values()) expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));

    // Search finds every stored message of each group once: none lost from the index, none twice.
    for (let g = 0; g < 10; g++) {
      const conv = groupOf[g * 5]!;
      const hits: number[] = [];
      for (let cursor: string | null = null; ;) {
        const q: URLSearchParams = new URLSearchParams({
          q: 'round',
          conversationId: conv,
          limit: '50',
          ...(cursor ? { cursor } : {}),
        });
        const page: { body: { items: { message: { seq: number } }[]; nextCursor: string | null } } = await http(
          running,
          'GET',
          `/api/v1/search/messages?${q}`,
          { token: users[g * 5]!.token },
        );
        hits.push(...page.body.items.map((h) => h.message.seq));
        cursor = page.body.nextCursor;
        if (!cursor) break;
      }
      expect(hits.sort((a, b) => a - b)).toEqual(messageSeqs.get(conv) ?? []);
    }
  }, 180_000);
});
