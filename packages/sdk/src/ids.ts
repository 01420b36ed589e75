const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * A compact client-made id (clientMsgId, clientOpId): the 122 random bits of `crypto.randomUUID()`
 * (plus its fixed version bits) as 22 base64url characters. Matches the protocol's ClientId
 * pattern `^[A-Za-z0-9_-]{1,64}$`.
 */
export function newClientId(): string {
  const hex = globalThis.crypto.randomUUID().replace(/-/g, '');
  let bits = BigInt('0x' + hex);
  let out = '';
  for (let i = 0; i < 22; i++) {
    out = B64URL[Number(bits & 63n)]! + out;
    bits >>= 6n;
  }
  return out;
}
