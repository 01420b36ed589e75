/**
 * The withheld-content canary (design review P5): a unique string in a sign-off body must appear in
 * no byte an unsigned recipient receives — live frames, sync, history, list previews, single-message
 * reads, reply quotes — until they sign; and after a recall, in no byte any member receives.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, OpOutput } from '@enclave/protocol';
import {
  clientId,
  http,
  login,
  makeUser,
  startServer,
  text,
  WsClient,
  type TestServer,
  type TestUser,
} from './harness.ts';

type ConvEv = { seq: number; type: string; conversationId: string; message: Message | null };
type UserEv = { type: string; conversationId: string; data: Record<string, unknown> };

/** The exact bytes of an HTTP answer (not re-serialised). */
async function rawHttp(srv: TestServer, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(srv.url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, text: await res.text() };
}

const convEvent = (c: WsClient, convId: string, pred: (e: ConvEv) => boolean) =>
  c.waitFor((f) => f.ev === 'conv' && (f.data as ConvEv).conversationId === convId && pred(f.data as ConvEv));
const userEvent = (c: WsClient, type: string, convId: string) =>
  c.waitFor((f) => f.ev === 'user' && (f.data as UserEv).type === type && (f.data as UserEv).conversationId === convId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withheld-content canary', () => {
  let srv: TestServer;
  const sockets: WsClient[] = [];
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await srv.close();
  });
  const connect = async (token: string) => {
    const c = await WsClient.connect(srv, token);
    sockets.push(c);
    return c;
  };
  const api = <T>(u: TestUser, method: string, path: string, body?: unknown) =>
    http<T>(srv, method, path, { token: u.token, ...(body !== undefined ? { body } : {}) });
  const send = async (u: TestUser, convId: string, body: string, extra: Record<string, unknown> = {}) => {
    const r = await api<OpOutput<'message.send'>>(u, 'POST', `/api/v1/conversations/${convId}/messages`, {
      clientMsgId: clientId(),
      content: text(body),
      ...extra,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.seq;
  };

  /** Every byte a user can pull over REST about a conversation and the given messages. */
  async function restBytes(token: string, convId: string, seqs: number[]): Promise<string[]> {
    const out: string[] = [];
    const paths = [
      `/api/v1/conversations/${convId}/events?after=0&limit=200`,
      `/api/v1/conversations/${convId}/events?limit=200`,
      `/api/v1/conversations`,
      `/api/v1/conversations/${convId}`,
      ...seqs.map((s) => `/api/v1/conversations/${convId}/messages/${s}`),
    ];
    for (const p of paths) {
      const r = await rawHttp(srv, token, 'GET', p);
      expect(r.status, `${p}: ${r.text}`).toBe(200);
      out.push(r.text);
    }
    const s = await rawHttp(srv, token, 'POST', '/api/v1/sync', {});
    expect(s.status).toBe(200);
    out.push(s.text);
    return out;
  }

  it('a sign-off body reaches an unsigned recipient only through message.sign', async () => {
    const CANARY = `CANARY-${randomUUID()}`;
    const [sender, signer, holdout] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    const g = (
      await api<OpOutput<'group.create'>>(sender, 'POST', '/api/v1/groups', {
        name: 'Policy',
        memberIds: [signer.id, holdout.id],
      })
    ).body.id;
    const signerToken2 = (await login(srv, signer.username, signer.password, 'second device')).token;
    const wsSender = await connect(sender.token);
    const wsSigner = await connect(signer.token);
    const wsSigner2 = await connect(signerToken2);
    const wsHoldout = await connect(holdout.token);
    const unsignedSockets = [wsSigner, wsSigner2, wsHoldout];

    const s = await send(sender, g, `New travel policy ${CANARY} applies from Monday`, {
      signoff: true,
      mentions: [signer.id],
    });
    // The sender's own devices see the body: proof that the probe would notice it.
    await convEvent(wsSender, g, (e) => e.seq === s);
    expect(wsSender.rawText.join('')).toContain(CANARY);
    for (const ws of unsignedSockets) {
      const ev = (await convEvent(ws, g, (e) => e.seq === s)).data as ConvEv;
      expect(ev.message?.state).toBe('withheld');
      expect(ev.message?.content).toBeNull();
      expect(ev.message?.signoff).toEqual({ required: true, signed: false });
    }
    // The list preview while the sign-off message is the newest.
    for (const u of [signer, holdout]) {
      const list = await rawHttp(srv, u.token, 'GET', '/api/v1/conversations');
      expect(list.text).not.toContain(CANARY);
      const item = (JSON.parse(list.text) as OpOutput<'conversation.list'>).items.find((i) => i.id === g)!;
      expect(item.preview?.seq).toBe(s);
      expect(item.preview?.state).toBe('withheld');
    }

    // Quotes, edits and reactions of the sign-off message carry no body either.
    const reply1 = await send(sender, g, 'please sign the above', { replyToSeq: s });
    const reply2 = await send(holdout, g, 'what does it say?', { replyToSeq: s });
    const edited = await api<{ seq: number }>(sender, 'PATCH', `/api/v1/conversations/${g}/messages/${s}`, {
      clientOpId: clientId('op'),
      content: text(`New travel policy ${CANARY} applies from Tuesday`),
    });
    expect(edited.status).toBe(200);
    const reacted = await api<{ seq: number }>(holdout, 'POST', `/api/v1/conversations/${g}/messages/${s}/reactions`, {
      clientOpId: clientId('op'),
      emoji: '👀',
      on: true,
    });
    expect(reacted.status).toBe(200);
    for (const ws of unsignedSockets) {
      const q = (await convEvent(ws, g, (e) => e.seq === reply1)).data as ConvEv;
      expect(q.message?.replyTo?.seq).toBe(s);
      expect(q.message?.replyTo?.quote?.state).toBe('withheld');
      await convEvent(ws, g, (e) => e.seq === reply2);
      await convEvent(ws, g, (e) => e.seq === edited.body.seq);
      await convEvent(ws, g, (e) => e.seq === reacted.body.seq);
    }
    // A fresh socket's sync answer, for both unsigned users.
    const wsLate = await connect(holdout.token);
    const wsLate2 = await connect(signer.token);
    unsignedSockets.push(wsLate, wsLate2);

    // Sign-off status and reminders: sender (and admins) only.
    const so = await api<OpOutput<'message.signoffs'>>(
      sender,
      'GET',
      `/api/v1/conversations/${g}/messages/${s}/signoffs`,
    );
    expect(so.status).toBe(200);
    expect(so.body.signed).toEqual([]);
    expect(so.body.unsigned.map((u) => u.userId).sort()).toEqual([signer.id, holdout.id].sort());
    expect(so.body.unsigned.map((u) => u.displayName).sort()).toEqual([signer.username, holdout.username].sort());
    const peek = await api(holdout, 'GET', `/api/v1/conversations/${g}/messages/${s}/signoffs`);
    expect(peek.status).toBe(403);
    const remind = await api<OpOutput<'message.remind'>>(
      sender,
      'POST',
      `/api/v1/conversations/${g}/messages/${s}/remind`,
      {},
    );
    expect(remind.status).toBe(200);
    expect(remind.body.reminded).toBe(2);
    for (const ws of [wsSigner, wsSigner2, wsHoldout]) {
      const r = await userEvent(ws, 'signoff.reminded', g);
      expect((r.data as UserEv).data.seq).toBe(s);
    }

    // Nothing so far carried the body to an unsigned recipient.
    const seqs = [s, reply1, reply2];
    for (const u of [signer, holdout])
      for (const b of await restBytes(u.token, g, seqs)) expect(b).not.toContain(CANARY);
    for (const b of await restBytes(signerToken2, g, seqs)) expect(b).not.toContain(CANARY);
    for (const ws of unsignedSockets) expect(ws.rawText.join('\n')).not.toContain(CANARY);

    // Signing returns the body; the signer's other device gets it on their own stream.
    const signed = await wsSigner.call('message.sign', { conversationId: g, seq: s });
    expect(signed.state).toBe('normal');
    expect(signed.content?.text).toContain(CANARY);
    expect(signed.content?.text).toContain('Tuesday');
    const onOther = await userEvent(wsSigner2, 'message.signed', g);
    const carried = (onOther.data as UserEv).data as { seq: number; message: Message };
    expect(carried.seq).toBe(s);
    expect(carried.message.content?.text).toContain(CANARY);
    // Signing again is idempotent: same content, no second event.
    const again = await wsSigner2.call('message.sign', { conversationId: g, seq: s });
    expect(again.content?.text).toBe(signed.content?.text);
    await sleep(200);
    const signedEvents = wsSigner2.frames.filter(
      (f) => f.ev === 'user' && (f.data as UserEv).type === 'message.signed',
    );
    expect(signedEvents).toHaveLength(1);

    const after = await api<OpOutput<'message.signoffs'>>(
      sender,
      'GET',
      `/api/v1/conversations/${g}/messages/${s}/signoffs`,
    );
    expect(after.body.signed.map((x) => x.userId)).toEqual([signer.id]);
    expect(after.body.signed[0]!.signedAt).toBeTypeOf('number');
    expect(after.body.unsigned.map((x) => x.userId)).toEqual([holdout.id]);
    // The signer now reads it everywhere.
    const mine = await api<Message>(signer, 'GET', `/api/v1/conversations/${g}/messages/${s}`);
    expect(mine.body.content?.text).toContain(CANARY);
    expect(mine.body.signoff).toEqual({ required: true, signed: true });

    // The holdout still never received a byte of it — nor does a later reply quoting it.
    const reply3 = await send(signer, g, 'signed, thanks', { replyToSeq: s });
    await convEvent(wsHoldout, g, (e) => e.seq === reply3);
    await sleep(100);
    for (const b of await restBytes(holdout.token, g, [s, reply1, reply2, reply3])) expect(b).not.toContain(CANARY);
    for (const ws of [wsHoldout, wsLate]) expect(ws.rawText.join('\n')).not.toContain(CANARY);
    // Not a sign-off message: nothing to sign.
    const notSignoff = await api(holdout, 'POST', `/api/v1/conversations/${g}/messages/${reply1}/sign`, {});
    expect(notSignoff.status).toBe(409);
  });

  it('after a recall the body appears in no byte any member receives', async () => {
    const CANARY = `CANARY-${randomUUID()}`;
    const [sender, m1, m2] = [await makeUser(srv), await makeUser(srv), await makeUser(srv)];
    const g = (
      await api<OpOutput<'group.create'>>(sender, 'POST', '/api/v1/groups', {
        name: 'Payroll',
        memberIds: [m1.id, m2.id],
      })
    ).body.id;
    const clients = { sender: await connect(sender.token), m1: await connect(m1.token), m2: await connect(m2.token) };

    const orig = await send(sender, g, `Salary table ${CANARY} (wrong group!)`, { mentions: [m1.id] });
    const reply1 = await send(m1, g, 'is this meant for us?', { replyToSeq: orig });
    for (const ws of Object.values(clients)) {
      await convEvent(ws, g, (e) => e.seq === reply1);
      // Before the recall the body was there: the probe sees it.
      expect(ws.rawText.join('\n')).toContain(CANARY);
    }

    const recalled = await api<{ seq: number }>(sender, 'POST', `/api/v1/conversations/${g}/messages/${orig}/recall`, {
      clientOpId: clientId('op'),
    });
    expect(recalled.status).toBe(200);
    const r = recalled.body.seq;
    const cut = new Map<WsClient, number>();
    for (const ws of Object.values(clients)) {
      const f = await convEvent(ws, g, (e) => e.seq === r);
      expect((f.data as ConvEv).message?.state).toBe('recalled');
      cut.set(ws, ws.frames.indexOf(f));
    }

    // Later activity that refers to the recalled message.
    const reply2 = await send(m2, g, 'what was it?', { replyToSeq: orig });
    const edit = await api<{ seq: number }>(m1, 'PATCH', `/api/v1/conversations/${g}/messages/${reply1}`, {
      clientOpId: clientId('op'),
      content: text('never mind'),
    });
    expect(edit.status).toBe(200);
    const react = await api<{ seq: number }>(m2, 'POST', `/api/v1/conversations/${g}/messages/${reply1}/reactions`, {
      clientOpId: clientId('op'),
      emoji: '🙈',
      on: true,
    });
    expect(react.status).toBe(200);
    for (const ws of Object.values(clients)) {
      const q = (await convEvent(ws, g, (e) => e.seq === reply2)).data as ConvEv;
      expect(q.message?.replyTo?.quote?.state).toBe('recalled');
      await convEvent(ws, g, (e) => e.seq === react.body.seq);
    }
    for (const u of [sender, m1, m2]) cut.set(await connect(u.token), -1);
    await sleep(100);

    for (const u of [sender, m1, m2]) {
      for (const b of await restBytes(u.token, g, [orig, reply1, reply2])) expect(b).not.toContain(CANARY);
      const one = await api<Message>(u, 'GET', `/api/v1/conversations/${g}/messages/${orig}`);
      expect(one.body.state).toBe('recalled');
      expect(one.body.content).toBeNull();
    }
    const list = await api<OpOutput<'conversation.list'>>(m1, 'GET', '/api/v1/conversations');
    expect(list.body.items.find((i) => i.id === g)?.mentions).toBe(0);
    for (const [ws, idx] of cut) expect(ws.rawText.slice(idx + 1).join('\n')).not.toContain(CANARY);
  });
});
