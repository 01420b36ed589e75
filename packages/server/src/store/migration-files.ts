import type { Kysely, Migration } from 'kysely';
import { addIdColumn, keyText, longText, tableOptions, uidType, type DialectKind } from './dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before the typed schema exists
type AnyDb = Kysely<any>;

/**
 * 0004_files (docs/architecture.md, "Files"):
 * - `file_blobs`: stored bytes, once per content, keyed by HMAC(server key, SHA-256) with a reference
 *   count (how many `files` rows point at it); `enc_key` is reserved for a per-blob encryption key;
 * - `files`: what a user uploaded (name, sniffed type) or a folder; folder members carry `folder_id`
 *   and their relative `path`;
 * - `file_refs`: which message (conversation, seq) carries which file — the authorisation path and
 *   the group file space;
 * - `file_settings`: the shared HMAC key and the admin-set policy (one row each).
 */
export function filesMigration(kind: DialectKind): Migration {
  const big = 'bigint' as const;
  return {
    async up(db: AnyDb) {
      await addIdColumn(kind, db.schema.createTable('file_blobs'))
        .addColumn('hkey', keyText(kind, 64), (c) => c.notNull().unique())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('mime', keyText(kind, 127), (c) => c.notNull())
        .addColumn('storage_key', keyText(kind, 200), (c) => c.notNull())
        .addColumn('enc_key', keyText(kind, 255))
        .addColumn('refcount', big, (c) => c.notNull().defaultTo(0))
        .addColumn('has_thumb', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('width', 'integer')
        .addColumn('height', 'integer')
        .addColumn('created_at', big, (c) => c.notNull())
        .modifyEnd(tableOptions(kind, false))
        .execute();
      await db.schema.createIndex('file_blobs_refcount').on('file_blobs').columns(['refcount']).execute();

      await addIdColumn(kind, db.schema.createTable('files'))
        .addColumn('uid', uidType(kind), (c) => c.notNull().unique())
        .addColumn('owner_id', big, (c) => c.notNull())
        .addColumn('blob_id', big)
        .addColumn('folder_id', big)
        .addColumn('path', keyText(kind, 1000))
        .addColumn('name', keyText(kind, 255), (c) => c.notNull())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('mime', keyText(kind, 127), (c) => c.notNull())
        .addColumn('kind', keyText(kind, 16), (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('expires_at', big)
        .addColumn('upload_id', keyText(kind, 64))
        .modifyEnd(tableOptions(kind, false))
        .execute();
      await db.schema.createIndex('files_folder').on('files').columns(['folder_id']).execute();
      await db.schema.createIndex('files_blob').on('files').columns(['blob_id']).execute();
      await db.schema.createIndex('files_expires').on('files').columns(['expires_at']).execute();
      await db.schema.createIndex('files_upload').on('files').columns(['upload_id']).execute();

      await db.schema
        .createTable('file_refs')
        .addColumn('conversation_id', big, (c) => c.notNull())
        .addColumn('seq', big, (c) => c.notNull())
        .addColumn('file_id', big, (c) => c.notNull())
        .addColumn('sender_id', big, (c) => c.notNull())
        .addColumn('name', keyText(kind, 255), (c) => c.notNull())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('created_at', big, (c) => c.notNull())
        .addColumn('deleted_at', big)
        .addPrimaryKeyConstraint('file_refs_pk', ['conversation_id', 'seq'])
        .modifyEnd(tableOptions(kind, true))
        .execute();
      await db.schema.createIndex('file_refs_file').on('file_refs').columns(['file_id']).execute();

      await db.schema
        .createTable('file_settings')
        .addColumn('name', keyText(kind, 64), (c) => c.primaryKey())
        .addColumn('value', longText(kind), (c) => c.notNull())
        .modifyEnd(tableOptions(kind, false))
        .execute();
    },
  };
}
