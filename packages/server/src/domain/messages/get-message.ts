import { EnclaveError, type Message } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { loadAccess, visible } from '../access.ts';
import { presentEvents } from '../conversations/read-events.ts';

/** One message as the viewer may see it (through the same presentation as history). */
export async function getMessage(deps: Deps, viewer: Viewer, conversationUid: string, seq: number): Promise<Message> {
  const exec = deps.store.reader;
  const a = await loadAccess(deps, exec, viewer, conversationUid);
  if (!visible(a, seq)) throw new EnclaveError('message_not_found');
  const rows = await exec
    .selectFrom('events')
    .select(['conversation_id', 'seq', 'type', 'actor_id', 'ts', 'message_seq', 'data'])
    .where('conversation_id', '=', a.conv.id)
    .where('seq', '=', seq)
    .where('type', '=', 'message.created')
    .execute();
  const [ev] = await presentEvents(deps, exec, viewer, a, rows);
  if (!ev?.message) throw new EnclaveError('message_not_found');
  return ev.message;
}
