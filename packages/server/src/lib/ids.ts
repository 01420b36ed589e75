import crypto from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** A new public id (UUIDv7: time-ordered, unguessable enough for ids, never a secret). */
export const newUid = (): string => uuidv7();

/** A new session token: 256 random bits. Only its hash is stored. */
export const newToken = (): string => crypto.randomBytes(32).toString('base64url');

export const hashToken = (token: string): string => crypto.createHash('sha256').update(token).digest('hex');

export const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');
