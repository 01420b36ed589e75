import { z } from 'zod';
import { errorCodeList, type ErrorBody } from './errors.ts';
import { ConvEvent, ConversationId, SessionId, DeviceId, Timestamp, User, UserEvent, UserId } from './models.ts';
import type { OpName } from './ops.ts';
import { orgEvents } from './org.ts';

/** Client → server: `{op, ref, data}`. `ref` is echoed in the reply. */
export const ClientFrame = z.object({
  op: z.string().min(1).max(64),
  ref: z.union([z.string().max(64), z.number().int()]),
  data: z.unknown().optional(),
});
export type ClientFrame = z.infer<typeof ClientFrame>;

/** The first frame of a socket not authenticated at upgrade (no cookie or Authorization header). */
export const AuthFrameData = z.object({ token: z.string().min(1).max(256) });

export const ErrorBodySchema = z.object({
  code: z.enum(errorCodeList as [string, ...string[]]),
  message: z.string(),
  details: z.unknown().optional(),
});

export const HelloData = z.object({
  user: User,
  sessionId: SessionId,
  deviceId: DeviceId,
  serverTime: Timestamp,
  heartbeatMs: z.number().int(),
  mustChangePassword: z.boolean(),
});

export const ReceiptData = z.object({
  conversationId: ConversationId,
  userId: UserId,
  readSeq: z.number().int().optional(),
  deliveredSeq: z.number().int().optional(),
});

/** Server → client event names and their payloads. `conv` and `user` are durable; the rest volatile. */
export const serverEvents = {
  hello: HelloData,
  conv: ConvEvent,
  user: UserEvent,
  receipt: ReceiptData,
  /** The server asks the client to resync (bus reconnect, overflow). */
  resync: z.object({ reason: z.string() }),
  /** The server is about to close the socket. */
  closing: z.object({ reason: z.enum(['revoked', 'logout', 'disabled', 'password_changed', 'shutdown', 'overflow']) }),
  ...orgEvents,
} as const;
export type ServerEventName = keyof typeof serverEvents;
export type ServerEventData<N extends ServerEventName> = z.infer<(typeof serverEvents)[N]>;

export type ServerFrame =
  | { ref: string | number; ok: true; data: unknown }
  | { ref: string | number | null; ok: false; error: ErrorBody }
  | { ev: ServerEventName; data: unknown };

export type OpFrame<N extends OpName = OpName> = { op: N; ref: string | number; data: unknown };

/** WebSocket close codes Enclave uses (4000–4999 are application codes). */
export const closeCodes = {
  authTimeout: 4001,
  unauthenticated: 4002,
  revoked: 4003,
  originNotAllowed: 4004,
  overflow: 4008,
  shutdown: 4009,
  frameTooLarge: 1009,
} as const;
