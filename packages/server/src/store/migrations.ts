import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { addIdColumn, keyText, longText, tableOptions, uidType, type DialectKind } from './dialect.ts';
import { searchCjkGramsMigration, searchMigration, searchQueueMigration } from './migration-search.ts';
import { filesMigration } from './migration-files.ts';

/*
 * Migrations are code, portable through Kysely's schema builder; dialect-specific column types
 * come from dialect.ts. Never edit a released migration: add a new one.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed schema exists
type AnyDb = Kysely<any>;

function initial(kind: DialectKind): Migration {
  const big = 'bigint' as const;
  const flag = 'integer' as const;
  return {
    async up(db: AnyDb) {
      await addIdColumn(kind, db.schema.createTable('users'))
        .addColumn('uid', uidType(kind), (c) => c.notNull().unique())
        .addColumn('username', keyText(kind, 64), (c) => c.notNull().unique())
        .addColumn('display_name', keyText(kind, 200), (c) => c.notNull())
        .addColumn('password_hash', keyText(kind, 255), (c) => c.notNull())
        .addColumn('role', keyText(kind, 16), (c) => c.notNull())
        .addColumn('disabled', flag, (c) => c.notNull().defaultTo(0))
        .addColumn('must_change_password', flag, (c) => c.notNull().defaultTo(0))
        .addColumn('last_useq', big, (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .modifyEnd(tableOptions(kind, false))
        .execute();

      await addIdColumn(kind, db.schema.createTable('devices'))
        .addColumn('uid', uidType(kind), (c) => c.notNull())
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('name', keyText(kind, 200), (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('last_seen_at', big, (c) => c.notNull())
        .addUniqueConstraint('devices_user_uid', ['user_id', 'uid'])
        .modifyEnd(tableOptions(kind, false))
        .execute();

      await addIdColumn(kind, db.schema.createTable('sessions'))
        .addColumn('uid', uidType(kind), (c) => c.notNull().unique())
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('device_id', big, (c) => c.notNull())
        .addColumn('token_hash', keyText(kind, 64), (c) => c.notNull().unique())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('last_used_at', big, (c) => c.notNull())
        .addColumn('revoked_at', big)
        .addColumn('ip', keyText(kind, 64))
        .addColumn('user_agent', keyText(kind, 255))
        .modifyEnd(tableOptions(kind, false))
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').columns(['user_id', 'revoked_at']).execute();

      await addIdColumn(kind, db.schema.createTable('conversations'))
        .addColumn('uid', uidType(kind), (c) => c.notNull().unique())
        .addColumn('kind', keyText(kind, 16), (c) => c.notNull())
        .addColumn('name', keyText(kind, 200), (c) => c.notNull())
        .addColumn('direct_key', keyText(kind, 64), (c) => c.unique())
        .addColumn('owner_id', big)
        .addColumn('last_seq', big, (c) => c.notNull().defaultTo(0))
        .addColumn('last_msg_no', big, (c) => c.notNull().defaultTo(0))
        .addColumn('last_ts', big, (c) => c.notNull())
        .addColumn('last_msg_seq', big, (c) => c.notNull().defaultTo(0))
        .addColumn('history_mode', keyText(kind, 16), (c) => c.notNull())
        .addColumn('announcement', longText(kind))
        .addColumn('all_muted', flag, (c) => c.notNull().defaultTo(0))
        .addColumn('dissolved_at', big)
        .addColumn('member_version', big, (c) => c.notNull().defaultTo(1))
        .addColumn('member_count', big, (c) => c.notNull().defaultTo(0))
        .addColumn('created_by', big, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .modifyEnd(tableOptions(kind, false))
        .execute();

      await db.schema
        .createTable('members')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('role', keyText(kind, 16), (c) => c.notNull())
        .addColumn('active', flag, (c) => c.notNull())
        .addColumn('joined_seq', big, (c) => c.notNull())
        .addColumn('read_seq', big, (c) => c.notNull().defaultTo(0))
        .addColumn('read_msg_no', big, (c) => c.notNull().defaultTo(0))
        .addColumn('delivered_seq', big, (c) => c.notNull().defaultTo(0))
        .addColumn('muted', flag, (c) => c.notNull().defaultTo(0))
        .addColumn('pinned', flag, (c) => c.notNull().defaultTo(0))
        .addColumn('silenced_until', big)
        .addColumn('updated_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('members_pk', ['conversation_id', 'user_id'])
        .modifyEnd(tableOptions(kind, true))
        .execute();
      await db.schema.createIndex('members_user').on('members').columns(['user_id', 'active']).execute();
      await db.schema.createIndex('members_read').on('members').columns(['conversation_id', 'read_seq']).execute();

      await db.schema
        .createTable('member_periods')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('from_seq', big, (c) => c.notNull())
        .addColumn('to_seq', big)
        .addPrimaryKeyConstraint('member_periods_pk', ['conversation_id', 'user_id', 'from_seq'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      await db.schema
        .createTable('events')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('type', keyText(kind, 32), (c) => c.notNull())
        .addColumn('actor_id', big, (c) => c.notNull())
        .addColumn('ts', big, (c) => c.notNull())
        .addColumn('message_seq', big)
        .addColumn('data', longText(kind))
        .addColumn('member_version', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('events_pk', ['conversation_id', 'seq'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      await db.schema
        .createTable('messages')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('uid', uidType(kind), (c) => c.notNull().unique())
        .addColumn('sender_id', big, (c) => c.notNull())
        .addColumn('client_msg_id', keyText(kind, 64), (c) => c.notNull())
        .addColumn('payload_hash', keyText(kind, 64), (c) => c.notNull())
        .addColumn('kind', keyText(kind, 16), (c) => c.notNull())
        .addColumn('content', longText(kind))
        .addColumn('format', keyText(kind, 16), (c) => c.notNull())
        .addColumn('meta', longText(kind), (c) => c.notNull())
        .addColumn('msg_no', big, (c) => c.notNull())
        .addColumn('ts', big, (c) => c.notNull())
        .addColumn('edited_at', big)
        .addColumn('recalled_at', big)
        .addColumn('recalled_by', big)
        .addColumn('signoff', flag, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('messages_pk', ['conversation_id', 'seq'])
        .addUniqueConstraint('messages_client_id', ['sender_id', 'client_msg_id'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      await db.schema
        .createTable('op_log')
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('client_op_id', keyText(kind, 64), (c) => c.notNull())
        .addColumn('op', keyText(kind, 64), (c) => c.notNull())
        .addColumn('result', longText(kind), (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('op_log_pk', ['user_id', 'client_op_id'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      await db.schema
        .createTable('reactions')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('message_seq', big, (c) => c.notNull())
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('emoji', keyText(kind, 64), (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('reactions_pk', ['conversation_id', 'message_seq', 'user_id', 'emoji'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      await db.schema
        .createTable('mentions')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('user_id', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('mentions_pk', ['user_id', 'conversation_id', 'seq'])
        .modifyEnd(tableOptions(kind, true))
        .execute();
      await db.schema
        .createTable('mention_all')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('mention_all_pk', ['conversation_id', 'seq'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      await db.schema
        .createTable('signoffs')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('device_id', big, (c) => c.notNull())
        .addColumn('signed_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('signoffs_pk', ['conversation_id', 'seq', 'user_id'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      await db.schema
        .createTable('user_events')
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('useq', big, (c) => c.notNull())
        .addColumn('type', keyText(kind, 32), (c) => c.notNull())
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('data', longText(kind), (c) => c.notNull())
        .addColumn('ts', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('user_events_pk', ['user_id', 'useq'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      await db.schema
        .createTable('message_archive')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('content', longText(kind))
        .addColumn('reason', keyText(kind, 32), (c) => c.notNull())
        .addColumn('archived_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('message_archive_pk', ['conversation_id', 'seq', 'archived_at'])
        .modifyEnd(tableOptions(kind, true))
        .execute();

      // The list query walks my memberships and joins conversations by id; sync finds moved ones by last_ts.
      await db.schema.createIndex('conversations_last_ts').on('conversations').column('last_ts').execute();
      await sql`select 1`.execute(db);
    },
  };
}

/** The organisation: departments (closure table), posts (一人多岗), profiles, favourites, follows. */
function organisation(kind: DialectKind): Migration {
  const big = 'bigint' as const;
  return {
    async up(db: AnyDb) {
      await addIdColumn(kind, db.schema.createTable('departments'))
        .addColumn('uid', uidType(kind), (c) => c.notNull().unique())
        .addColumn('parent_id', big)
        .addColumn('name', keyText(kind, 200), (c) => c.notNull())
        .addColumn('sort_order', big, (c) => c.notNull().defaultTo(0))
        .addColumn('depth', 'integer', (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('updated_at', big, (c) => c.notNull())
        .modifyEnd(tableOptions(kind, false))
        .execute();
      await db.schema
        .createIndex('departments_parent')
        .on('departments')
        .columns(['parent_id', 'sort_order'])
        .execute();
      // Every (ancestor, descendant) pair including (d, d) at depth 0: a subtree is one index range.
      await db.schema
        .createTable('dept_closure')
        .addColumn('ancestor_id', big, (c) => c.notNull())
        .addColumn('descendant_id', big, (c) => c.notNull())
        .addColumn('depth', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('dept_closure_pk', ['ancestor_id', 'descendant_id'])
        .modifyEnd(tableOptions(kind, true))
        .execute();
      await db.schema
        .createIndex('dept_closure_desc')
        .on('dept_closure')
        .columns(['descendant_id', 'ancestor_id'])
        .execute();
      await db.schema
        .createTable('posts')
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('department_id', big, (c) => c.notNull())
        .addColumn('title', keyText(kind, 200), (c) => c.notNull())
        .addColumn('is_primary', 'integer', (c) => c.notNull())
        .addColumn('sort_order', big, (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('posts_pk', ['user_id', 'department_id'])
        .modifyEnd(tableOptions(kind, true))
        .execute();
      await db.schema.createIndex('posts_department').on('posts').columns(['department_id', 'sort_order']).execute();
      await db.schema.alterTable('users').addColumn('phone', keyText(kind, 32)).execute();
      await db.schema.alterTable('users').addColumn('email', keyText(kind, 200)).execute();
      await db.schema.alterTable('users').addColumn('avatar_id', keyText(kind, 64)).execute();
      await db.schema.alterTable('users').addColumn('employee_no', keyText(kind, 64)).execute();
      await db.schema.createIndex('users_employee_no').on('users').column('employee_no').unique().execute();
      await db.schema
        .createTable('favourites')
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('contact_id', big, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('favourites_pk', ['user_id', 'contact_id'])
        .modifyEnd(tableOptions(kind, true))
        .execute();
      await db.schema
        .createTable('follows')
        .addColumn('user_id', big, (c) => c.notNull())
        .addColumn('target_id', big, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('follows_pk', ['user_id', 'target_id'])
        .modifyEnd(tableOptions(kind, true))
        .execute();
      await db.schema.createIndex('follows_target').on('follows').columns(['target_id', 'user_id']).execute();
    },
  };
}

/**
 * 0006_write_only_indexes: two indexes no query reads (every statement the suites run, checked with
 * EXPLAIN QUERY PLAN), kept up to date on every message. `members_read` (conversation_id, read_seq)
 * changed with each read cursor, the sender's included on every send — read counts are taken from
 * the members rows, and the members key (conversation_id, user_id) serves a conversation's members;
 * `conversations_last_ts` moved with each message — every list and sync query starts from the
 * user's memberships (`members_user`) and joins conversations by id. On SQLite they were 2.5 of
 * the ~11 pages a send writes to the WAL.
 */
function dropWriteOnlyIndexes(kind: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      for (const [index, table] of [
        ['members_read', 'members'],
        ['conversations_last_ts', 'conversations'],
      ] as const) {
        // MySQL has no DROP INDEX IF EXISTS (MariaDB has); elsewhere an index already gone is fine.
        const drop = db.schema.dropIndex(index);
        await (kind === 'mysql' ? drop.on(table) : drop.ifExists()).execute();
      }
    },
  };
}

/**
 * 0007_recalls: the recalled messages, by conversation and seq, with their senders. Unread counts
 * subtract the recalled messages of others above the reader's cursor; counted in `messages` that
 * walked every unread message of the conversation (a member 2,000 behind in each of 50 groups: ~5 ms
 * of every sync), counted here it walks only the recalled ones. Filled from the messages already
 * recalled; from now on written in the recall's commit (domain/messages/retire-body.ts).
 */
function recallsMigration(kind: DialectKind): Migration {
  return {
    async up(db: AnyDb) {
      const big = 'bigint' as const;
      await db.schema
        .createTable('recalls')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('sender_id', big, (c) => c.notNull())
        .addPrimaryKeyConstraint('recalls_pk', ['conversation_id', 'seq'])
        .modifyEnd(tableOptions(kind, true))
        .execute();
      await db
        .insertInto('recalls')
        .columns(['conversation_id', 'seq', 'sender_id'])
        .expression(
          db
            .selectFrom('messages')
            .select(['conversation_id', 'seq', 'sender_id'])
            .where('recalled_at', 'is not', null),
        )
        .execute();
    },
  };
}

/** Every migration, applied in name order. Add new ones at the end with the next number. */
function migrations(kind: DialectKind): Record<string, Migration> {
  return {
    '0001_initial': initial(kind),
    '0002_organisation': organisation(kind),
    '0003_search': searchMigration(kind),
    '0004_files': filesMigration(kind),
    '0005_search_queue': searchQueueMigration(kind),
    '0006_write_only_indexes': dropWriteOnlyIndexes(kind),
    '0007_recalls': recallsMigration(kind),
    '0008_search_cjk_grams': searchCjkGramsMigration(kind),
  };
}

/** Names of every migration this build knows, in the order they apply. */
export function migrationNames(): string[] {
  return Object.keys(migrations('sqlite')).sort();
}

/**
 * The schema already has exactly the migrations this build knows (every restart): one read instead
 * of the migrator's lock table, introspection of every table and locked re-check. Anything else —
 * a new store, a migration to apply, or one this build does not know — goes to the migrator.
 */
async function upToDate(db: AnyDb): Promise<boolean> {
  let applied: string[];
  try {
    applied = (await sql<{ name: string }>`select name from schema_migrations`.execute(db)).rows.map((r) => r.name);
  } catch {
    return false;
  }
  const known = migrationNames();
  applied.sort();
  return applied.length === known.length && applied.every((n, i) => n === known[i]);
}

class CodeProvider implements MigrationProvider {
  constructor(private readonly kind: DialectKind) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.kind);
  }
}

export async function migrate(db: AnyDb, kind: DialectKind): Promise<string[]> {
  if (kind === 'sqlite' && (await upToDate(db))) return [];
  // PG: Kysely looks for its bookkeeping tables in every schema unless told which one; a
  // schema_migrations in another schema (e.g. public) would make it skip creating ours.
  const migrationTableSchema =
    kind === 'postgres'
      ? ((await sql<{ s: string | null }>`select current_schema() as s`.execute(db)).rows[0]?.s ?? undefined)
      : undefined;
  const migrator = new Migrator({
    db,
    provider: new CodeProvider(kind),
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
    migrationTableSchema,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
