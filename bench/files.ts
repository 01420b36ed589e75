/**
 * `node --import tsx bench/files.ts [MiB]`: upload and download one large file (default 1024 MiB)
 * through Enclave on loopback — tus PATCH with curl, then a plain GET — and the same bytes through
 * nginx on the same machine (WebDAV PUT, static GET) as the reference. Samples the Enclave process's
 * RSS every 100 ms: it must stay flat (streams, not buffers). curl is the client in both cases so
 * the client costs the same. Needs `curl` and `nginx` on PATH.
 */
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { promisify } from 'node:util';
import { FILE_ID_HEADER } from '@enclave/protocol';
import { makeUser, startServer } from '../packages/server/test/harness.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const sizeMiB = Number(process.argv[2] ?? 1024);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function curl(args: string[]): Promise<{ seconds: number; out: string }> {
  const t = process.hrtime.bigint();
  const { stdout } = await run('curl', ['-sS', '--fail-with-body', ...args], { maxBuffer: 16 * MiB });
  return { seconds: Number(process.hrtime.bigint() - t) / 1e9, out: stdout };
}

function makeFile(file: string) {
  const fd = fs.openSync(file, 'w');
  const chunk = crypto.randomBytes(64 * MiB);
  for (let done = 0; done < sizeMiB; done += 64) {
    crypto.randomFillSync(chunk, 0, 4096); // every 64 MiB block differs
    fs.writeSync(fd, chunk, 0, Math.min(64, sizeMiB - done) * MiB);
  }
  fs.closeSync(fd);
}

async function startNginx(root: string, port: number): Promise<() => void> {
  const conf = path.join(root, 'nginx.conf');
  fs.mkdirSync(path.join(root, 'www'), { recursive: true });
  fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
  fs.writeFileSync(
    conf,
    `daemon off; user root; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; client_max_body_size 0; client_body_temp_path ${root}/tmp;
  server { listen 127.0.0.1:${port}; root ${root}/www; location / { dav_methods PUT; create_full_put_path on; } } }`,
  );
  const p = spawn('nginx', ['-c', conf, '-p', root], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try {
      await curl([`http://127.0.0.1:${port}/`, '-o', '/dev/null']).catch(() => undefined);
      if (fs.existsSync(`${root}/nginx.pid`)) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return () => p.kill('SIGTERM');
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-bench-files-'));
  const file = path.join(root, 'big.bin');
  makeFile(file);
  const bytes = sizeMiB * MiB;
  const mbps = (s: number) => (bytes / MiB / s).toFixed(0);

  const srv = await startServer({ config: { dataDir: path.join(root, 'data') } });
  const user = await makeUser(srv, 'bench-files');
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 100);
  const base = process.memoryUsage().rss;
  const auth = ['-H', `Authorization: Bearer ${user.token}`];

  // Enclave upload: create, then one streamed PATCH of the whole file (curl -T never buffers it).
  const create = await curl([
    '-i',
    '-X',
    'POST',
    `${srv.url}/api/v1/uploads`,
    ...auth,
    '-H',
    'Tus-Resumable: 1.0.0',
    '-H',
    `Upload-Length: ${bytes}`,
    '-H',
    `Upload-Metadata: filename ${Buffer.from('big.bin').toString('base64')}`,
  ]);
  const location = /^location: (.+)$/im.exec(create.out)![1]!.trim();
  const up = await curl([
    '-i',
    '-X',
    'PATCH',
    '-T',
    file,
    new URL(location, srv.url).toString(),
    ...auth,
    '-H',
    'Tus-Resumable: 1.0.0',
    '-H',
    'Upload-Offset: 0',
    '-H',
    'Content-Type: application/offset+octet-stream',
  ]);
  const fileId = new RegExp(`^${FILE_ID_HEADER}: (.+)$`, 'im').exec(up.out)![1]!.trim();
  const down = await curl([`${srv.url}/api/v1/files/${fileId}/content`, ...auth, '-o', '/dev/null']);
  clearInterval(sampler);
  const peak = Math.max(...rss);
  await srv.close();

  const port = await freePort();
  const stop = await startNginx(path.join(root, 'nginx'), port);
  const nUp = await curl(['-X', 'PUT', '-T', file, `http://127.0.0.1:${port}/big.bin`, '-o', '/dev/null']);
  const nDown = await curl([`http://127.0.0.1:${port}/big.bin`, '-o', '/dev/null']);
  stop();
  fs.rmSync(root, { recursive: true, force: true });

  const row = (what: string, e: number, n: number) =>
    `| ${what} | ${e.toFixed(2)} s (${mbps(e)} MiB/s) | ${n.toFixed(2)} s (${mbps(n)} MiB/s) | ${(n / e).toFixed(2)} |`;
  console.log(`file: ${sizeMiB} MiB, loopback, curl as the client`);
  console.log('| | Enclave | nginx | Enclave speed / nginx speed |');
  console.log('| --- | --- | --- | --- |');
  console.log(row('upload (tus PATCH incl. hash, sniff, store)', up.seconds, nUp.seconds));
  console.log(row('download (GET)', down.seconds, nDown.seconds));
  console.log(
    `Enclave RSS: ${(base / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB during (+${((peak - base) / MiB).toFixed(0)} MiB for ${sizeMiB} MiB moved each way), ${rss.length} samples`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
