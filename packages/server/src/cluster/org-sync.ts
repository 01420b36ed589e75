import type { Logger } from 'pino';
import type { RedisBus } from '../bus/redis.ts';
import type { OrgIndex } from '../domain/org/org-index.ts';

/**
 * Every node holds the organisation in memory (OrgIndex: tree, posts, headcounts). A change made on
 * one node is announced with one `org` bus message; the other nodes reload from the store, coalesced
 * (org changes are rare admin actions; a reload reads three tables). Reloads run under the
 * organisation's write lock, one at a time, and their own change notification is not announced
 * again (no ping-pong between nodes). A lost `org` message is healed by the reload after every bus
 * reconnect.
 */
export function syncOrgAcrossNodes(bus: RedisBus, org: OrgIndex, log: Logger, delayMs = 50): () => void {
  let reloading = false;
  let timer: NodeJS.Timeout | null = null;
  const unsubscribe = org.onChange(() => {
    if (!reloading) bus.publish({ t: 'org' });
  });
  const reload = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      // Under the organisation's write lock: a reload never interleaves with a local org write (whose
      // in-memory update a stale read would undo), and the flag covers exactly the reload's own change.
      org
        .exclusive(async () => {
          reloading = true;
          try {
            await org.reload();
          } finally {
            reloading = false;
          }
        })
        .catch((err: unknown) => log.error({ err }, 'organisation reload failed'));
    }, delayMs);
    timer.unref();
  };
  bus.subscribeRemote((msg) => {
    if (msg.t === 'org') reload();
  });
  bus.onReconnect(reload);
  return () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}
