import { z } from 'zod';
import { limits } from './limits.ts';

/* Public ids are UUIDv7 strings made by the server; branded so one cannot stand in for another. */
export const UserId = z.uuid().brand<'UserId'>();
export type UserId = z.infer<typeof UserId>;
export const ConversationId = z.uuid().brand<'ConversationId'>();
export type ConversationId = z.infer<typeof ConversationId>;
export const MessageId = z.uuid().brand<'MessageId'>();
export type MessageId = z.infer<typeof MessageId>;
export const SessionId = z.uuid().brand<'SessionId'>();
export type SessionId = z.infer<typeof SessionId>;
export const DeviceId = z.uuid().brand<'DeviceId'>();
export type DeviceId = z.infer<typeof DeviceId>;

/** A client-made idempotency key (clientMsgId, clientOpId). */
export const ClientId = z
  .string()
  .min(1)
  .max(limits.maxClientIdChars)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
export const Seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
export const Timestamp = z.number().int().min(0).describe('epoch milliseconds');

export const Role = z.enum(['admin', 'user']);
export const User = z.object({
  id: UserId,
  username: z.string(),
  displayName: z.string(),
  role: Role,
  disabled: z.boolean(),
});
export type User = z.infer<typeof User>;

export const Session = z.object({
  id: SessionId,
  deviceId: DeviceId,
  deviceName: z.string(),
  createdAt: Timestamp,
  lastUsedAt: Timestamp,
  ip: z.string().nullable(),
  current: z.boolean(),
});
export type Session = z.infer<typeof Session>;

export const MessageContent = z.object({
  text: z.string().min(1).max(limits.maxTextChars),
  format: z.enum(['markdown', 'plain']).default('markdown'),
});
export type MessageContent = z.infer<typeof MessageContent>;

export const Reaction = z.object({ emoji: z.string(), userIds: z.array(UserId) });

export const FileId = z.uuid().brand<'FileId'>();
export type FileId = z.infer<typeof FileId>;

/** The file a file message carries (kind `file`); its bytes are fetched through the files routes. */
export const FileAttachment = z.object({
  id: FileId,
  name: z.string(),
  size: z.number().int().describe('bytes; for a folder, the sum of its files'),
  mime: z.string().describe('sniffed from the content, not taken from the name'),
  kind: z.enum(['file', 'image', 'folder']),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  thumbnail: z.boolean().describe('a server-made thumbnail exists'),
});
export type FileAttachment = z.infer<typeof FileAttachment>;

/**
 * A message as one viewer may see it (the output of the server's presentMessage).
 * `state`: normal — content present; recalled — tombstone, no content; withheld — a sign-off
 * message this viewer has not signed yet, no content.
 */
export interface Message {
  conversationId: ConversationId;
  seq: number;
  id: MessageId;
  senderId: UserId;
  clientMsgId?: string;
  kind: 'text' | 'system' | 'file';
  ts: number;
  state: 'normal' | 'recalled' | 'withheld';
  content: MessageContent | null;
  mentions: UserId[];
  mentionAll: boolean;
  replyTo: { seq: number; quote: Message | null } | null;
  signoff: { required: true; signed: boolean } | null;
  editedAt: number | null;
  reactions: { emoji: string; userIds: UserId[] }[];
  /** File messages: the file, while the message is visible to this viewer. */
  file?: FileAttachment | null;
}
export const Message: z.ZodType<Message> = z.lazy(() =>
  z.object({
    conversationId: ConversationId,
    seq: Seq,
    id: MessageId,
    senderId: UserId,
    clientMsgId: z.string().optional(),
    kind: z.enum(['text', 'system', 'file']),
    ts: Timestamp,
    state: z.enum(['normal', 'recalled', 'withheld']),
    content: MessageContent.nullable(),
    mentions: z.array(UserId),
    mentionAll: z.boolean(),
    replyTo: z.object({ seq: Seq, quote: Message.nullable() }).nullable(),
    signoff: z.object({ required: z.literal(true), signed: z.boolean() }).nullable(),
    editedAt: Timestamp.nullable(),
    reactions: z.array(Reaction),
    file: FileAttachment.nullable().optional(),
  }),
);

/** Durable events of a conversation's stream, numbered by `seq` without gaps. */
export const ConvEventType = z.enum([
  'message.created',
  'message.edited',
  'message.recalled',
  'reaction.changed',
  'member.joined',
  'member.left',
  'conversation.updated',
  'conversation.dissolved',
]);
export type ConvEventType = z.infer<typeof ConvEventType>;

export const ConvEvent = z.object({
  conversationId: ConversationId,
  seq: Seq,
  ts: Timestamp,
  type: ConvEventType,
  actorId: UserId,
  /** The message the event is about, as this viewer may see it now. */
  message: Message.nullable(),
  /** Non-body details: member ids for membership events, changed fields for updates. */
  data: z.record(z.string(), z.unknown()).nullable(),
});
export type ConvEvent = z.infer<typeof ConvEvent>;

export const MemberRole = z.enum(['owner', 'admin', 'member']);
export type MemberRole = z.infer<typeof MemberRole>;

export const Member = z.object({
  userId: UserId,
  displayName: z.string(),
  role: MemberRole,
  mutedUntil: Timestamp.nullable(),
  joinedSeq: z.number().int(),
});
export type Member = z.infer<typeof Member>;

export const ConversationKind = z.enum(['direct', 'group', 'self']);
export const HistoryMode = z.enum(['from_join', 'all']);

/** A conversation as the viewer sees it in the list: their unread, mentions and settings. */
export const Conversation = z.object({
  id: ConversationId,
  kind: ConversationKind,
  name: z.string(),
  peer: User.nullable(),
  lastSeq: z.number().int(),
  lastTs: Timestamp,
  minSeq: z.number().int().describe('lowest seq this viewer may see; a gap below it is final'),
  unread: z.number().int(),
  mentions: z.number().int(),
  preview: Message.nullable(),
  muted: z.boolean(),
  pinned: z.boolean(),
  role: MemberRole,
  readSeq: z.number().int(),
  peerReadSeq: z.number().int().nullable(),
  peerDeliveredSeq: z.number().int().nullable(),
  memberCount: z.number().int(),
  announcement: z.string().nullable(),
  allMuted: z.boolean(),
  historyMode: HistoryMode,
  dissolved: z.boolean(),
  active: z.boolean().describe('false once the viewer left or was removed'),
});
export type Conversation = z.infer<typeof Conversation>;

/** Durable events of a user's own stream (numbered by `useq`). */
export const UserEventType = z.enum([
  'conversation.joined',
  'conversation.left',
  'settings.changed',
  'read.changed',
  'message.signed',
  'signoff.reminded',
]);
export const UserEvent = z.object({
  useq: Seq,
  ts: Timestamp,
  type: UserEventType,
  conversationId: ConversationId,
  data: z.record(z.string(), z.unknown()),
});
export type UserEvent = z.infer<typeof UserEvent>;

export const EventRange = z.object({
  conversationId: ConversationId,
  events: z.array(ConvEvent),
  headSeq: z.number().int(),
  minSeq: z.number().int(),
  hasMore: z.boolean(),
});
export type EventRange = z.infer<typeof EventRange>;
