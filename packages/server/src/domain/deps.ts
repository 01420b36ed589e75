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
import type { Presence } from './presence/presence.ts';
import type { OnlineCounter, OrgIndex } from './org/org-index.ts';
import type { PeopleIndex } from './people/people-index.ts';
import type { PresenceState } from '@enclave/protocol';
import type { FileService } from './files/file-service.ts';
import type { SearchIndex } from './search/port.ts';

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
  /** The organisation in memory: tree, posts, distinct headcounts per view. */
  org: OrgIndex;
  /** People search index (names, pinyin, phone, employee number, departments). */
  people: PeopleIndex;
  /** Message search index (the Search port); written in the same transaction as the message. */
  search: SearchIndex;
  /** Files: blob store, HMAC key, policy (domain/files/). */
  files: FileService;
  /** Presence, subscriptions, department online counts, follows and typing (volatile). */
  presence: Presence;
  /** Online people in a department's subtree; set by the presence engine. */
  onlineCount?: OnlineCounter;
  /** A user's presence (strongest over devices); set by the presence engine. */
  presenceOf?: (userId: number) => PresenceState;
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
