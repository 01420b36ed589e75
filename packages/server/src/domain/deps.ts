import type { Logger } from 'pino';
import type { Bus, BusMessage } from '../bus/bus.ts';
import type { Config } from '../config.ts';
import type { BodyCodec } from '../lib/codec.ts';
import type { PasswordHasher } from '../lib/hasher.ts';
import type { LoginThrottle } from '../lib/throttle.ts';
import type { Store } from '../store/store.ts';
import type { Directory } from './directory.ts';
import type { Writer } from './writer.ts';
import type { MemberCache } from './member-cache.ts';

/** Everything a domain function may use. Built once in app.ts. */
export interface Deps {
  store: Store;
  bus: Bus;
  config: Config;
  log: Logger;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  codec: BodyCodec;
  directory: Directory;
  writer: Writer;
  members: MemberCache;
  now: () => number;
}

/** Who is acting: a signed-in user on one device and session. */
export interface Viewer {
  userId: number;
  uid: string;
  role: 'admin' | 'user';
  sessionId: number;
  sessionUid: string;
  deviceId: number;
  deviceUid: string;
  mustChangePassword: boolean;
}

/** Events collected inside a transaction and published only after it commits. */
export type Outbox = BusMessage[];
