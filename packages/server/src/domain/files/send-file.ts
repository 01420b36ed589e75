import { EnclaveError, type OpOutput, type OpParsedInput } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { sendMessage } from '../messages/send-message.ts';
import { attachmentOf } from './file-rows.ts';
import { readableFile } from './file-access.ts';

/**
 * Send a finished file or folder as a message to each target conversation (one message each, with
 * its own seq, in the order given). Forwarding is the same call with a file received elsewhere: the
 * viewer must be able to read it, and no byte is uploaded again. Each target is idempotent under
 * `<clientMsgId>-<index>`, so a retry after a partial failure re-sends only what is missing.
 */
export async function sendFile(
  deps: Deps,
  viewer: Viewer,
  input: OpParsedInput<'file.send'>,
): Promise<OpOutput<'file.send'>> {
  const f = await readableFile(deps, viewer, input.fileId);
  if (f.folderId !== null) throw new EnclaveError('bad_request', 'Send the folder, not a file inside it.');
  const file = attachmentOf(f);
  const items: OpOutput<'file.send'>['items'] = [];
  for (const [i, conversationId] of input.conversationIds.entries()) {
    const r = await sendMessage(
      deps,
      viewer,
      {
        conversationId,
        clientMsgId: `${input.clientMsgId}-${i}`,
        content: { text: f.name, format: 'plain' },
        mentions: [],
        mentionAll: false,
        signoff: false,
      },
      { file, fileId: f.id },
    );
    items.push({ conversationId, ...r });
  }
  return { items };
}
