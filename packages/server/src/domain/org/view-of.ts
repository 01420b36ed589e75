import type { Viewer } from '../deps.ts';
import { everyone, type VisibilityView } from './org-index.ts';

/**
 * The part of the organisation a viewer may see. Every read of people and headcounts passes through
 * it; virtual organisations (M2.3) will return a per-role view here. Today everyone sees everyone.
 */
export function viewOf(_viewer: Pick<Viewer, 'userId' | 'role'> | null): VisibilityView {
  return everyone;
}
