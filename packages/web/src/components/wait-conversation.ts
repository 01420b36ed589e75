import type { ConversationId } from '@enclave/protocol';
import type { Session } from '../state/session.ts';

/** After opening or creating a conversation, wait until the client state has it (it arrives by event or load). */
export async function waitForConversation(session: Session, id: ConversationId): Promise<void> {
  if (session.client.state.conversations[id]) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve();
    }, 5_000);
    const off = session.client.on('state', (s) => {
      if (!s.conversations[id]) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}
