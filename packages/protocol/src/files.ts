import { z } from 'zod';
import { ClientId, ConversationId, FileAttachment, FileId, MessageId, Seq, Timestamp, UserId } from './models.ts';
import type { OpDef } from './ops.ts';

/* Files (M3.1, M3.2, M3.4, part of M5.4): uploads, file messages, group file space, previews, policy. */

/** Bounds of the file feature; the server enforces them, the SDK and UI read them. */
export const fileLimits = {
  maxNameChars: 255,
  /** A relative path inside a folder upload ("a/b/c.txt"). */
  maxPathChars: 1_000,
  maxPathDepth: 32,
  maxFolderEntries: 10_000,
  maxSendTargets: 50,
  maxMimeRules: 100,
  /** Default policy when an administrator has not set one: 2 GiB. */
  defaultMaxBytes: 2 * 1024 * 1024 * 1024,
  thumbnailPx: 320,
  /** Images larger than this many pixels get no thumbnail (decompression bombs). */
  maxImagePixels: 100_000_000,
  groupFilesPageMax: 200,
  recentFilesPageMax: 200,
} as const;

/** Where tus uploads go; `GET /api/v1/files/:fileId/content` etc. are plain HTTP routes. */
export const filePaths = {
  uploads: '/api/v1/uploads',
  content: (fileId: string) => `/api/v1/files/${fileId}/content`,
  thumbnail: (fileId: string) => `/api/v1/files/${fileId}/thumbnail`,
  zip: (fileId: string) => `/api/v1/files/${fileId}/zip`,
  previewPdf: (fileId: string) => `/api/v1/files/${fileId}/preview.pdf`,
} as const;

/** Response header of the last tus PATCH (and of HEAD on a finished upload): the new file's id. */
export const FILE_ID_HEADER = 'Enclave-File-Id';

export const PreviewKind = z.enum(['image', 'pdf', 'text', 'audio', 'video', 'office', 'none']);
export type PreviewKind = z.infer<typeof PreviewKind>;

/** A folder entry: relative path inside the folder and the file it holds. */
export const FolderEntry = z.object({
  path: z.string(),
  fileId: FileId,
  size: z.number().int(),
  mime: z.string(),
});

export const FileInfo = FileAttachment.extend({
  ownerId: UserId,
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable().describe('when retention removes it'),
  entries: z.array(FolderEntry).nullable().describe('folders only: every file with its path'),
});
export type FileInfo = z.infer<typeof FileInfo>;

export const FilePolicy = z.object({
  maxBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  allowedTypes: z
    .array(z.string().trim().toLowerCase().min(1).max(127))
    .max(fileLimits.maxMimeRules)
    .describe('MIME types or "type/*" allowed; empty = all not blocked'),
  blockedTypes: z.array(z.string().trim().toLowerCase().min(1).max(127)).max(fileLimits.maxMimeRules),
});
export type FilePolicy = z.infer<typeof FilePolicy>;

export const PreviewInfo = z.object({
  kind: PreviewKind,
  available: z.boolean(),
  reason: z.string().nullable().describe('why a preview is unavailable, e.g. no office converter installed'),
  url: z.string().nullable().describe('where the previewable bytes are: the content, or the converted PDF'),
});
export type PreviewInfo = z.infer<typeof PreviewInfo>;

export const GroupFile = z.object({
  file: FileAttachment,
  seq: Seq,
  messageId: MessageId,
  senderId: UserId,
  sentAt: Timestamp,
});
export type GroupFile = z.infer<typeof GroupFile>;

/** A file in any of my conversations (the Files view): the group-file row plus where it was sent. */
export const RecentFile = GroupFile.extend({
  conversation: z.object({
    id: ConversationId,
    kind: z.enum(['direct', 'group', 'self']),
    name: z.string().describe('the group name, or the other person for a direct chat'),
  }),
});
export type RecentFile = z.infer<typeof RecentFile>;

