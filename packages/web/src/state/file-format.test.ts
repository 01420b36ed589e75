import { describe, expect, it } from 'vitest';
import {
  codeLanguage,
  extensionOf,
  fileListLabel,
  fileFamily,
  formatEta,
  formatSize,
  formatSpeed,
  iconLabel,
  imageBox,
  looksPreviewable,
  pastedImageName,
  percent,
} from './file-format.ts';

describe('file sizes, speeds and time left', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1536, '1.5 KB'],
    [10 * 1024, '10.0 KB'],
    [512 * 1024, '512 KB'],
    [1024 * 1024, '1.00 MB'],
    [34.2 * 1024 * 1024, '34.2 MB'],
    [1.5 * 1024 ** 3, '1.50 GB'],
    [3 * 1024 ** 4, '3.00 TB'],
  ])('formatSize(%d) = %s', (bytes, expected) => {
    expect(formatSize(bytes)).toBe(expected);
  });

  it('refuses nonsense sizes', () => {
    expect(formatSize(-1)).toBe('—');
    expect(formatSize(Number.NaN)).toBe('—');
  });

  it('formats speed, empty while unknown', () => {
    expect(formatSpeed(2.5 * 1024 * 1024)).toBe('2.50 MB/s');
    expect(formatSpeed(0)).toBe('');
    expect(formatSpeed(Number.POSITIVE_INFINITY)).toBe('');
  });

  it.each([
    [null, null],
    [0, '0:00'],
    [0.2, '0:01'],
    [7, '0:07'],
    [65, '1:05'],
    [725, '12:05'],
    [3723, '1:02:03'],
    [-3, null],
    [Number.POSITIVE_INFINITY, null],
  ])('formatEta(%s) = %s', (s, expected) => {
    expect(formatEta(s)).toBe(expected);
  });

  it('rounds percent down and clamps it', () => {
    expect(percent(0, 0)).toBe(0);
    expect(percent(999, 1000)).toBe(99);
    expect(percent(1000, 1000)).toBe(100);
    expect(percent(2000, 1000)).toBe(100);
  });
});

describe('file types', () => {
  const f = (name: string, mime = 'application/octet-stream', kind: 'file' | 'image' | 'folder' = 'file') => ({
    name,
    mime,
    kind,
  });

  it('takes the extension of the last path part', () => {
    expect(extensionOf('a/b.c/Report.PDF')).toBe('pdf');
    expect(extensionOf('.bashrc')).toBe('');
    expect(extensionOf('README')).toBe('');
  });

  it.each([
    [f('x.png', 'image/png', 'image'), 'image'],
    [f('plan.pdf', 'application/pdf'), 'pdf'],
    [f('季度报告.docx', 'application/zip'), 'doc'],
    [f('budget.xlsx'), 'sheet'],
    [f('deck.pptx'), 'slides'],
    [f('src.tar.gz', 'application/gzip'), 'archive'],
    [f('main.ts', 'text/plain'), 'code'],
    [f('notes.txt', 'text/plain'), 'text'],
    [f('song.mp3', 'audio/mpeg'), 'audio'],
    [f('clip.mp4', 'video/mp4'), 'video'],
    [f('docs', 'inode/directory', 'folder'), 'folder'],
    [f('blob.bin'), 'other'],
  ] as const)('%o is %s', (file, family) => {
    expect(fileFamily(file)).toBe(family);
  });

  it('labels icons with a short extension', () => {
    expect(iconLabel(f('a.docx'))).toBe('DOCX');
    expect(iconLabel(f('a.markdown'))).toBe('FILE');
    expect(iconLabel(f('photo', 'image/png', 'image'))).toBe('IMG');
  });

  it('knows code languages and what may be previewed', () => {
    expect(codeLanguage('app.tsx')).toBe('typescript');
    expect(codeLanguage('notes.txt')).toBeNull();
    expect(looksPreviewable(f('a.pdf', 'application/pdf'))).toBe(true);
    expect(looksPreviewable(f('a.zip', 'application/zip'))).toBe(false);
    expect(looksPreviewable(f('docs', 'inode/directory', 'folder'))).toBe(false);
  });
});

describe('image boxes', () => {
  it('fits large images and keeps their shape', () => {
    expect(imageBox(1920, 1080)).toEqual({ width: 240, height: 135 });
    expect(imageBox(600, 1200)).toEqual({ width: 120, height: 240 });
  });
  it('keeps small images at their size, with a minimum', () => {
    expect(imageBox(100, 80)).toEqual({ width: 100, height: 80 });
    expect(imageBox(2000, 10)).toEqual({ width: 240, height: 48 });
  });
  it('uses a 4:3 box when the size is unknown', () => {
    expect(imageBox(null, null)).toEqual({ width: 240, height: 180 });
  });
  it('names pasted images by the time', () => {
    expect(pastedImageName('image/png', new Date(2026, 0, 2, 3, 4, 5))).toBe('screenshot-20260102-030405.png');
    expect(pastedImageName('image/jpeg', new Date(2026, 0, 2, 3, 4, 5))).toBe('screenshot-20260102-030405.jpg');
  });
});

describe('the conversation list', () => {
  const t = (k: string) =>
    ({ 'list.image': '[图片]', 'files.listFile': '[文件]', 'files.listFolder': '[文件夹]' })[k] ?? k;
  it('labels file messages', () => {
    expect(fileListLabel({ kind: 'image', name: 'a.png' }, t)).toBe('[图片]');
    expect(fileListLabel({ kind: 'file', name: '报告.pdf' }, t)).toBe('[文件] 报告.pdf');
    expect(fileListLabel({ kind: 'folder', name: '设计稿' }, t)).toBe('[文件夹] 设计稿');
  });
});
