import type { Generated } from 'kysely';

/*
 * The tables as Kysely sees them. Public ids (`uid`) are UUIDv7 at rest in the dialect's native
 * form (uuid / BINARY(16) / BLOB); `id` columns are dense integers for joins. Times are epoch ms.
 * Flags are integers 0/1 on every store. JSON columns are TEXT, parsed in code.
 */
type Uid = unknown;

export interface UsersTable {
  id: Generated<number>;
  uid: Uid;
  username: string;
  display_name: string;
  password_hash: string;
  role: 'admin' | 'user';
  disabled: number;
  must_change_password: number;
  last_useq: number;
  created_at: number;
  updated_at: number;
  phone: string | null;
  email: string | null;
  avatar_id: string | null;
  employee_no: string | null;
}

export interface DevicesTable {
  id: Generated<number>;
  uid: Uid;
  user_id: number;
  name: string;
  created_at: number;
  last_seen_at: number;
}

export interface SessionsTable {
  id: Generated<number>;
  uid: Uid;
  user_id: number;
  device_id: number;
  token_hash: string;
  created_at: number;
  last_used_at: number;
  revoked_at: number | null;
  ip: string | null;
  user_agent: string | null;
}

export interface ConversationsTable {
  id: Generated<number>;
  uid: Uid;
  kind: 'direct' | 'group' | 'self';
  name: string;
  direct_key: string | null;
  owner_id: number | null;
  last_seq: number;
  last_msg_no: number;
  last_ts: number;
  last_msg_seq: number;
  history_mode: 'from_join' | 'all';
  announcement: string | null;
  all_muted: number;
  dissolved_at: number | null;
  member_version: number;
  member_count: number;
  created_by: number;
  created_at: number;
}

export interface MembersTable {
  conversation_id: number;
  user_id: number;
  role: 'owner' | 'admin' | 'member';
  active: number;
  joined_seq: number;
  read_seq: number;
  read_msg_no: number;
  delivered_seq: number;
  muted: number;
  pinned: number;
  silenced_until: number | null;
  updated_at: number;
}

export interface MemberPeriodsTable {
  conversation_id: number;
  user_id: number;
  from_seq: number;
  to_seq: number | null;
}

export interface EventsTable {
  conversation_id: number;
  seq: number;
  type: string;
  actor_id: number;
  ts: number;
  message_seq: number | null;
  data: string | null;
  member_version: number;
}

export interface MessagesTable {
  conversation_id: number;
  seq: number;
  uid: Uid;
  sender_id: number;
  client_msg_id: string;
  payload_hash: string;
  kind: 'text' | 'system' | 'file';
  content: string | null;
  format: string;
  meta: string;
  msg_no: number;
  ts: number;
  edited_at: number | null;
  recalled_at: number | null;
  recalled_by: number | null;
  signoff: number;
}

export interface OpLogTable {
  user_id: number;
  client_op_id: string;
  op: string;
  result: string;
  created_at: number;
}

export interface ReactionsTable {
  conversation_id: number;
  message_seq: number;
  user_id: number;
  emoji: string;
  created_at: number;
}

export interface MentionsTable {
  conversation_id: number;
  seq: number;
  user_id: number;
}

export interface MentionAllTable {
  conversation_id: number;
  seq: number;
}

/** A recalled message (unread counts skip the recalled messages of others; migration 0007). */
export interface RecallsTable {
  conversation_id: number;
  seq: number;
  sender_id: number;
}

export interface SignoffsTable {
  conversation_id: number;
  seq: number;
  user_id: number;
  device_id: number;
  signed_at: number;
}

export interface UserEventsTable {
  user_id: number;
  useq: number;
  type: string;
  conversation_id: number;
  data: string;
  ts: number;
}

export interface MessageArchiveTable {
  conversation_id: number;
  seq: number;
  content: string | null;
  reason: string;
  archived_at: number;
}

export interface DepartmentsTable {
  id: Generated<number>;
  uid: Uid;
  parent_id: number | null;
  name: string;
  sort_order: number;
  depth: number;
  created_at: number;
  updated_at: number;
}

export interface DeptClosureTable {
  ancestor_id: number;
  descendant_id: number;
  depth: number;
}

export interface PostsTable {
  user_id: number;
  department_id: number;
  title: string;
  is_primary: number;
  sort_order: number;
  created_at: number;
}

export interface FavouritesTable {
  user_id: number;
  contact_id: number;
  created_at: number;
}

export interface FollowsTable {
  user_id: number;
  target_id: number;
  created_at: number;
}

export interface FileBlobsTable {
  id: Generated<number>;
  hkey: string;
  size: number;
  mime: string;
  storage_key: string;
  enc_key: string | null;
  refcount: number;
  has_thumb: number;
  width: number | null;
  height: number | null;
  created_at: number;
}

export interface FilesTable {
  id: Generated<number>;
  uid: Uid;
  owner_id: number;
  blob_id: number | null;
  folder_id: number | null;
  path: string | null;
  name: string;
  size: number;
  mime: string;
  kind: 'file' | 'image' | 'folder';
  created_at: number;
  expires_at: number | null;
  upload_id: string | null;
}

export interface FileRefsTable {
  conversation_id: number;
  seq: number;
  file_id: number;
  sender_id: number;
  name: string;
  size: number;
  created_at: number;
  deleted_at: number | null;
}

export interface FileSettingsTable {
  name: string;
  value: string;
}

export interface Database {
  users: UsersTable;
  devices: DevicesTable;
  sessions: SessionsTable;
  conversations: ConversationsTable;
  members: MembersTable;
  member_periods: MemberPeriodsTable;
  events: EventsTable;
  messages: MessagesTable;
  op_log: OpLogTable;
  reactions: ReactionsTable;
  mentions: MentionsTable;
  mention_all: MentionAllTable;
  recalls: RecallsTable;
  signoffs: SignoffsTable;
  user_events: UserEventsTable;
  message_archive: MessageArchiveTable;
  departments: DepartmentsTable;
  dept_closure: DeptClosureTable;
  posts: PostsTable;
  favourites: FavouritesTable;
  follows: FollowsTable;
  file_blobs: FileBlobsTable;
  files: FilesTable;
  file_refs: FileRefsTable;
  file_settings: FileSettingsTable;
}
