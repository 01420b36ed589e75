import { z } from 'zod';
import { limits } from './limits.ts';
import { Timestamp, User, UserId } from './models.ts';
import type { OpDef } from './ops.ts';

/* Organisation (M2.1, M2.2), presence (M2.4), contacts (M1.11): models and operations. */

export const DepartmentId = z.uuid().brand<'DepartmentId'>();
export type DepartmentId = z.infer<typeof DepartmentId>;

export const PresenceState = z.enum(['online', 'busy', 'away', 'offline']);
export type PresenceState = z.infer<typeof PresenceState>;

/** A department as the viewer sees it: headcounts are distinct people in the subtree, per visibility view. */
export const Department = z.object({
  id: DepartmentId,
  parentId: DepartmentId.nullable(),
  name: z.string(),
  order: z.number().int(),
  depth: z.number().int(),
  childCount: z.number().int(),
  total: z.number().int().describe('distinct people in this department and below'),
  online: z.number().int().describe('of those, how many are online now'),
});
export type Department = z.infer<typeof Department>;

export const Post = z.object({
  departmentId: DepartmentId,
  departmentName: z.string(),
  title: z.string(),
  primary: z.boolean(),
  order: z.number().int(),
});
export type Post = z.infer<typeof Post>;

/** A person with profile, posts (一人多岗) and presence. */
export const Person = User.extend({
  title: z.string().describe("the primary post's title"),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  avatarId: z.string().nullable(),
  employeeNo: z.string().nullable(),
  posts: z.array(Post),
  presence: PresenceState,
});
export type Person = z.infer<typeof Person>;

const Ok = z.object({ ok: z.literal(true) });
const Name = z.string().trim().min(1).max(limits.maxNameChars);
const Phone = z
  .string()
  .trim()
  .max(32)
  .regex(/^[0-9+\-() ]*$/, 'digits, spaces, + - ( )');
const Email = z.union([z.email().max(200), z.literal('')]);
const EmployeeNo = z.string().trim().min(1).max(64);
const op = <I extends z.ZodType, O extends z.ZodType>(d: OpDef<I, O>): OpDef<I, O> => d;
const idList = <T extends z.ZodType>(item: T, max: number) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(item).max(max));

export const PostInput = z.object({
  departmentId: DepartmentId,
  title: z.string().trim().max(limits.maxNameChars).default(''),
  primary: z.boolean().default(false),
  order: z.number().int().min(0).max(1_000_000).default(0),
});

export const PresenceSnapshot = z.object({
  users: z.array(z.object({ userId: UserId, state: PresenceState })),
  departments: z.array(z.object({ departmentId: DepartmentId, total: z.number().int(), online: z.number().int() })),
});

