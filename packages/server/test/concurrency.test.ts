/**
 * Many senders into one conversation on every store: seqs are distinct and gap-free, commit order is
 * seq order (a concurrent poller never sees a hole it later has to fill), and a retried clientMsgId
 * is a duplicate, not a new seq.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { OpOutput } from '@enclave/protocol';
import { http, makeUser, serverOnStore, text, type TestServer, type TestUser } from './harness.ts';
import { allStoreTargets } from './stores.ts';

const SENDERS = 32;
const PER_SENDER = 200;
/** The group's stream: member.joined at seq 1, then one seq per message. */
const EXPECTED_HEAD = 1 + SENDERS * PER_SENDER;

type Reply = { ref: string; ok: boolean; data?: unknown; error?: { code: string; message: string } };

/**
 * A lean socket for load: it keeps only op replies. (The recording WsClient keeps and scans every
 * frame, which is quadratic with the ~6,400 events each member receives here.)
 */
class LoadClient {
  private next = 1;
  private readonly pending = new Map<string, (r: Reply) => void>();
  eventFrames = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const s = d.toString();
      if (!s.startsWith('{"ref"')) {
        this.eventFrames++;
        return;
      }
      const r = JSON.parse(s) as Reply;
      const done = this.pending.get(r.ref);
      if (done) {
        this.pending.delete(r.ref);
        done(r);
      }
    });
    ws.on('close', () => {
      for (const done of this.pending.values()) done({ ref: '', ok: false, error: { code: 'closed', message: '' } });
      this.pending.clear();
    });
  }

  static async connect(srv: TestServer, token: string): Promise<LoadClient> {
    const ws = new WebSocket(srv.wsUrl, { headers: { authorization: `Bearer ${token}` } });
    const hello = new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    const c = new LoadClient(ws);
    await hello;
    const s = await c.request('sync', {});
    if (!s.ok) throw new Error(`sync failed: ${JSON.stringify(s.error)}`);
    return c;
  }

  request(op: string, data: unknown): Promise<Reply> {
    const ref = `r${this.next++}`;
    return new Promise((resolve) => {
      this.pending.set(ref, resolve);
      this.ws.send(JSON.stringify({ op, ref, data }));
    });
  }

  /** Send, retrying only what never reached the domain (per-socket rate limit, busy writer). */
  async send(data: Record<string, unknown>): Promise<OpOutput<'message.send'>> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.request('message.send', data);
      if (r.ok) return r.data as OpOutput<'message.send'>;
      const code = r.error?.code;
      if ((code === 'rate_limited' || code === 'server_busy') && attempt < 200) {
        await new Promise((res) => setTimeout(res, 20 + Math.random() * 30));
        continue;
      }
      throw new Error(`message.send failed: ${code} ${r.error?.message}`);
    }
  }

  close() {
    this.ws.close();
  }
}

