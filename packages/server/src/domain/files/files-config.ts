import fs from 'node:fs';
import path from 'node:path';
import { fileLimits } from '@enclave/protocol';
import type { S3Options } from '../../blob/s3-store.ts';

/** File settings (docs/operations.md, "Files"), read from the environment. */
export interface FilesConfig {
  /** Where blobs live: local disk under `<dataDir>/blobs` (default) or an S3-compatible bucket. */
  blob: { kind: 'local' } | ({ kind: 's3' } & S3Options);
  /** Sent and uploaded files are removed this long after upload (M1.2: offline files >= 30 days). */
  retentionMs: number;
  /** Unfinished uploads are dropped this long after their last byte. */
  uploadExpiryMs: number;
  /** Size limit until an administrator sets a policy. */
  defaultMaxBytes: number;
  /** LibreOffice for Office → PDF previews; null when none is installed. */
  soffice: string | null;
  /** Seconds a conversion may take. */
  convertTimeoutMs: number;
}

const num = (v: string | undefined, d: number) => (v === undefined || v === '' ? d : Number(v));

export function loadFilesConfig(env: NodeJS.ProcessEnv): FilesConfig {
  const blob: FilesConfig['blob'] =
    env.ENCLAVE_BLOB_STORE === 's3'
      ? {
          kind: 's3',
          endpoint: env.ENCLAVE_S3_ENDPOINT || null,
          region: env.ENCLAVE_S3_REGION ?? 'us-east-1',
          bucket: required(env, 'ENCLAVE_S3_BUCKET'),
          accessKeyId: required(env, 'ENCLAVE_S3_ACCESS_KEY'),
          secretAccessKey: required(env, 'ENCLAVE_S3_SECRET_KEY'),
          forcePathStyle: env.ENCLAVE_S3_PATH_STYLE !== 'false',
          prefix: env.ENCLAVE_S3_PREFIX ?? '',
        }
      : { kind: 'local' };
  return {
    blob,
    retentionMs: num(env.ENCLAVE_FILE_RETENTION_DAYS, 30) * 86_400_000,
    uploadExpiryMs: num(env.ENCLAVE_UPLOAD_EXPIRY_HOURS, 24) * 3_600_000,
    defaultMaxBytes: num(env.ENCLAVE_FILE_MAX_BYTES, fileLimits.defaultMaxBytes),
    soffice:
      env.ENCLAVE_SOFFICE === 'off' ? null : (env.ENCLAVE_SOFFICE ?? findOnPath(['soffice', 'libreoffice'], env)),
    convertTimeoutMs: num(env.ENCLAVE_CONVERT_TIMEOUT_S, 120) * 1000,
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is required when ENCLAVE_BLOB_STORE=s3`);
  return v;
}

function findOnPath(names: string[], env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean))
    for (const n of names) {
      const p = path.join(dir, n);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        /* not here */
      }
    }
  return null;
}