export const orgOps = {
  'org.departments': op({
    summary: 'Child departments of a department (the top level when parentId is omitted), with headcounts.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/org/departments' },
    input: z.object({ parentId: DepartmentId.optional() }),
    output: z.object({ items: z.array(Department) }),
  }),
  'org.department': op({
    summary: 'One department: its path from the top, child departments and the people in it (ordered).',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/org/departments/:departmentId' },
    input: z.object({ departmentId: DepartmentId }),
    output: z.object({
      department: Department,
      path: z.array(Department),
      children: z.array(Department),
      people: z.array(Person),
    }),
  }),
  'admin.department.create': op({
    summary: 'Create a department under a parent (or at the top).',
    auth: 'admin',
    http: { method: 'POST', path: '/api/v1/admin/departments' },
    input: z.object({
      name: Name,
      parentId: DepartmentId.nullable().default(null),
      order: z.number().int().min(0).optional(),
    }),
    output: Department,
  }),
  'admin.department.update': op({
    summary: 'Rename, reorder or move a department (with its subtree). Moving under its own subtree is refused.',
    auth: 'admin',
    http: { method: 'PATCH', path: '/api/v1/admin/departments/:departmentId' },
    input: z.object({
      departmentId: DepartmentId,
      name: Name.optional(),
      order: z.number().int().min(0).optional(),
      parentId: DepartmentId.nullable().optional(),
    }),
    output: Department,
  }),
  'admin.department.delete': op({
    summary:
      'Delete a department. Refused while it has child departments, or people unless moveMembersTo names where they go.',
    auth: 'admin',
    http: { method: 'DELETE', path: '/api/v1/admin/departments/:departmentId' },
    input: z.object({ departmentId: DepartmentId, moveMembersTo: DepartmentId.optional() }),
    output: Ok,
  }),
  'admin.person.setPosts': op({
    summary: "Set a person's posts (departments with a title each); exactly one is primary.",
    auth: 'admin',
    http: { method: 'POST', path: '/api/v1/admin/users/:userId/posts' },
    input: z.object({ userId: UserId, posts: z.array(PostInput).max(20) }),
    output: Person,
  }),
  'admin.person.update': op({
    summary: "Edit a person's profile (administrator).",
    auth: 'admin',
    http: { method: 'PATCH', path: '/api/v1/admin/users/:userId/profile' },
    input: z.object({
      userId: UserId,
      displayName: Name.optional(),
      phone: Phone.nullable().optional(),
      email: Email.nullable().optional(),
      avatarId: z.string().max(64).nullable().optional(),
      employeeNo: EmployeeNo.nullable().optional(),
    }),
    output: Person,
  }),
  'people.get': op({
    summary: 'A person: profile, posts and presence (as visible to me).',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/people/:userId' },
    input: z.object({ userId: UserId }),
    output: Person,
  }),
  'people.updateMe': op({
    summary: 'Edit my own profile, where the policy lets users edit these fields.',
    auth: 'user',
    http: { method: 'PATCH', path: '/api/v1/me/profile' },
    input: z.object({
      displayName: Name.optional(),
      phone: Phone.nullable().optional(),
      email: Email.nullable().optional(),
      avatarId: z.string().max(64).nullable().optional(),
    }),
    output: Person,
  }),
  'people.search': op({
    summary:
      'Find people by name, pinyin (full, initials, any prefix, every reading of polyphonic characters), phone, employee number or department.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/people/search' },
    input: z.object({
      q: z.string().trim().min(1).max(64),
      departmentId: DepartmentId.optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
    output: z.object({ items: z.array(Person) }),
  }),
  'contacts.favourites': op({
    summary: 'My favourite contacts (常用联系人).',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/me/favourites' },
    input: z.object({}),
    output: z.object({ items: z.array(Person) }),
  }),
  'contacts.setFavourite': op({
    summary: 'Add or remove a favourite contact.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/me/favourites/:userId' },
    input: z.object({ userId: UserId, on: z.boolean() }),
    output: Ok,
  }),
  'contacts.recent': op({
    summary: 'People I talked with recently (最近联系人), newest first.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/me/recent-contacts' },
    input: z.object({ limit: z.coerce.number().int().min(1).max(100).default(30) }),
    output: z.object({ items: z.array(Person) }),
  }),
  'contacts.follow': op({
    summary: 'Follow a contact: I am told when they come online.',
    auth: 'user',
    http: { method: 'POST', path: '/api/v1/me/follows/:userId' },
    input: z.object({ userId: UserId, on: z.boolean() }),
    output: Ok,
  }),
  'contacts.following': op({
    summary: 'The contacts I follow.',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/me/follows' },
    input: z.object({}),
    output: z.object({ items: z.array(Person) }),
  }),
  'presence.set': op({
    summary: "Set this device's state (online, away, busy); my state is the strongest over my devices.",
    auth: 'user',
    input: z.object({ state: z.enum(['online', 'away', 'busy']) }),
    output: Ok,
  }),
  'presence.subscribe': op({
    summary:
      'The people and departments this socket shows: it gets their presence and online counts (replaces the previous subscription).',
    auth: 'user',
    input: z.object({
      userIds: z.array(UserId).max(limits.presenceUsersMax).default([]),
      departmentIds: z.array(DepartmentId).max(limits.presenceDepartmentsMax).default([]),
    }),
    output: PresenceSnapshot,
  }),
  'presence.get': op({
    summary: 'Presence of up to 500 people (status API for integrations).',
    auth: 'user',
    http: { method: 'GET', path: '/api/v1/presence' },
    input: z.object({ userIds: idList(UserId, limits.presenceUsersMax) }),
    output: z.object({ items: z.array(z.object({ userId: UserId, state: PresenceState, since: Timestamp })) }),
  }),
  typing: op({
    summary: 'I am typing in a conversation (1:1 and small groups; at most one frame per 3 s is forwarded).',
    auth: 'user',
    input: z.object({ conversationId: z.uuid() }),
    output: Ok,
  }),
} as const satisfies Record<string, OpDef>;

/** Volatile server events of the organisation and presence. */
export const orgEvents = {
  presence: z.object({ userId: UserId, state: PresenceState, since: Timestamp }),
  department: z.object({ departmentId: DepartmentId, total: z.number().int(), online: z.number().int() }),
  typing: z.object({ conversationId: z.uuid(), userId: UserId }),
  /** Someone I follow came online. */
  followed: z.object({ userId: UserId, state: PresenceState }),
} as const;
