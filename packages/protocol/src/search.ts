import { z } from 'zod';
import { limits } from './limits.ts';
import { ConversationId, ConversationKind, EventRange, Message, Seq } from './models.ts';
import { Person } from './org.ts';
import type { OpDef } from './ops.ts';

/* Search and history (M1.11, M1.12): message search, jump to a message, people and groups, export. */

const op = <I extends z.ZodType, O extends z.ZodType>(d: OpDef<I, O>): OpDef<I, O> => d;

export const SearchOrder = z.enum(['newest', 'relevance']);
export type SearchOrder = z.infer<typeof SearchOrder>;

/** One message hit: the message as I may see it, and a snippet with the matched ranges. */
export const SearchHit = z.object({
  conversation: z.object({ id: ConversationId, kind: ConversationKind, name: z.string() }),
  message: Message,
  snippet: z.string().describe('an excerpt of the text around the first match (… where cut)'),
  highlights: z
    .array(z.tuple([z.number().int(), z.number().int()]))
    .describe('[start, end) UTF-16 offsets of matches in `snippet`'),
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchMessagesInput = z.object({
  q: z
    .string()
    .trim()
    .max(limits.searchQueryMaxChars)
    .default('')
    .describe(
      'words and "phrases" (all must occur), from:<username|me>, in:<conversation id>, before:/after:/on:YYYY-MM-DD, has:file|image|link, is:mention',
    ),
  conversationId: ConversationId.optional().describe('search inside one conversation'),
  order: SearchOrder.default('newest'),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(limits.searchPageMax).default(20),
  tzOffsetMinutes: z.coerce
    .number()
    .int()
    .min(-840)
    .max(840)
    .default(0)
    .describe('the searcher’s UTC offset, for before:/after:/on: dates (China: 480)'),
});
export type SearchMessagesInput = z.input<typeof SearchMessagesInput>;

export const SearchMessagesResult = z.object({
  items: z.array(SearchHit),
  nextCursor: z.string().nullable(),
});
export type SearchMessagesResult = z.infer<typeof SearchMessagesResult>;

export const AroundResult = EventRange.extend({
  anchorSeq: Seq,
  hasMoreAfter: z.boolean().describe('newer events exist after this page'),
});
export type AroundResult = z.infer<typeof AroundResult>;

export const GroupHit = z.object({
  id: ConversationId,
  name: z.string(),
  memberCount: z.number().int(),
});
export type GroupHit = z.infer<typeof GroupHit>;

export const searchOps = {
  'search.messages': op({
    summary:
      'Search the messages I may see (Chinese, English, mixed; 1+ characters) with filters; newest first or by relevance, paged by cursor.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/search/messages' },
    input: SearchMessagesInput,
    output: SearchMessagesResult,
  }),
  'conversation.around': op({
    summary: 'Jump to a message: the page of a conversation around a seq (older half, the seq, newer half).',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId/around' },
    input: z.object({
      conversationId: ConversationId,
      seq: z.coerce.number().pipe(Seq),
      limit: z.coerce.number().int().min(1).max(limits.historyPageMax).default(50),
    }),
    output: AroundResult,
  }),
  'conversation.seqAt': op({
    summary:
      'Jump to a date: the first event at or after a time that I may see, or null when there is none (history calendar).',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/conversations/:conversationId/seq-at' },
    input: z.object({
      conversationId: ConversationId,
      ts: z.coerce.number().int().min(0).describe('a time in ms since the epoch (e.g. the start of a local day)'),
    }),
    output: z.object({ seq: Seq.nullable() }),
  }),
  'search.directory': op({
    summary: 'Find people (name, pinyin, phone, department) and my groups (name, pinyin full and initials) at once.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/search/directory' },
    input: z.object({
      q: z.string().trim().min(1).max(64),
      limit: z.coerce.number().int().min(1).max(50).default(10),
    }),
    output: z.object({ people: z.array(Person), groups: z.array(GroupHit) }),
  }),
} as const satisfies Record<string, OpDef>;

/** Export of a conversation: a streamed download, so a plain REST route rather than an op. */
export const ExportFormat = z.enum(['html', 'json', 'csv']);
export type ExportFormat = z.infer<typeof ExportFormat>;
export const exportRoute = {
  method: 'GET' as const,
  path: '/api/v1/conversations/:conversationId/export',
  summary:
    'Download a conversation as I may see it: HTML (self-contained, readable offline), JSON or CSV (UTF-8 with BOM). Streamed; audited.',
  input: z.object({ conversationId: ConversationId, format: ExportFormat.default('html') }),
};