const op = <I extends z.ZodType, O extends z.ZodType>(d: OpDef<I, O>): OpDef<I, O> => d;
const Ok = z.object({ ok: z.literal(true) });
const FileName = z.string().min(1).max(fileLimits.maxNameChars);

export const SendFileResult = z.object({
  items: z.array(
    z.object({ conversationId: ConversationId, messageId: MessageId, seq: Seq, ts: Timestamp, duplicate: z.boolean() }),
  ),
});

export const fileOps = {
  'file.policy': op({
    summary: 'The file policy in force: size limit, allowed and blocked types.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/files/policy' },
    input: z.object({}),
    output: FilePolicy,
  }),
  'file.check': op({
    summary:
      'Check a file against the policy before uploading, from its declared size and type; the error names the rule. The bytes are checked again by content on upload.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/files/check' },
    input: z.object({ name: FileName, size: z.number().int().min(0), type: z.string().max(127).default('') }),
    output: Ok,
  }),
  'file.get': op({
    summary: 'A file I may see (uploaded by me, or in a message I can see): metadata, folder entries.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/files/:fileId' },
    input: z.object({ fileId: FileId }),
    output: FileInfo,
  }),
  'file.send': op({
    summary:
      'Send a completed file (or folder) as a message to one or more conversations. Forwarding a received file is the same call: no re-upload.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/files/:fileId/send' },
    input: z.object({
      fileId: FileId,
      conversationIds: z.array(ConversationId).min(1).max(fileLimits.maxSendTargets),
      clientMsgId: ClientId.describe('idempotency key; each target gets `<clientMsgId>-<index>`').refine(
        (s) => s.length <= 60,
        'at most 60 characters',
      ),
    }),
    output: SendFileResult,
  }),
  'folder.create': op({
    summary: 'Start a folder: upload its files with tus metadata folderId and path, then send the folder.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/folders' },
    input: z.object({ name: FileName }),
    output: FileInfo,
  }),
  'file.preview': op({
    summary:
      'How a file can be previewed. Office documents are converted to PDF when the server has LibreOffice; otherwise `available` is false and `reason` says so.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/files/:fileId/preview' },
    input: z.object({ fileId: FileId }),
    output: PreviewInfo,
  }),
  'group.files': op({
    summary: 'The group file space: every file sent in the conversation that I may see, searchable and sortable.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId/files' },
    input: z.object({
      conversationId: ConversationId,
      q: z.string().trim().max(100).default(''),
      sort: z.enum(['time', 'name', 'size']).default('time'),
      order: z.enum(['asc', 'desc']).default('desc'),
      limit: z.coerce.number().int().min(1).max(fileLimits.groupFilesPageMax).default(50),
      offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    }),
    output: z.object({ items: z.array(GroupFile), total: z.number().int() }),
  }),
  'group.files.delete': op({
    summary: 'Remove a file from the group file space (owner and admins): nobody can fetch it through that message.',
    auth: 'user',
    http: { method: 'DELETE', path: '/api/v1/conversations/:conversationId/files/:seq' },
    input: z.object({ conversationId: ConversationId, seq: z.coerce.number().pipe(Seq) }),
    output: Ok,
  }),
  'files.recent': op({
    summary:
      'Files in all my conversations, newest first: only conversations I am an active member of, only messages I may see (not recalled, not removed); searchable by name, paged by cursor.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/files/recent' },
    input: z.object({
      q: z.string().trim().max(100).default(''),
      limit: z.coerce.number().int().min(1).max(fileLimits.recentFilesPageMax).default(50),
      cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
    }),
    output: z.object({
      items: z.array(RecentFile),
      nextCursor: z.string().nullable().describe('null on the last page'),
    }),
  }),
  'admin.filePolicy.set': op({
    summary: 'Set the file policy (size limit, allowed and blocked types). Enforced by the server on every upload.',
    auth: 'admin',
    http: { method: 'PATCH', path: '/api/v1/admin/file-policy' },
    input: FilePolicy.partial(),
    output: FilePolicy,
  }),
} as const satisfies Record<string, OpDef>;