describe.each(allStoreTargets())('concurrent senders into one group on $kind', (target) => {
  describe.skipIf(target.skipReason !== null)('store', () => {
    const server = serverOnStore(target, { config: { dbPoolSize: 10 } });
    let srv: TestServer;
    let owner: TestUser;
    let senders: TestUser[];
    let convId: string;
    beforeAll(async () => {
      srv = server();
      owner = await makeUser(srv);
      senders = await Promise.all(Array.from({ length: SENDERS }, () => makeUser(srv)));
      const g = await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
        token: owner.token,
        body: { name: 'load', memberIds: senders.map((s) => s.id) },
      });
      expect(g.status).toBe(200);
      convId = g.body.id;
    }, 120_000);

    it(`${SENDERS} senders × ${PER_SENDER} messages: distinct, gap-free seqs, read without holes meanwhile`, async () => {
      const clients = await Promise.all(senders.map((u) => LoadClient.connect(srv, u.token)));
      const acks: { sender: number; i: number; seq: number; messageId: string }[] = [];
      const payload = (sender: number, i: number) => ({
        conversationId: convId,
        clientMsgId: `load-${sender}-${i}`,
        content: text(`message ${i} from sender ${sender}`),
      });
      let retried: { original: number; again: OpOutput<'message.send'> } | null = null;

      let sending = true;
      const poller = (async () => {
        let lastSeen = 0;
        let pages = 0;
        for (;;) {
          const done = !sending;
          const r = await http<OpOutput<'conversation.events'>>(
            srv,
            'GET',
            `/api/v1/conversations/${convId}/events?after=${lastSeen}&limit=200`,
            { token: owner.token },
          );
          expect(r.status).toBe(200);
          const seqs = r.body.events.map((e) => e.seq);
          if (seqs.length) {
            // Every page starts right after what was seen and has no hole.
            expect(seqs[0]).toBe(lastSeen + 1);
            seqs.forEach((s, k) => expect(s).toBe(lastSeen + 1 + k));
            lastSeen = seqs.at(-1)!;
            pages++;
          }
          if (done && lastSeen >= EXPECTED_HEAD && !r.body.hasMore) return { lastSeen, pages };
          if (!seqs.length) await new Promise((res) => setTimeout(res, 5));
        }
      })().catch((e: unknown) => {
        sending = false; // stop waiting on the senders' account; the failure is reported below
        return { error: e };
      });

      const started = Date.now();
      try {
        await Promise.all(
          clients.map(async (c, sender) => {
            for (let i = 0; i < PER_SENDER; i++) {
              const ack = await c.send(payload(sender, i));
              expect(ack.duplicate).toBe(false);
              acks.push({ sender, i, seq: ack.seq, messageId: ack.messageId });
              // One sender retries an earlier message mid-run, as after a lost ack.
              if (sender === 7 && i === PER_SENDER / 2) {
                const original = acks.find((a) => a.sender === 7 && a.i === 10)!;
                const again = await c.send(payload(7, 10));
                retried = { original: original.seq, again };
                expect(again.messageId).toBe(original.messageId);
              }
            }
          }),
        );
      } finally {
        sending = false;
      }
      const sendMs = Date.now() - started;
      const polled = await poller;
      if ('error' in polled) throw polled.error;

      expect(acks).toHaveLength(SENDERS * PER_SENDER);
      const seqs = new Set(acks.map((a) => a.seq));
      expect(seqs.size).toBe(acks.length); // every ack has its own seq
      seqs.add(1); // the group's member.joined
      const sorted = [...seqs].sort((a, b) => a - b);
      expect(sorted[0]).toBe(1);
      expect(sorted.at(-1)).toBe(EXPECTED_HEAD);
      expect(sorted.length).toBe(EXPECTED_HEAD);

      expect(retried).not.toBeNull();
      expect(retried!.again.duplicate).toBe(true);
      expect(retried!.again.seq).toBe(retried!.original);

      // Each sender's own messages got increasing seqs (they waited for each ack).
      for (let s = 0; s < SENDERS; s++) {
        const mine = acks.filter((a) => a.sender === s).sort((a, b) => a.i - b.i);
        for (let k = 1; k < mine.length; k++) expect(mine[k]!.seq).toBeGreaterThan(mine[k - 1]!.seq);
      }

      expect(polled.lastSeen).toBe(EXPECTED_HEAD);
      const conv = await http<OpOutput<'conversation.get'>>(srv, 'GET', `/api/v1/conversations/${convId}`, {
        token: owner.token,
      });
      expect(conv.body.lastSeq).toBe(EXPECTED_HEAD);
      expect(conv.body.unread).toBe(SENDERS * PER_SENDER);

      // A full re-read after the fact: exactly 1..head, each message once.
      let after = 0;
      let count = 0;
      for (;;) {
        const r = await http<OpOutput<'conversation.events'>>(
          srv,
          'GET',
          `/api/v1/conversations/${convId}/events?after=${after}&limit=200`,
          { token: senders[0]!.token },
        );
        for (const e of r.body.events) expect(e.seq).toBe(++after);
        count += r.body.events.length;
        if (!r.body.hasMore) break;
      }
      expect(count).toBe(EXPECTED_HEAD);
      for (const c of clients) c.close();
      console.info(`[concurrency:${target.kind}] ${acks.length} messages in ${sendMs} ms (${polled.pages} poll pages)`);
    }, 120_000);

    /**
     * The same request on two sockets of one user, the second 0–3 ms after the first: in one write
     * batch, or in two batches committing side by side on two connections (PostgreSQL, MySQL) — as
     * when an ack is lost with its socket and the client resends on a new one while the first is
     * still being written. Both must succeed with one answer.
     */
    async function twice(op: string, rounds: number, data: (i: number) => Record<string, unknown>) {
      const sender = senders[1]!;
      const [a, b] = await Promise.all([LoadClient.connect(srv, sender.token), LoadClient.connect(srv, sender.token)]);
      const before = await http<OpOutput<'conversation.get'>>(srv, 'GET', `/api/v1/conversations/${convId}`, {
        token: owner.token,
      });
      const answers: [unknown, unknown][] = [];
      try {
        for (let i = 0; i < rounds; i++) {
          const [x, y] = await Promise.all([
            a.request(op, data(i)),
            new Promise((r) => setTimeout(r, i % 4)).then(() => b.request(op, data(i))),
          ]);
          expect([x.ok, y.ok, x.error?.code, y.error?.code]).toEqual([true, true, undefined, undefined]);
          answers.push([x.data, y.data]);
        }
      } finally {
        a.close();
        b.close();
      }
      const r = await http<OpOutput<'conversation.events'>>(
        srv,
        'GET',
        `/api/v1/conversations/${convId}/events?after=${before.body.lastSeq}&limit=200`,
        { token: owner.token },
      );
      return { answers, events: r.body.events };
    }

    it('one clientMsgId sent on two sockets at once is one message, and both acks name it', async () => {
      const ROUNDS = 30;
      const { answers, events } = await twice('message.send', ROUNDS, (i) => ({
        conversationId: convId,
        clientMsgId: `twice-${i}`,
        content: text(`twice ${i}`),
      }));
      for (const [x, y] of answers as [OpOutput<'message.send'>, OpOutput<'message.send'>][]) {
        expect(x.messageId).toBe(y.messageId);
        expect(x.seq).toBe(y.seq);
        expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
      }
      expect(events.map((e) => e.message?.content?.text)).toEqual(
        Array.from({ length: ROUNDS }, (_, i) => `twice ${i}`),
      );
    }, 60_000);

    it('sends arriving together each commit or fail alone: refused ones take no seq, the rest are gap-free', async () => {
      // Everyone muted: plain members are refused (conversation_muted) inside the write, under the
      // counter row's lock, in the same batches as the owner's accepted sends — plain ones (a write
      // program on SQLite) and ones with a mention (a transaction) mixed.
      const muted = await http(srv, 'PATCH', `/api/v1/groups/${convId}`, {
        token: owner.token,
        body: { allMuted: true },
      });
      expect(muted.status).toBe(200);
      const before = await http<OpOutput<'conversation.get'>>(srv, 'GET', `/api/v1/conversations/${convId}`, {
        token: owner.token,
      });
      const members = senders.slice(0, 8);
      const clients = await Promise.all([owner, ...members].map((u) => LoadClient.connect(srv, u.token)));
      try {
        const ROUNDS = 5;
        const sends = [];
        for (let r = 0; r < ROUNDS; r++)
          for (const [i, c] of clients.entries()) {
            const mention = r % 2 === 1 ? { mentions: [members[0]!.id] } : {};
            sends.push(
              c
                .request('message.send', {
                  conversationId: convId,
                  clientMsgId: `together-${r}-${i}`,
                  content: text(`together ${r} ${i}`),
                  ...mention,
                })
                .then((x) => ({ i, r, x })),
            );
          }
        const got = await Promise.all(sends);
        const accepted = got.filter((g) => g.x.ok);
        expect(accepted.map((g) => g.i).every((i) => i === 0)).toBe(true);
        expect(accepted).toHaveLength(ROUNDS);
        expect(new Set(got.filter((g) => !g.x.ok).map((g) => g.x.error?.code))).toEqual(
          new Set(['conversation_muted']),
        );
        const seqs = accepted.map((g) => (g.x.data as OpOutput<'message.send'>).seq).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: ROUNDS }, (_, k) => before.body.lastSeq + 1 + k));
        const r = await http<OpOutput<'conversation.events'>>(
          srv,
          'GET',
          `/api/v1/conversations/${convId}/events?after=${before.body.lastSeq}&limit=200`,
          { token: owner.token },
        );
        expect(r.body.events.map((e) => e.seq)).toEqual(seqs);
        expect(new Set(r.body.events.map((e) => e.message?.content?.text))).toEqual(
          new Set(Array.from({ length: ROUNDS }, (_, k) => `together ${k} 0`)),
        );
      } finally {
        for (const c of clients) c.close();
        await http(srv, 'PATCH', `/api/v1/groups/${convId}`, { token: owner.token, body: { allMuted: false } });
      }
    }, 60_000);

    it('one clientOpId sent on two sockets at once is one edit, and both answers name it', async () => {
      const ROUNDS = 30;
      const target = await http<OpOutput<'message.send'>>(srv, 'POST', `/api/v1/conversations/${convId}/messages`, {
        token: senders[1]!.token,
        body: { clientMsgId: 'twice-edited', content: text('v0') },
      });
      const { answers, events } = await twice('message.edit', ROUNDS, (i) => ({
        conversationId: convId,
        seq: target.body.seq,
        clientOpId: `edit-twice-${i}`,
        content: text(`v${i + 1}`),
      }));
      for (const [x, y] of answers as [{ seq: number }, { seq: number }][]) expect(x.seq).toBe(y.seq);
      expect(events.map((e) => e.type)).toEqual(Array.from({ length: ROUNDS }, () => 'message.edited'));
    }, 60_000);
  });
});
