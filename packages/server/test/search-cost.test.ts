/**
 * Pins the statement cost of a search: the same for hits in one conversation and hits spread over
 * twelve (no per-conversation or per-hit queries), and for a viewer in twelve groups and in 600 (the
 * viewer's scope is one statement, however many conversations they are in).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpOutput, SearchMessagesResult } from '@enclave/protocol';
import { bulkGroups, bulkUsers } from './factories.ts';
import { clientId, http, makeUser, startServer, type TestServer, type TestUser } from './harness.ts';

describe('search cost', () => {
  let srv: TestServer;
  let u: TestUser;
  const statements = () => srv.app.deps.store.stats.statements;

  async function send(conv: string, t: string) {
    const r = await http(srv, 'POST', `/api/v1/conversations/${conv}/messages`, {
      token: u.token,
      body: { clientMsgId: clientId(), content: { text: t, format: 'plain' } },
    });
    expect(r.status).toBe(200);
  }
  async function cost(q: string, token = u.token): Promise<{ cost: number; hits: number }> {
    const before = statements();
    const r = await http<SearchMessagesResult>(srv, 'GET', `/api/v1/search/messages?q=${encodeURIComponent(q)}`, {
      token,
    });
    expect(r.status).toBe(200);
    return { cost: statements() - before, hits: r.body.items.length };
  }

  beforeAll(async () => {
    srv = await startServer();
    u = await makeUser(srv);
    const groups: string[] = [];
    for (let i = 0; i < 12; i++)
      groups.push(
        (
          await http<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
            token: u.token,
            body: { name: `成本${i}` },
          })
        ).body.id,
      );
    for (let i = 0; i < 12; i++) await send(groups[0]!, `集中消息${i}`);
    for (let i = 0; i < 12; i++) await send(groups[i]!, `分散消息${i}`);
  }, 60_000);
  afterAll(async () => {
    await srv.close();
  });

  it('costs the same for hits in one conversation and in twelve', async () => {
    const one = await cost('集中消息');
    const many = await cost('分散消息');
    expect(one.hits).toBe(12);
    expect(many.hits).toBe(12);
    expect(many.cost).toBe(one.cost);
  });

  it('costs the same for a viewer in 600 groups as for one in twelve', async () => {
    const [busy] = await bulkUsers(srv, 1, 'busy');
    await bulkGroups(srv, busy!, [], 600);
    await cost('无此内容', busy!.token); // the index catches up with the 600 groups' first events
    const few = await cost('无此内容');
    const many = await cost('无此内容', busy!.token);
    expect(few.hits).toBe(0);
    expect(many.hits).toBe(0);
    expect(many.cost).toBe(few.cost);
  });
});
