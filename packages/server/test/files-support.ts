/**
 * Test support for files: raw tus requests (so tests can cut a connection, send a wrong offset or a
 * foreign upload id) and small builders. Real server, real HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { FILE_ID_HEADER, type OpOutput } from '@enclave/protocol';
import { http as api, type TestServer, type TestUser } from './harness.ts';

export const tmpDataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-files-'));

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

export interface TusResponse {
  status: number;
  headers: Headers;
  body: string;
}

export async function tus(
  srv: TestServer,
  token: string | null,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<TusResponse> {
  const res = await fetch(url.startsWith('http') ? url : srv.url + url, {
    method,
    headers: {
      'Tus-Resumable': '1.0.0',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/offset+octet-stream' } : {}),
      ...headers,
    },
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Create a tus upload; metadata values are plain strings. */
export async function createUpload(
  srv: TestServer,
  token: string | null,
  size: number,
  metadata: Record<string, string>,
): Promise<TusResponse & { location: string }> {
  const r = await tus(srv, token, 'POST', '/api/v1/uploads', {
    'Upload-Length': String(size),
    'Upload-Metadata': Object.entries(metadata)
      .map(([k, v]) => `${k} ${b64(v)}`)
      .join(','),
  });
  const loc = r.headers.get('location') ?? '';
  return { ...r, location: loc.startsWith('http') ? new URL(loc).pathname : loc };
}

export async function patch(srv: TestServer, token: string, location: string, offset: number, bytes: Buffer) {
  return tus(srv, token, 'PATCH', location, { 'Upload-Offset': String(offset) }, bytes);
}

/** Upload bytes in one PATCH and return the new file id. */
export async function upload(
  srv: TestServer,
  user: TestUser,
  name: string,
  bytes: Buffer,
  extra: Record<string, string> = {},
): Promise<string> {
  const c = await createUpload(srv, user.token, bytes.length, { filename: name, ...extra });
  if (c.status !== 201) throw new Error(`create ${name}: ${c.status} ${c.body}`);
  const p = await patch(srv, user.token, c.location, 0, bytes);
  const id = p.headers.get(FILE_ID_HEADER);
  if (p.status !== 204 || !id) throw new Error(`patch ${name}: ${p.status} ${p.body}`);
  return id;
}

/**
 * Send the first `sendBytes` of a PATCH declaring the whole rest, then destroy the socket: the
 * connection dies mid-upload as when a laptop loses its network.
 */
export async function patchAndCut(
  srv: TestServer,
  token: string,
  location: string,
  offset: number,
  rest: Buffer,
  sendBytes: number,
): Promise<void> {
  const u = new URL(srv.url + location);
  await new Promise<void>((resolve) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: 'PATCH',
      headers: {
        'Tus-Resumable': '1.0.0',
        authorization: `Bearer ${token}`,
        'content-type': 'application/offset+octet-stream',
        'Upload-Offset': String(offset),
        'Content-Length': String(rest.length),
      },
    });
    req.on('error', () => resolve());
    req.on('response', () => resolve());
    req.write(rest.subarray(0, sendBytes), () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
  });
}

export async function group(srv: TestServer, owner: TestUser, members: TestUser[], name = 'files') {
  const g = await api<OpOutput<'group.create'>>(srv, 'POST', '/api/v1/groups', {
    token: owner.token,
    body: { name, memberIds: members.map((m) => m.id) },
  });
  if (g.status !== 200) throw new Error(JSON.stringify(g.body));
  return g.body.id;
}

export async function download(
  srv: TestServer,
  token: string | null,
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(srv.url + pathname, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A tiny valid PNG made by sharp. */
export async function png(width = 640, height = 480, seed = 0): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  return sharp({ create: { width, height, channels: 3, background: { r: seed % 256, g: 120, b: 200 } } })
    .png()
    .toBuffer();
}

/** The first bytes of a Windows executable (MZ header + PE signature) padded out. */
export function fakeExe(): Buffer {
  const b = Buffer.alloc(1024);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x14c, 0x84);
  return b;
}
