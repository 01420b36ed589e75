import { describe, expect, it, vi } from 'vitest';
import { fileLimits, type ConversationId, type FileId } from '@enclave/protocol';
import type { TransferProgress } from '@enclave/sdk';
import { droppedEntries, foldersFromInput } from './folders.ts';
import { folderProblem, Uploads, type FolderFile } from './uploads.ts';

const conv = 'c_1' as ConversationId;
const tick = () => new Promise((r) => setTimeout(r, 0));

/** A File as `<input webkitdirectory>` gives it: with its path under the chosen folder. */
function picked(rel: string, size = 4): File {
  const f = new File([new Uint8Array(size)], rel.split('/').pop()!);
  Object.defineProperty(f, 'webkitRelativePath', { value: rel });
  return f;
}

describe('folders', () => {
  it('groups picked files by their top folder, with paths inside it', () => {
    const got = foldersFromInput([picked('资料/a.txt'), picked('资料/sub/b.md'), picked('other/c.txt')]);
    expect(got.map((f) => [f.name, f.parts.map((p) => p.path)])).toEqual([
      ['资料', ['a.txt', 'sub/b.md']],
      ['other', ['c.txt']],
    ]);
  });

  it('refuses a folder over the limits before uploading, naming the rule', () => {
    const part = (path: string): FolderFile => ({ file: new File([], 'x'), path });
    expect(folderProblem([part('a.txt')])).toBeNull();
    expect(folderProblem([])?.details).toMatchObject({ rule: 'folderEmpty' });
    const deep = Array.from({ length: fileLimits.maxPathDepth + 1 }, (_, i) => `d${i}`).join('/');
    expect(folderProblem([part(deep)])?.details).toMatchObject({ rule: 'pathDepth', max: fileLimits.maxPathDepth });
    expect(folderProblem([part('a'.repeat(fileLimits.maxPathChars + 1))])?.details).toMatchObject({
      rule: 'pathChars',
    });
    const many = Array.from({ length: fileLimits.maxFolderEntries + 1 }, (_, i) => part(`f${i}`));
    expect(folderProblem(many)?.details).toMatchObject({ rule: 'folderEntries', count: many.length });
  });

  it('creates the folder, uploads each file into it with its path, shows one total, then sends the folder', async () => {
    const finishers: ((id: string) => void)[] = [];
    const progress: ((p: TransferProgress) => void)[] = [];
    const client = {
      call: vi.fn(async (op: string) => (op === 'folder.create' ? { id: 'fo_1' } : { ok: true })),
      upload: vi.fn((o: { onProgress?: (p: TransferProgress) => void }) => {
        let resolve!: (id: FileId) => void;
        const done = new Promise<FileId>((r) => (resolve = r));
        finishers.push((id) => resolve(id as FileId));
        progress.push((p) => o.onProgress?.(p));
        return { done, start: async () => undefined, pause: async () => undefined, cancel: async () => undefined };
      }),
      sendFile: vi.fn(async () => ({ items: [] })),
    };
    const u = new Uploads(client as never);
    u.addFolder(
      '资料',
      [
        { file: new File(['abc'], 'a.txt'), path: 'a.txt' },
        { file: new File(['defgh'], 'b.md'), path: 'sub/b.md' },
      ],
      [conv],
    );
    expect(u.getSnapshot()).toHaveLength(1);
    expect(u.getSnapshot()[0]).toMatchObject({ name: '资料', size: 8, folder: { count: 2, done: 0 } });
    await tick();
    await tick();
    expect(client.call).toHaveBeenCalledWith('folder.create', { name: '资料' });
    expect(client.upload).toHaveBeenCalledTimes(1);
    expect(client.upload.mock.calls[0]![0]).toMatchObject({ folderId: 'fo_1', path: 'a.txt' });
    finishers[0]!('f_a');
    await tick();
    expect(u.getSnapshot()[0]).toMatchObject({ sent: 3, folder: { count: 2, done: 1 } });
    expect(client.upload.mock.calls[1]![0]).toMatchObject({ folderId: 'fo_1', path: 'sub/b.md' });
    progress[1]!({ sent: 2, total: 5, bytesPerSecond: 1, etaSeconds: 3 });
    expect(u.getSnapshot()[0]).toMatchObject({ sent: 5, etaSeconds: 3 });
    expect(client.sendFile).not.toHaveBeenCalled();
    finishers[1]!('f_b');
    await tick();
    await tick();
    expect(client.sendFile).toHaveBeenCalledWith('fo_1', [conv], expect.any(String));
    expect(u.getSnapshot()).toHaveLength(0);
  });

  it('a refused folder uploads nothing', () => {
    const client = { call: vi.fn(), upload: vi.fn(), sendFile: vi.fn() };
    const u = new Uploads(client as never);
    u.addFolder('empty', [], [conv]);
    expect(u.getSnapshot()[0]).toMatchObject({ state: 'refused' });
    expect(client.call).not.toHaveBeenCalled();
  });

  it('reads dropped folders from their directory entries, in batches, keeping plain files apart', async () => {
    type E = Record<string, unknown>;
    const fileEntry = (name: string): E => ({
      isFile: true,
      isDirectory: false,
      name,
      file: (ok: (f: File) => void) => ok(new File([name], name)),
    });
    const dirEntry = (name: string, children: E[]): E => {
      // Like the browser: entries come in batches, then an empty batch.
      const batches = [children.slice(0, 1), children.slice(1), []];
      return {
        isFile: false,
        isDirectory: true,
        name,
        createReader: () => ({ readEntries: (ok: (e: E[]) => void) => ok(batches.shift() ?? []) }),
      };
    };
    const tree = dirEntry('资料', [fileEntry('a.txt'), dirEntry('sub', [fileEntry('b.md')]), fileEntry('c.txt')]);
    const loose = new File(['x'], 'loose.txt');
    const item = (entry: E | null, file: File | null) => ({
      kind: 'file',
      webkitGetAsEntry: () => entry,
      getAsFile: () => file,
    });
    const dt = { items: [item(tree, null), item(fileEntry('loose.txt'), loose)] } as unknown as DataTransfer;
    const got = droppedEntries(dt, 100)!;
    expect(got.files).toEqual([loose]);
    const folders = await got.folders;
    expect(folders.map((f) => [f.name, f.parts.map((p) => p.path)])).toEqual([
      ['资料', ['a.txt', 'sub/b.md', 'c.txt']],
    ]);
    // A drop without folders is left to the plain file path.
    expect(droppedEntries({ items: [item(fileEntry('x'), loose)] } as unknown as DataTransfer, 100)).toBeNull();
  });
});
