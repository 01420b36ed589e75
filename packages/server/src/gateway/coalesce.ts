import type { Socket } from 'node:net';

/*
 * Frames written to one socket within one turn of the event loop leave in one `writev`: the first
 * write of the turn corks the socket and the check phase uncorks every socket corked. A send's ack
 * and the sender's own copy of the event, or a group-commit batch's many events to one reader,
 * then cost one syscall instead of one each (the syscall is most of a socket write on a VM).
 * Latency added: at most the rest of the current turn.
 */
const corked: Socket[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const sockets = corked.splice(0);
  for (const s of sockets) s.uncork();
}

export function corkForThisTurn(socket: Socket): void {
  if (socket.writableCorked > 0 || socket.destroyed) return;
  socket.cork();
  corked.push(socket);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}
