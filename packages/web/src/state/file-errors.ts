import { EnclaveError } from '@enclave/protocol';
import { formatSize } from './file-format.ts';

/**
 * The i18n key and params for a file error, naming the policy rule that refused the file
 * (size limit, blocked type, not in the allowed list, name), so the user knows what to change.
 */
export function fileErrorKey(err: unknown): { key: string; params?: Record<string, unknown> } {
  if (!(err instanceof EnclaveError)) {
    const message = err instanceof Error ? err.message : String(err);
    return { key: 'files.err.network', params: { message } };
  }
  const d = (err.details ?? {}) as {
    rule?: unknown;
    maxBytes?: unknown;
    type?: unknown;
    matched?: unknown;
    max?: unknown;
    count?: unknown;
  };
  switch (err.code) {
    case 'file_too_large':
      return typeof d.maxBytes === 'number'
        ? { key: 'files.err.tooLarge', params: { max: formatSize(d.maxBytes) } }
        : { key: 'files.err.tooLargePlain' };
    case 'file_type_not_allowed':
      return d.rule === 'allowedTypes'
        ? { key: 'files.err.notAllowed', params: { type: typeof d.type === 'string' ? d.type : '?' } }
        : { key: 'files.err.blocked', params: { type: typeof d.type === 'string' ? d.type : '?' } };
    case 'file_name_invalid':
      switch (d.rule) {
        case 'folderEmpty':
          return { key: 'files.err.folderEmpty' };
        case 'folderEntries':
          return { key: 'files.err.folderEntries', params: { max: d.max, count: d.count } };
        case 'pathDepth':
          return { key: 'files.err.pathDepth', params: { max: d.max } };
        case 'pathChars':
          return { key: 'files.err.pathChars', params: { max: d.max } };
        default:
          return { key: 'files.err.name' };
      }
    case 'upload_not_found':
      return { key: 'files.err.expired' };
    case 'file_not_found':
      return { key: 'files.err.gone' };
    case 'unauthenticated':
      return { key: 'files.err.signedOut' };
    case 'server_busy':
      return { key: 'files.err.network', params: { message: err.message } };
    case 'not_a_member':
    case 'conversation_read_only':
    case 'member_muted':
    case 'conversation_muted':
    case 'forbidden':
      return { key: `errors.${err.code}` };
    default:
      return { key: 'common.error', params: { message: err.message } };
  }
}

/** Refusals that retrying the same file cannot fix (the policy or the name). */
export function isRefusal(err: unknown): boolean {
  return (
    err instanceof EnclaveError &&
    (err.code === 'file_too_large' || err.code === 'file_type_not_allowed' || err.code === 'file_name_invalid')
  );
}
