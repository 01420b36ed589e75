import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientId,
  http,
  makeUser,
  startServer,
  text,
  WsClient,
  type Frame,
  type TestServer,
  type TestUser,
} from './harness.ts';

type QuoteView = { state: string; content: { text: string } | null } | null;
const quoteIn = (f: Frame) =>
  (f.data as { message: { replyTo: { quote: QuoteView } | null } }).message.replyTo?.quote ?? null;

describe('reply quotes in live events match what each member may see in history', () => {
  let srv: TestServer;
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
  beforeAll(async () => {
    srv = await startServer();
    [alice, bob, carol, dave] = await Promise.all([makeUser(srv), makeUser(srv), makeUser(srv), makeUser(srv)]);
  });
  afterAll(() => srv.close());

  it('a quoted sign-off shows its body to those who signed it; a quote from before a join shows nothing', async () => {
    const g = await http<{ id: string }>(srv, 'POST', '/api/v1/groups', {
      token: alice.token,
      body: { name: 'quotes', memberIds: [bob.id, carol.id] },
    });
    const conversationId = g.body.id;
    const a = await WsClient.connect(srv, alice.token);
    const b = await WsClient.connect(srv, bob.token);
    const c = await WsClient.connect(srv, carol.token);
    const notice = await a.call('message.send', {
      conversationId,
      clientMsgId: clientId(),
      content: text('签收内容'),
      signoff: true,
    });
    await b.call('message.sign', { conversationId, seq: notice.seq });
    const reply = await a.call('message.send', {
      conversationId,
      clientMsgId: clientId(),
      content: text('see above'),
      replyToSeq: notice.seq,
    });
    const isReply = (f: Frame) => f.ev === 'conv' && (f.data as { seq: number }).seq === reply.seq;
    expect(quoteIn(await b.waitFor(isReply))).toMatchObject({ state: 'normal', content: { text: '签收内容' } });
    expect(quoteIn(await c.waitFor(isReply))).toMatchObject({ state: 'withheld', content: null });
    expect(quoteIn(await a.waitFor(isReply))).toMatchObject({ state: 'normal', content: { text: '签收内容' } });
    // Live and history agree for the signer.
    const hist = await http<{ events: Frame['data'][] }>(
      srv,
      'GET',
      `/api/v1/conversations/${conversationId}/events?after=${reply.seq - 1}&limit=1`,
      { token: bob.token },
    );
    expect(quoteIn({ data: hist.body.events[0] })).toEqual(quoteIn(await b.waitFor(isReply)));

    await a.call('group.addMembers', { conversationId, userIds: [dave.id] });
    const d = await WsClient.connect(srv, dave.token);
    const old = await a.call('message.send', {
      conversationId,
      clientMsgId: clientId(),
      content: text('quoting history dave cannot see'),
      replyToSeq: reply.seq,
    });
    const isOld = (f: Frame) => f.ev === 'conv' && (f.data as { seq: number }).seq === old.seq;
    const forDave = await d.waitFor(isOld);
    expect((forDave.data as { message: { replyTo: unknown } }).message.replyTo).toEqual({
      seq: reply.seq,
      quote: null,
    });
    expect(d.rawText.join('')).not.toContain('see above');
    expect(quoteIn(await b.waitFor(isOld))).toMatchObject({ state: 'normal', content: { text: 'see above' } });
    for (const s of [a, b, c, d]) s.close();
  });
});
