/**
 * The one hook every message body passes through on its way to and from the store. Today it is the
 * identity; encryption at rest (M6.1) replaces it without touching any query.
 */
export interface BodyCodec {
  encode(plain: string): string;
  decode(stored: string): string;
}

export const identityCodec: BodyCodec = {
  encode: (s) => s,
  decode: (s) => s,
};
