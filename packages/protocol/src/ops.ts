import { z } from 'zod';
import { limits } from './limits.ts';
import { orgOps } from './org.ts';
import { fileOps } from './files.ts';
import { searchOps } from './search.ts';
import {
  ClientId,
  Conversation,
  ConversationId,
  ConvEvent,
  EventRange,
  HistoryMode,
  Member,
  MemberRole,
  Message,
  MessageContent,
  MessageId,
  Seq,
  Session,
  SessionId,
  Timestamp,
  User,
  UserEvent,
  UserId,
} from './models.ts';

/**
 * Every operation is defined once here: its input, its output, who may call it, and where it is
 * reachable. The server implements one handler per op; WebSocket frames name the op, REST routes
 * map a method and path onto it (path parameters merge into the input); the OpenAPI document is
 * generated from this table.
 */
export interface OpDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  summary: string;
  auth: 'none' | 'user' | 'admin';
  /** REST route; ops without one are WebSocket-only. */
  http?: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; path: string };
  /** Reachable over the WebSocket (default true for authenticated ops). */
  ws?: boolean;
}

const op = <I extends z.ZodType, O extends z.ZodType>(d: OpDef<I, O>): OpDef<I, O> => d;

const Ok = z.object({ ok: z.literal(true) });
const Name = z.string().trim().min(1).max(limits.maxNameChars);
const Username = z.string().regex(new RegExp(limits.usernamePattern), 'lowercase letters, digits, . _ -');
const Password = z.string().min(1).max(limits.maxPasswordChars);
const DeviceName = z.string().trim().min(1).max(limits.maxNameChars);
const convParam = { conversationId: ConversationId };
const msgParam = { conversationId: ConversationId, seq: z.coerce.number().pipe(Seq) };

export const SyncResult = z.object({
  token: z.string(),
  userEvents: z.array(UserEvent),
  conversations: z.array(
    z.object({
      conversation: Conversation,
      events: z.array(ConvEvent).describe('at most K newest events since the token'),
      limited: z.boolean().describe('older events exist since the token: load them on open'),
    }),
  ),
  limited: z.boolean().describe('more moved conversations exist: call sync again with `token`'),
  totalUnread: z.number().int(),
  serverTime: Timestamp,
});
export type SyncResult = z.infer<typeof SyncResult>;

export const SendInput = z.object({
  conversationId: ConversationId,
  clientMsgId: ClientId,
  content: MessageContent,
  mentions: z.array(UserId).max(limits.maxMentions).default([]),
  mentionAll: z.boolean().default(false),
  replyToSeq: Seq.optional(),
  signoff: z.boolean().default(false),
});
export type SendInput = z.input<typeof SendInput>;

export const SendResult = z.object({ messageId: MessageId, seq: Seq, ts: Timestamp, duplicate: z.boolean() });
export type SendResult = z.infer<typeof SendResult>;

export const LoginResult = z.object({
  token: z.string(),
  session: Session,
  user: User,
  mustChangePassword: z.boolean(),
});

export const Receipts = z.object({
  seq: Seq,
  readCount: z.number().int(),
  unreadCount: z.number().int(),
  readers: z.array(z.object({ userId: UserId, displayName: z.string() })),
  unreadMembers: z.array(z.object({ userId: UserId, displayName: z.string() })),
  nextCursor: z.string().nullable(),
});

export const Signoffs = z.object({
  seq: Seq,
  signed: z.array(z.object({ userId: UserId, displayName: z.string(), signedAt: Timestamp })),
  unsigned: z.array(z.object({ userId: UserId, displayName: z.string() })),
});

