import type { HandlerTable } from '../handlers.ts';
import { eventsAround } from '../../domain/search/around.ts';
import { searchDirectory } from '../../domain/search/search-directory.ts';
import { searchMessages } from '../../domain/search/search-messages.ts';
import { seqAt } from '../../domain/search/seq-at.ts';

/** Search and history: each op calls one function in domain/search/. */
export const searchHandlers: Pick<
  HandlerTable,
  'search.messages' | 'conversation.around' | 'conversation.seqAt' | 'search.directory'
> = {
  'search.messages': async ({ deps, viewer }, i) => searchMessages(deps, viewer, i),
  'conversation.around': async ({ deps, viewer }, i) => eventsAround(deps, viewer, i),
  'conversation.seqAt': async ({ deps, viewer }, i) => seqAt(deps, viewer, i),
  'search.directory': async ({ deps, viewer }, i) => searchDirectory(deps, viewer, i),
};
