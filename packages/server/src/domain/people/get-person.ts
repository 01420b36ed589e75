import { EnclaveError, type Person } from '@enclave/protocol';
import type { Deps, Viewer } from '../deps.ts';
import { viewOf } from '../org/view-of.ts';
import { presentPerson } from './present-people.ts';

/** A person as the viewer may see them: someone outside the viewer's view is not found. */
export async function getPerson(deps: Deps, viewer: Viewer, uid: string): Promise<Person> {
  const userId = await deps.directory.idOf(uid);
  if (!viewOf(viewer).canSee(userId)) throw new EnclaveError('user_not_found');
  return presentPerson(deps, userId);
}