export const ops = {
  /* ---- sessions and accounts ---- */
  'auth.login': op({
    summary: 'Sign in with username and password; returns a per-device token and sets the session cookie.',
    auth: 'none',
    http: { method: 'POST', path: '/api/v1/auth/login' },
    ws: false,
    input: z.object({
      username: z.string().min(1).max(64),
      password: Password,
      deviceId: z.uuid().optional().describe('stable id of this device, kept by the client'),
      deviceName: DeviceName.default('unknown device'),
    }),
    output: LoginResult,
  }),
  'auth.logout': op({
    summary: 'End the current session (its live sockets close).',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/auth/logout' },
    input: z.object({}),
    output: Ok,
  }),
  'me.get': op({
    summary: 'The signed-in user.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/me' },
    input: z.object({}),
    output: z.object({ user: User, mustChangePassword: z.boolean(), sessionId: SessionId }),
  }),
  'me.changePassword': op({
    summary: 'Change my password; every other session is revoked.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/me/password' },
    input: z.object({ currentPassword: Password, newPassword: Password }),
    output: Ok,
  }),
  'session.list': op({
    summary: 'My sessions, one per signed-in device.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/me/sessions' },
    input: z.object({}),
    output: z.object({ items: z.array(Session) }),
  }),
  'session.revoke': op({
    summary: 'Revoke one of my sessions; its live sockets close at once.',
    auth: 'user',
    http: { method: 'DELETE', path: '/api/v1/me/sessions/:sessionId' },
    input: z.object({ sessionId: SessionId }),
    output: Ok,
  }),
  'user.list': op({
    summary: 'Find users by username or display name.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/users' },
    input: z.object({ q: z.string().max(64).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
    output: z.object({ items: z.array(User) }),
  }),
  'user.get': op({
    summary: 'One user.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/users/:userId' },
    input: z.object({ userId: UserId }),
    output: User,
  }),
  'admin.user.create': op({
    summary: 'Create a user (administrator).',
    auth: 'admin',
    http: { method: 'POST', path: '/api/v1/admin/users' },
    input: z.object({
      username: Username,
      displayName: Name,
      password: Password,
      role: z.enum(['admin', 'user']).default('user'),
      mustChangePassword: z.boolean().default(true),
    }),
    output: User,
  }),
  'admin.user.setDisabled': op({
    summary: 'Disable or enable a user; disabling closes their sockets and revokes their sessions.',
    auth: 'admin',
    http: { method: 'POST', path: '/api/v1/admin/users/:userId/disabled' },
    input: z.object({ userId: UserId, disabled: z.boolean() }),
    output: User,
  }),
  'admin.user.resetPassword': op({
    summary: 'Set a new password for a user, who must change it at next sign-in; their sessions are revoked.',
    auth: 'admin',
    http: { method: 'POST', path: '/api/v1/admin/users/:userId/password' },
    input: z.object({ userId: UserId, password: Password }),
    output: Ok,
  }),

  /* ---- real time ---- */
  sync: op({
    summary:
      'One bounded answer with what changed since the token: my user events, moved conversations with their newest events.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/sync' },
    input: z.object({
      token: z.string().max(512).optional(),
      conversationLimit: z.number().int().min(1).max(limits.syncConversationsMax).default(100),
      eventsPerConversation: z
        .number()
        .int()
        .min(0)
        .max(limits.historyPageMax)
        .default(limits.syncEventsPerConversation),
    }),
    output: SyncResult,
  }),
  ping: op({ summary: 'Heartbeat.', auth: 'user', input: z.object({}), output: z.object({ serverTime: Timestamp }) }),

  /* ---- conversations ---- */
  'conversation.list': op({
    summary: 'My conversations: pinned first, then by last activity, with unread, mentions and preview.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations' },
    input: z.object({ includeLeft: z.union([z.boolean(), z.stringbool()]).default(false) }),
    output: z.object({ items: z.array(Conversation), totalUnread: z.number().int() }),
  }),
  'conversation.get': op({
    summary: 'One conversation as I see it.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId' },
    input: z.object(convParam),
    output: Conversation,
  }),
  'conversation.openDirect': op({
    summary: 'The 1:1 conversation with a user, created on first use (one per pair).',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/direct' },
    input: z.object({ userId: UserId }),
    output: Conversation,
  }),
  'conversation.openSelf': op({
    summary: 'My file assistant: a conversation with myself across my devices.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/self' },
    input: z.object({}),
    output: Conversation,
  }),
  'group.create': op({
    summary: 'Create a group; I become its owner.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/groups' },
    input: z.object({
      name: Name,
      memberIds: z.array(UserId).max(limits.maxMembersPerRequest).default([]),
      historyMode: HistoryMode.default('from_join'),
    }),
    output: Conversation,
  }),
  'group.update': op({
    summary: 'Rename, set the announcement, mute everyone, or change history visibility (owner/admins).',
    auth: 'user',
    http: { method: 'PATCH', path: '/api/v1/groups/:conversationId' },
    input: z.object({
      conversationId: ConversationId,
      name: Name.optional(),
      announcement: z.string().max(limits.maxAnnouncementChars).nullable().optional(),
      allMuted: z.boolean().optional(),
      historyMode: HistoryMode.optional(),
    }),
    output: Conversation,
  }),
  'group.members': op({
    summary: 'Current members of a group.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId/members' },
    input: z.object(convParam),
    output: z.object({ items: z.array(Member) }),
  }),
  'group.addMembers': op({
    summary: 'Add people to a group (owner/admins).',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/groups/:conversationId/members' },
    input: z.object({
      conversationId: ConversationId,
      userIds: z.array(UserId).min(1).max(limits.maxMembersPerRequest),
    }),
    output: z.object({ added: z.array(UserId) }),
  }),
  'group.removeMember': op({
    summary: 'Remove a member (owner/admins); takes effect exactly at the seq of the removal event.',
    auth: 'user',
    http: { method: 'DELETE', path: '/api/v1/groups/:conversationId/members/:userId' },
    input: z.object({ conversationId: ConversationId, userId: UserId }),
    output: Ok,
  }),
  'group.setMember': op({
    summary: 'Make a member admin or member, or mute them until a time (owner/admins).',
    auth: 'user',
    http: { method: 'PATCH', path: '/api/v1/groups/:conversationId/members/:userId' },
    input: z.object({
      conversationId: ConversationId,
      userId: UserId,
      role: z.enum(['admin', 'member']).optional(),
      mutedUntil: Timestamp.nullable().optional(),
    }),
    output: Member,
  }),
  'group.leave': op({
    summary: 'Leave a group (the owner must transfer first).',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/groups/:conversationId/leave' },
    input: z.object(convParam),
    output: Ok,
  }),
  'group.transfer': op({
    summary: 'Hand ownership to another member.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/groups/:conversationId/transfer' },
    input: z.object({ conversationId: ConversationId, userId: UserId }),
    output: Ok,
  }),
  'group.dissolve': op({
    summary: 'Dissolve a group (owner): it becomes read-only; its data is purged later.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/groups/:conversationId/dissolve' },
    input: z.object(convParam),
    output: Ok,
  }),
  'conversation.setSettings': op({
    summary: 'My settings for a conversation: mute notifications, pin to top.',
    auth: 'user',
    http: { method: 'PATCH', path: '/api/v1/conversations/:conversationId/settings' },
    input: z.object({ conversationId: ConversationId, muted: z.boolean().optional(), pinned: z.boolean().optional() }),
    output: Conversation,
  }),
  'conversation.events': op({
    summary: 'A range of a conversation stream, newest first when `before` is given; bounded by my visible floor.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId/events' },
    input: z.object({
      conversationId: ConversationId,
      after: z.coerce.number().int().min(0).optional(),
      before: z.coerce.number().int().min(1).optional(),
      limit: z.coerce.number().int().min(1).max(limits.historyPageMax).default(50),
    }),
    output: EventRange,
  }),
  'conversation.read': op({
    summary: 'Move my read cursor forward (never back); my other devices follow.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/:conversationId/read' },
    input: z.object({ conversationId: ConversationId, seq: z.number().int().min(0) }),
    output: z.object({ readSeq: z.number().int(), unread: z.number().int() }),
  }),
  'conversation.delivered': op({
    summary: 'Tell the server this device received events up to seq (1:1 delivered receipts).',
    auth: 'user',
    input: z.object({ conversationId: ConversationId, seq: z.number().int().min(0) }),
    output: Ok,
  }),
  'conversation.focus': op({
    summary: 'Which conversation this socket has open: it receives live read receipts for it.',
    auth: 'user',
    input: z.object({ conversationId: ConversationId.nullable() }),
    output: Ok,
  }),

  /* ---- messages ---- */
  'message.send': op({
    summary: 'Send a message. A retry with the same clientMsgId returns the original ack.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/:conversationId/messages' },
    input: SendInput,
    output: SendResult,
  }),
  'message.edit': op({
    summary: 'Edit my message.',
    auth: 'user',
    http: { method: 'PATCH', path: '/api/v1/conversations/:conversationId/messages/:seq' },
    input: z.object({ ...msgParam, clientOpId: ClientId, content: MessageContent }),
    output: z.object({ seq: Seq }),
  }),
  'message.react': op({
    summary: 'Set or unset my reaction (idempotent: set twice is set once).',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/:conversationId/messages/:seq/reactions' },
    input: z.object({
      ...msgParam,
      clientOpId: ClientId,
      emoji: z.string().min(1).max(limits.maxEmojiChars),
      on: z.boolean(),
    }),
    output: z.object({ seq: Seq.nullable() }),
  }),
  'message.recall': op({
    summary: 'Recall a message within the window; it disappears for every member on every device.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/:conversationId/messages/:seq/recall' },
    input: z.object({ ...msgParam, clientOpId: ClientId }),
    output: z.object({ seq: Seq }),
  }),
  'message.get': op({
    summary: 'One message as I may see it.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId/messages/:seq' },
    input: z.object(msgParam),
    output: Message,
  }),
  'message.sign': op({
    summary: 'Sign a sign-off message: returns its content, recorded with device and time (idempotent).',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/:conversationId/messages/:seq/sign' },
    input: z.object(msgParam),
    output: Message,
  }),
  'message.signoffs': op({
    summary: 'Who signed a sign-off message and who did not (sender, owner, admins).',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId/messages/:seq/signoffs' },
    input: z.object(msgParam),
    output: Signoffs,
  }),
  'message.remind': op({
    summary: 'Remind everyone who has not signed yet.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/:conversationId/messages/:seq/remind' },
    input: z.object(msgParam),
    output: z.object({ reminded: z.number().int() }),
  }),
  'message.receipts': op({
    summary: 'Read receipts of one message: counts, and a page of who read / who has not (paged by cursor).',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId/messages/:seq/receipts' },
    input: z.object({
      ...msgParam,
      limit: z.coerce.number().int().min(1).max(500).default(100),
      /** `nextCursor` of the previous page. */
      cursor: z.string().max(64).optional(),
    }),
    output: Receipts,
  }),
  'message.readCounts': op({
    summary: 'Unread-member counts for several of my messages at once (group "N unread").',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/conversations/:conversationId/read-counts' },
    input: z.object({ conversationId: ConversationId, seqs: z.array(Seq).min(1).max(200) }),
    output: z.object({
      items: z.array(z.object({ seq: Seq, readCount: z.number().int(), unreadCount: z.number().int() })),
    }),
  }),
  ...orgOps,
  ...fileOps,
  ...searchOps,
} as const satisfies Record<string, OpDef>;

export type Ops = typeof ops;
export type OpName = keyof Ops;
export type OpInput<N extends OpName> = z.input<Ops[N]['input']>;
export type OpParsedInput<N extends OpName> = z.output<Ops[N]['input']>;
export type OpOutput<N extends OpName> = z.output<Ops[N]['output']>;
export const opNames = Object.keys(ops) as OpName[];
export { MemberRole };
