import crypto from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** A new public id (UUIDv7: time-ordered, unguessable enough for ids, never a secret). */
export const newUid = (): string => uuidv7();

/** A new session token: 256 random bits. Only its hash is stored. */
export const newToken = (): string => crypto.randomBytes(32).toString('base64url');

// One-shot `crypto.hash` (Node ≥ 20.12): ~0.5 µs for a short string against ~1.2 µs through a Hash
// object; every socket sign-in hashes its token and every send its payload.
export const hashToken = (token: string): string => crypto.hash('sha256', token, 'hex');

export const sha256 = (s: string): string => crypto.hash('sha256', s, 'hex');
