import {
  EnclaveError,
  type fileOps,
  type OpName,
  type OpOutput,
  type OpParsedInput,
  type orgOps,
  type searchOps,
} from '@enclave/protocol';
import { orgHandlers } from './handlers/org.ts';
import { presenceHandlers } from './handlers/presence.ts';
import { contactHandlers } from './handlers/contacts.ts';
import { fileHandlers } from './handlers/files.ts';
import { searchHandlers } from './handlers/search.ts';
import type { Deps, Viewer } from '../domain/deps.ts';
import type { PresenceSocket } from '../domain/presence/presence.ts';
import { createUser } from '../domain/accounts/create-user.ts';
import { changePassword, resetPassword, setUserDisabled } from '../domain/accounts/passwords.ts';
import { listSessions, logout, revokeSession } from '../domain/accounts/sessions.ts';
import { findUsers, getUser } from '../domain/accounts/users.ts';
import { markDelivered, markRead, setSettings } from '../domain/conversations/cursors.ts';
import {
  addMembers,
  dissolveGroup,
  listMembers,
  removeMember,
  setMember,
  transferGroup,
  updateGroup,
} from '../domain/conversations/manage-group.ts';
import { createGroup, openDirect, openSelf, summaryOf } from '../domain/conversations/open-conversation.ts';
import { readEvents } from '../domain/conversations/read-events.ts';
import { querySummaries, stripInternal, totalUnread } from '../domain/conversations/summaries.ts';
import { sync } from '../domain/conversations/sync.ts';
import { convIdOf } from '../domain/conv-ids.ts';
import { getMessage } from '../domain/messages/get-message.ts';
import { editMessage, reactToMessage, recallMessage } from '../domain/messages/mutate-message.ts';
import { sendMessage } from '../domain/messages/send-message.ts';
import { listSignoffs, messageReceipts, readCounts, remindSignoff, signMessage } from '../domain/messages/signoff.ts';

/** What a handler gets besides its input: the app's deps, the viewer, and the socket if any. */
export interface OpContext {
  deps: Deps;
  viewer: Viewer;
  /** Set for WebSocket calls: per-socket state such as the focused conversation. */
  socket?: { setFocus(conversationId: number | null): void; conn: PresenceSocket };
}

export type Handler<N extends OpName> = (ctx: OpContext, input: OpParsedInput<N>) => Promise<OpOutput<N>>;
export type AuthedOps = Exclude<OpName, 'auth.login'>;
export type HandlerTable = { [N in AuthedOps]: Handler<N> };
type OrgOps = keyof typeof orgOps | keyof typeof fileOps | keyof typeof searchOps;

const ok = { ok: true as const };

/**
 * The op table: each op calls one domain function. No SQL and no business rules here. `auth.login`
 * lives in http.ts because it sets a cookie and has no viewer yet.
 */
