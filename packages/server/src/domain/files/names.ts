import { EnclaveError, fileLimits } from '@enclave/protocol';

/* eslint-disable no-control-regex -- control characters are exactly what is refused */
const BAD = /[\u0000-\u001f\u007f/\\]/;

/** A file name as stored and shown: one path segment, no control characters, no traversal. */
export function checkFileName(raw: string | null | undefined): string {
  const name = (raw ?? '').normalize('NFC').trim();
  if (!name || name.length > fileLimits.maxNameChars || BAD.test(name) || name === '.' || name === '..')
    throw new EnclaveError('file_name_invalid', `The file name "${name.slice(0, 80)}" is not allowed.`, {
      rule: 'name',
    });
  return name;
}

/** A relative path inside a folder: segments joined by '/', each a valid name; never absolute or '..'. */
export function checkFolderPath(raw: string): string {
  const p = raw.normalize('NFC');
  const segments = p.split('/');
  if (p.length > fileLimits.maxPathChars || segments.length > fileLimits.maxPathDepth)
    throw new EnclaveError('file_name_invalid', 'The path inside the folder is too long.', { rule: 'path' });
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || BAD.test(s) || s !== s.trim())
      throw new EnclaveError('file_name_invalid', `The path "${p.slice(0, 80)}" is not allowed.`, { rule: 'path' });
  }
  return segments.join('/');
}
/* eslint-enable no-control-regex */
