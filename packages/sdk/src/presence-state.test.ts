import type { DepartmentId, UserId } from '@enclave/protocol';
import { describe, expect, it } from 'vitest';
import { emptyPresence, reducePresence, type PresenceAction, type PresenceView } from './presence-state.ts';
import { BOB, ME } from './test-factories.ts';

const D1 = '00000000-0000-7000-8000-0000000000d1' as DepartmentId;
const OTHER = '00000000-0000-7000-8000-0000000000ff' as UserId;
const snap: PresenceAction = {
  type: 'snapshot',
  snapshot: {
    users: [
      { userId: BOB, state: 'online' },
      { userId: ME, state: 'offline' },
    ],
    departments: [{ departmentId: D1, total: 10, online: 3 }],
  },
};
const base = reducePresence(emptyPresence, snap);

describe('reducePresence', () => {
  const cases: { name: string; action: PresenceAction; check: (v: PresenceView) => void }[] = [
    {
      name: 'a snapshot replaces everything',
      action: snap,
      check: (v) => expect(v).toEqual(base),
    },
    {
      name: 'a presence event for a watched user updates it',
      action: { type: 'presence', event: { userId: BOB, state: 'busy', since: 5 } },
      check: (v) => expect(v.users[BOB]).toEqual({ state: 'busy', since: 5 }),
    },
    {
      name: 'an unwatched user is ignored',
      action: { type: 'presence', event: { userId: OTHER, state: 'busy', since: 5 } },
      check: (v) => expect(v).toBe(base),
    },
    {
      name: 'a department event carries the latest values',
      action: { type: 'department', event: { departmentId: D1, total: 11, online: 4 } },
      check: (v) => expect(v.departments[D1]).toEqual({ total: 11, online: 4 }),
    },
    {
      name: 'reset forgets all',
      action: { type: 'reset' },
      check: (v) => expect(v).toBe(emptyPresence),
    },
  ];
  for (const c of cases) it(c.name, () => c.check(reducePresence(base, c.action)));

  it('a late frame does not undo a newer one', () => {
    const newer = reducePresence(base, { type: 'presence', event: { userId: BOB, state: 'away', since: 9 } });
    expect(reducePresence(newer, { type: 'presence', event: { userId: BOB, state: 'online', since: 7 } })).toBe(newer);
  });
});