const core: Omit<HandlerTable, OrgOps> = {
  'auth.logout': async ({ deps, viewer }) => (await logout(deps, viewer), ok),
  'me.get': async ({ deps, viewer }) => ({
    user: await getUser(deps, viewer.uid),
    mustChangePassword: viewer.mustChangePassword,
    sessionId: viewer.sessionUid as OpOutput<'me.get'>['sessionId'],
  }),
  'me.changePassword': async ({ deps, viewer }, i) => (
    await changePassword(deps, viewer, i.currentPassword, i.newPassword),
    ok
  ),
  'session.list': async ({ deps, viewer }) => ({ items: await listSessions(deps, viewer) }),
  'session.revoke': async ({ deps, viewer }, i) => (await revokeSession(deps, viewer, i.sessionId), ok),
  'user.list': async ({ deps }, i) => ({ items: await findUsers(deps, i.q, i.limit) }),
  'user.get': async ({ deps }, i) => getUser(deps, i.userId),
  'admin.user.create': async ({ deps }, i) => createUser(deps, i),
  'admin.user.setDisabled': async ({ deps, viewer }, i) => setUserDisabled(deps, viewer, i.userId, i.disabled),
  'admin.user.resetPassword': async ({ deps, viewer }, i) => (
    await resetPassword(deps, viewer, i.userId, i.password),
    ok
  ),
  sync: async ({ deps, viewer }, i) => sync(deps, viewer, i),
  ping: async ({ deps }) => ({ serverTime: deps.now() }),
  'conversation.list': async ({ deps, viewer }, i) => {
    const items = (await querySummaries(deps, deps.store.reader, viewer, { includeLeft: i.includeLeft })).map(
      stripInternal,
    );
    return { items, totalUnread: totalUnread(items) };
  },
  'conversation.get': async ({ deps, viewer }, i) => summaryOf(deps, viewer, await convIdOf(deps, i.conversationId)),
  'conversation.openDirect': async ({ deps, viewer }, i) => openDirect(deps, viewer, i.userId),
  'conversation.openSelf': async ({ deps, viewer }) => openSelf(deps, viewer),
  'group.create': async ({ deps, viewer }, i) => createGroup(deps, viewer, i),
  'group.update': async ({ deps, viewer }, i) => updateGroup(deps, viewer, i),
  'group.members': async ({ deps, viewer }, i) => ({ items: await listMembers(deps, viewer, i.conversationId) }),
  'group.addMembers': async ({ deps, viewer }, i) => ({
    added: (await addMembers(deps, viewer, i.conversationId, i.userIds)) as OpOutput<'group.addMembers'>['added'],
  }),
  'group.removeMember': async ({ deps, viewer }, i) => (
    await removeMember(deps, viewer, i.conversationId, i.userId),
    ok
  ),
  'group.setMember': async ({ deps, viewer }, i) => setMember(deps, viewer, i),
  'group.leave': async ({ deps, viewer }, i) => (await removeMember(deps, viewer, i.conversationId, viewer.uid), ok),
  'group.transfer': async ({ deps, viewer }, i) => (await transferGroup(deps, viewer, i.conversationId, i.userId), ok),
  'group.dissolve': async ({ deps, viewer }, i) => (await dissolveGroup(deps, viewer, i.conversationId), ok),
  'conversation.setSettings': async ({ deps, viewer }, i) => setSettings(deps, viewer, i),
  'conversation.events': async ({ deps, viewer }, i) => readEvents(deps, viewer, i),
  'conversation.read': async ({ deps, viewer }, i) => markRead(deps, viewer, i.conversationId, i.seq),
  'conversation.delivered': async ({ deps, viewer }, i) => (
    await markDelivered(deps, viewer, i.conversationId, i.seq),
    ok
  ),
  'conversation.focus': async ({ deps, viewer, socket }, i) => {
    if (!socket) throw new EnclaveError('bad_request', 'focus is a WebSocket operation.');
    if (i.conversationId === null) socket.setFocus(null);
    else {
      const id = await convIdOf(deps, i.conversationId);
      await summaryOf(deps, viewer, id); // membership check: a foreign id is not found
      socket.setFocus(id);
    }
    return ok;
  },
  'message.send': async ({ deps, viewer }, i) => sendMessage(deps, viewer, i),
  'message.edit': async ({ deps, viewer }, i) => editMessage(deps, viewer, i),
  'message.react': async ({ deps, viewer }, i) => reactToMessage(deps, viewer, i),
  'message.recall': async ({ deps, viewer }, i) => recallMessage(deps, viewer, i),
  'message.get': async ({ deps, viewer }, i) => getMessage(deps, viewer, i.conversationId, i.seq),
  'message.sign': async ({ deps, viewer }, i) => signMessage(deps, viewer, i.conversationId, i.seq),
  'message.signoffs': async ({ deps, viewer }, i) => listSignoffs(deps, viewer, i.conversationId, i.seq),
  'message.remind': async ({ deps, viewer }, i) => remindSignoff(deps, viewer, i.conversationId, i.seq),
  'message.receipts': async ({ deps, viewer }, i) =>
    messageReceipts(deps, viewer, i.conversationId, i.seq, i.limit, i.cursor),
  'message.readCounts': async ({ deps, viewer }, i) => readCounts(deps, viewer, i.conversationId, i.seqs),
};

export const handlers: HandlerTable = {
  ...core,
  ...orgHandlers,
  ...presenceHandlers,
  ...contactHandlers,
  ...fileHandlers,
  ...searchHandlers,
};

/** Ops a user who must change their password may still call. */
export const allowedBeforePasswordChange: ReadonlySet<OpName> = new Set([
  'me.get',
  'me.changePassword',
  'auth.logout',
  'ping',
]);
