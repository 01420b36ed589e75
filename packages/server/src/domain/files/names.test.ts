import { describe, expect, it } from 'vitest';
import { checkFileName, checkFolderPath } from './names.ts';
import { checkPolicy } from './policy.ts';
import { sniffText } from './sniff.ts';

describe('file names and folder paths', () => {
  it.each(['report.pdf', '季度报告 (final).xlsx', '.bashrc', 'a..b'])('accepts %s', (n) => {
    expect(checkFileName(n)).toBe(n);
  });
  it.each(['', ' ', '.', '..', '../x', 'a/b', 'a\\b', 'nul\u0000.txt', 'x'.repeat(256)])('refuses %j', (n) => {
    expect(() => checkFileName(n)).toThrow(expect.objectContaining({ code: 'file_name_invalid' }));
  });
  it.each(['a.txt', 'docs/a.txt', '资料/二/三.txt'])('accepts path %s', (p) => expect(checkFolderPath(p)).toBe(p));
  it.each(['/a', 'a/', 'a//b', '../a', 'a/../b', 'a/./b', 'a\\b', ' a/b'])('refuses path %j', (p) => {
    expect(() => checkFolderPath(p)).toThrow(expect.objectContaining({ code: 'file_name_invalid' }));
  });
});

describe('policy', () => {
  const policy = { maxBytes: 100, allowedTypes: ['image/*', 'application/pdf'], blockedTypes: ['image/svg+xml'] };
  it.each([
    [50, 'image/png', null],
    [101, 'image/png', 'maxBytes'],
    [10, 'image/svg+xml', 'blockedTypes'],
    [10, 'text/html', 'allowedTypes'],
    [10, 'application/pdf; charset=binary', null],
  ] as const)('%d bytes of %s → %s', (size, mime, rule) => {
    if (rule === null) expect(() => checkPolicy(policy, size, mime)).not.toThrow();
    else
      expect(() => checkPolicy(policy, size, mime)).toThrow(
        expect.objectContaining({ details: expect.objectContaining({ rule }) }),
      );
  });
});

describe('sniffText', () => {
  it.each([
    ['<!DOCTYPE html><p>x', 'text/html'],
    ['  <html><body>', 'text/html'],
    ['<!-- c --><script>alert(1)</script>', 'text/html'],
    ['hello <script>x</script>', 'text/html'],
    ['<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">', 'image/svg+xml'],
    ['<svg onload=alert(1)>', 'image/svg+xml'],
    ['<?xml version="1.0"?><note/>', 'application/xml'],
    ['纯文本，中文。', 'text/plain'],
  ])('%s → %s', (t, mime) => expect(sniffText(Buffer.from(t))).toBe(mime));
  it('binary is not text', () => {
    expect(sniffText(Buffer.from([0x89, 0x50, 0x00, 0xff]))).toBeNull();
    expect(sniffText(Buffer.from([0xff, 0xfe, 0xfd, 0x41]))).toBeNull();
  });
});
