import type { DepartmentId, PresenceState, ServerEventData, UserId } from '@enclave/protocol';

/**
 * What the client knows of presence: the people and departments it subscribed to. Kept apart from
 * the durable ClientState (STYLE 12): volatile, replaced by the snapshot on every (re)subscribe.
 */
export interface PresenceView {
  users: Readonly<Record<UserId, { state: PresenceState; since: number | null }>>;
  departments: Readonly<Record<DepartmentId, { total: number; online: number }>>;
}

export const emptyPresence: PresenceView = { users: {}, departments: {} };

export type PresenceAction =
  | {
      type: 'snapshot';
      snapshot: { users: { userId: UserId; state: PresenceState }[]; departments: ServerEventData<'department'>[] };
    }
  | { type: 'presence'; event: ServerEventData<'presence'> }
  | { type: 'department'; event: ServerEventData<'department'> }
  /** The socket went away: nothing is known until the next snapshot. */
  | { type: 'reset' };

/** Pure: the next view, or the same object when nothing changed. Events for unwatched ids are ignored. */
export function reducePresence(view: PresenceView, action: PresenceAction): PresenceView {
  switch (action.type) {
    case 'snapshot': {
      const users: Record<string, { state: PresenceState; since: number | null }> = {};
      for (const u of action.snapshot.users) users[u.userId] = { state: u.state, since: null };
      const departments: Record<string, { total: number; online: number }> = {};
      for (const d of action.snapshot.departments) departments[d.departmentId] = { total: d.total, online: d.online };
      return { users, departments };
    }
    case 'presence': {
      const { userId, state, since } = action.event;
      const cur = view.users[userId];
      if (!cur || (cur.state === state && cur.since === since)) return view;
      // A late frame must not undo a newer one.
      if (cur.since !== null && since < cur.since) return view;
      return { ...view, users: { ...view.users, [userId]: { state, since } } };
    }
    case 'department': {
      const { departmentId, total, online } = action.event;
      const cur = view.departments[departmentId];
      if (!cur || (cur.total === total && cur.online === online)) return view;
      return { ...view, departments: { ...view.departments, [departmentId]: { total, online } } };
    }
    case 'reset':
      return view === emptyPresence ? view : emptyPresence;
  }
}
