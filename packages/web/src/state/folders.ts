import type { FolderFile } from './uploads.ts';

/** A folder chosen or dropped: its name and its files with their paths inside it. */
export interface PickedFolder {
  name: string;
  parts: FolderFile[];
}

/**
 * Folders from an `<input webkitdirectory>`: each file's `webkitRelativePath` is "Top/sub/a.txt";
 * the first segment names the folder, the rest is the path inside it.
 */
export function foldersFromInput(files: readonly File[]): PickedFolder[] {
  const byName = new Map<string, FolderFile[]>();
  for (const file of files) {
    const rel = (file.webkitRelativePath || file.name).split('/').filter(Boolean);
    const name = rel.length > 1 ? rel[0]! : '';
    const path = rel.length > 1 ? rel.slice(1).join('/') : file.name;
    let parts = byName.get(name);
    if (!parts) byName.set(name, (parts = []));
    parts.push({ file, path });
  }
  return [...byName].map(([name, parts]) => ({ name: name || parts[0]!.file.name, parts }));
}

/** The subset of the File and Directory Entries API a drop gives (`DataTransferItem.webkitGetAsEntry`). */
interface Entry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?(ok: (f: File) => void, fail: (e: unknown) => void): void;
  createReader?(): { readEntries(ok: (entries: Entry[]) => void, fail: (e: unknown) => void): void };
}

async function readAll(dir: Entry, prefix: string, out: FolderFile[], limit: number): Promise<void> {
  const reader = dir.createReader!();
  // readEntries returns the entries in batches until an empty one.
  for (;;) {
    const batch = await new Promise<Entry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) return;
    for (const e of batch) {
      if (out.length > limit) return;
      const path = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory) await readAll(e, path, out, limit);
      else if (e.isFile) out.push({ file: await new Promise<File>((ok, fail) => e.file!(ok, fail)), path });
    }
  }
}

/**
 * What a drop carries: plain files, and folders read recursively from their directory entries
 * (read at most `limit + 1` files per folder, so a too-large folder is refused without reading it all).
 * The entries must be taken during the drop event; reading them may continue after it.
 */
export function droppedEntries(
  dt: DataTransfer,
  limit: number,
): { files: File[]; folders: Promise<PickedFolder[]> } | null {
  const items = [...dt.items].filter((i) => i.kind === 'file');
  const entries = items.map((i) => (i.webkitGetAsEntry?.() as Entry | null | undefined) ?? null);
  if (!entries.some((e) => e?.isDirectory)) return null;
  const files: File[] = [];
  const dirs: Entry[] = [];
  entries.forEach((e, i) => {
    if (e?.isDirectory) dirs.push(e);
    else {
      const f = items[i]!.getAsFile();
      if (f) files.push(f);
    }
  });
  const folders = Promise.all(
    dirs.map(async (d) => {
      const parts: FolderFile[] = [];
      await readAll(d, '', parts, limit);
      return { name: d.name, parts };
    }),
  );
  return { files, folders };
}
