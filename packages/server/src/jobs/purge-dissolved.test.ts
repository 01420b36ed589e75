import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientId, http, makeUser, startServer, text, type TestServer, type TestUser } from '../../test/harness.ts';
import { purgeDissolved } from './purge-dissolved.ts';

describe('purging dissolved groups', () => {
  let srv: TestServer;
  let owner: TestUser;
  let member: TestUser;
  beforeAll(async () => {
    srv = await startServer();
    owner = await makeUser(srv);
    member = await makeUser(srv);
  });
  afterAll(() => srv.close());

  it('keeps a dissolved group readable until the retention passes, then removes it for everyone', async () => {
    const g = await http<{ id: string }>(srv, 'POST', '/api/v1/groups', {
      token: owner.token,
      body: { name: '项目组', memberIds: [member.id] },
    });
    const path = `/api/v1/conversations/${g.body.id}`;
    for (let i = 0; i < 3; i++)
      await http(srv, 'POST', `${path}/messages`, {
        token: owner.token,
        body: { clientMsgId: clientId(), content: text(`m${i}`) },
      });
    expect((await http(srv, 'POST', `/api/v1/groups/${g.body.id}/dissolve`, { token: owner.token })).status).toBe(200);

    // Within the retention: still listed and readable, but read-only.
    expect(await purgeDissolved(srv.app.deps, 60_000)).toEqual({ conversations: 0 });
    const hist = await http<{ events: unknown[] }>(srv, 'GET', `${path}/events?after=0`, { token: member.token });
    expect(hist.body.events.length).toBe(5); // joined, 3 messages, dissolved

    // Past it: gone from lists and history, for every member.
    expect(await purgeDissolved(srv.app.deps, 0)).toEqual({ conversations: 1 });
    for (const u of [owner, member]) {
      const r = await http<{ error: { code: string } }>(srv, 'GET', `${path}/events?after=0`, { token: u.token });
      expect(r.body.error.code).toBe('conversation_not_found');
      const list = await http<{ items: { id: string }[] }>(srv, 'GET', '/api/v1/conversations', { token: u.token });
      expect(list.body.items.map((c) => c.id)).not.toContain(g.body.id);
    }
    // A second run has nothing left to do.
    expect(await purgeDissolved(srv.app.deps, 0)).toEqual({ conversations: 0 });
  });
});
