import { EnclaveError } from '@enclave/protocol';
import { describe, expect, it } from 'vitest';
import { buildHttpRequest, httpCall } from './rest.ts';
import { C1, conversation } from './test-factories.ts';

const BASE = 'https://chat.example/';

describe('buildHttpRequest', () => {
  it('fills path params and puts the rest of a GET in the query string', () => {
    expect(buildHttpRequest(BASE, 'conversation.events', { conversationId: C1, after: 5, limit: 50 })).toEqual({
      method: 'GET',
      url: `https://chat.example/api/v1/conversations/${C1}/events?after=5&limit=50`,
    });
  });

  it('puts the rest of a POST in a JSON body', () => {
    const req = buildHttpRequest(BASE, 'conversation.read', { conversationId: C1, seq: 7 });
    expect(req).toEqual({
      method: 'POST',
      url: `https://chat.example/api/v1/conversations/${C1}/read`,
      body: '{"seq":7}',
    });
  });

  it('leaves out false booleans (the server coerces "false" to true)', () => {
    expect(buildHttpRequest(BASE, 'conversation.list', { includeLeft: false }).url).toBe(
      'https://chat.example/api/v1/conversations',
    );
  });

  it('refuses WebSocket-only ops', () => {
    expect(() => buildHttpRequest(BASE, 'ping', {})).toThrow(EnclaveError);
  });
});

describe('httpCall', () => {
  const respond = (status: number, body: unknown) => async () => new Response(JSON.stringify(body), { status });

  it('parses the reply with the op output schema and sends the bearer token', async () => {
    let auth: string | null = null;
    const fetchFn = async (_url: RequestInfo | URL, init?: RequestInit) => {
      auth = new Headers(init?.headers).get('authorization');
      return new Response(JSON.stringify(conversation()), { status: 200 });
    };
    const out = await httpCall(fetchFn, BASE, 'tok', 'conversation.get', { conversationId: C1 });
    expect(out.id).toBe(C1);
    expect(auth).toBe('Bearer tok');
  });

  it('turns an error body into an EnclaveError with its code', async () => {
    const err = await httpCall(
      respond(403, { error: { code: 'not_a_member', message: 'no' } }),
      BASE,
      undefined,
      'conversation.get',
      {
        conversationId: C1,
      },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'not_a_member', message: 'no' });
  });

  it('maps a bare 503 to retryable server_busy and a network failure likewise', async () => {
    const busy = await httpCall(respond(503, 'x'), BASE, undefined, 'me.get', {}).catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: 'server_busy', retryable: true });
    const down = async () => {
      throw new TypeError('fetch failed');
    };
    const net = await httpCall(down, BASE, undefined, 'me.get', {}).catch((e: unknown) => e);
    expect(net).toMatchObject({ code: 'server_busy', retryable: true });
  });
});
