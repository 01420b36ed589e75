/**
 * A child process of presence-scale.test.ts holding thousands of client sockets (one process may
 * hold only ~20,000 open files, and the server in the test process needs its own). Each socket:
 * authenticate by header → hello → sync → presence.subscribe(own department, 20 colleagues). It
 * reports when all are subscribed, keeps them open until told to close, and reports what it got.
 */
import { WebSocket } from 'ws';

export interface LoadJob {
  wsUrl: string;
  concurrency: number;
  clients: { token: string; userIds: string[]; departmentId: string }[];
}

export type LoadReport =
  { t: 'ready'; subscribed: number; failed: number; ms: number } | { t: 'closed'; frames: Record<string, number> };

const sockets: WebSocket[] = [];
const frames: Record<string, number> = {};
const send = (m: LoadReport) => process.send!(m);

function open(job: LoadJob, c: LoadJob['clients'][number]): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(job.wsUrl, { headers: { authorization: `Bearer ${c.token}` }, perMessageDeflate: false });
    sockets.push(ws);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      resolve(ok);
    };
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as { ev?: string; ref?: number; ok?: boolean };
      if (f.ev === 'hello') ws.send(JSON.stringify({ op: 'sync', ref: 1, data: {} }));
      else if (f.ev) frames[f.ev] = (frames[f.ev] ?? 0) + 1;
      else if (f.ref === 1 && f.ok)
        ws.send(
          JSON.stringify({
            op: 'presence.subscribe',
            ref: 2,
            data: { userIds: c.userIds, departmentIds: [c.departmentId] },
          }),
        );
      else finish(f.ref === 2 && f.ok === true);
    });
    ws.on('error', () => finish(false));
    ws.on('close', () => finish(false));
  });
}

process.on('message', (msg: LoadJob | 'close') => {
  if (msg === 'close') {
    for (const ws of sockets) ws.terminate();
    send({ t: 'closed', frames });
    return;
  }
  const job = msg;
  const started = Date.now();
  let next = 0;
  let subscribed = 0;
  let failed = 0;
  const worker = async () => {
    while (next < job.clients.length) {
      const c = job.clients[next++]!;
      if (await open(job, c)) subscribed++;
      else failed++;
    }
  };
  void Promise.all(Array.from({ length: job.concurrency }, worker)).then(() =>
    send({ t: 'ready', subscribed, failed, ms: Date.now() - started }),
  );
});
