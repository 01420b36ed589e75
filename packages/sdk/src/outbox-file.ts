import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { OutboxEntry, OutboxStore } from './outbox.ts';

/**
 * The outbox in one JSON file (Node). Each save writes a temporary file in the same directory,
 * flushes it to disk, then renames it over the old one: a crash leaves the old or the new
 * list, never a torn file.
 */
export class FileOutboxStore implements OutboxStore {
  constructor(private readonly file: string) {}

  async load(): Promise<OutboxEntry[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as OutboxEntry[]) : [];
  }

  async save(entries: readonly OutboxEntry[]): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(entries), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }
}
