import type { HandlerTable } from '../handlers.ts';
import { createFolder, getFile } from '../../domain/files/get-file.ts';
import { deleteGroupFile, listGroupFiles } from '../../domain/files/group-files.ts';
import { checkPolicy, getPolicy, setPolicy } from '../../domain/files/policy.ts';
import { getPreview } from '../../domain/files/preview.ts';
import { listRecentFiles } from '../../domain/files/recent-files.ts';
import { sendFile } from '../../domain/files/send-file.ts';

const ok = { ok: true as const };

/** Files (domain/files/): each op calls one domain function. Uploads and downloads are in files-http.ts. */
export const fileHandlers: Pick<
  HandlerTable,
  | 'file.policy'
  | 'file.check'
  | 'file.get'
  | 'file.send'
  | 'folder.create'
  | 'file.preview'
  | 'group.files'
  | 'group.files.delete'
  | 'files.recent'
  | 'admin.filePolicy.set'
> = {
  'file.policy': async ({ deps }) => getPolicy(deps),
  'file.check': async ({ deps }, i) => (checkPolicy(await getPolicy(deps), i.size, i.type || null), ok),
  'file.get': async ({ deps, viewer }, i) => getFile(deps, viewer, i.fileId),
  'file.send': async ({ deps, viewer }, i) => sendFile(deps, viewer, i),
  'folder.create': async ({ deps, viewer }, i) => createFolder(deps, viewer, i.name),
  'file.preview': async ({ deps, viewer }, i) => getPreview(deps, viewer, i.fileId),
  'group.files': async ({ deps, viewer }, i) => listGroupFiles(deps, viewer, i),
  'group.files.delete': async ({ deps, viewer }, i) => (
    await deleteGroupFile(deps, viewer, i.conversationId, i.seq),
    ok
  ),
  'files.recent': async ({ deps, viewer }, i) => listRecentFiles(deps, viewer, i),
  'admin.filePolicy.set': async ({ deps }, i) => setPolicy(deps, i),
};
