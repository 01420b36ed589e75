import { EnclaveError, type OpInput, type OpName, type OpOutput, type User } from '@enclave/protocol';
import { EnclaveClient, IndexedDbOutboxStore, httpCall, type OutboxStore } from '@enclave/sdk';
import { safeStorage } from '../i18n/index.ts';
import { Names } from './names.ts';

/** How long without input before this device shows "away". */
export const IDLE_AFTER_MS = 5 * 60_000;

/** A stable id for this browser profile, sent at sign-in so the server keeps one device per browser. */
export function deviceId(): string {
  const store = safeStorage();
  let id = store?.getItem('enclave.deviceId') ?? null;
  if (!id || !/^[0-9a-f-]{36}$/.test(id)) {
    id = crypto.randomUUID();
    store?.setItem('enclave.deviceId', id);
  }
  return id;
}

export function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom/.test(ua)
        ? 'Chrome'
        : 'Browser';
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Mac OS/.test(ua)
      ? 'macOS'
      : /Android/.test(ua)
        ? 'Android'
        : /Linux/.test(ua)
          ? 'Linux'
          : '';
  return `Web · ${browser}${os ? ' · ' + os : ''}`;
}

/** REST without a client (before sign-in): the session cookie authenticates. */
export function rest<N extends OpName>(op: N, input: OpInput<N>): Promise<OpOutput<N>> {
  return httpCall(globalThis.fetch.bind(globalThis), location.origin, undefined, op, input);
}

/** Who is signed in, or null when the cookie is missing or no longer valid. */
export async function currentUser(): Promise<{ user: User; mustChangePassword: boolean } | null> {
  try {
    const me = await rest('me.get', {});
    return { user: me.user, mustChangePassword: me.mustChangePassword };
  } catch (e) {
    if (e instanceof EnclaveError && e.code === 'unauthenticated') return null;
    throw e;
  }
}

/** The signed-in app: one client (socket, state, outbox in IndexedDB) and the name directory. */
export class Session {
  readonly client: EnclaveClient;
  readonly names = new Names();

  constructor(
    readonly me: User,
    opts: { outboxStore?: OutboxStore } = {},
  ) {
    this.client = new EnclaveClient({
      baseUrl: location.origin,
      outboxStore: opts.outboxStore ?? new IndexedDbOutboxStore(`enclave-outbox-${me.id}`),
      deviceId: deviceId(),
      idleAfterMs: IDLE_AFTER_MS,
    });
    this.names.put([{ id: me.id, displayName: me.displayName, username: me.username }]);
    this.client.on('state', (s) => {
      for (const v of Object.values(s.conversations)) if (v.summary.peer) this.names.put([v.summary.peer]);
    });
  }

  start(): Promise<void> {
    return this.client.connect();
  }

  async logout(): Promise<void> {
    try {
      await this.client.call('auth.logout', {});
    } finally {
      this.client.close();
    }
  }
}
