/**
 * Sizes and shape checks with no dependencies, so that pure layers (the codec, the
 * consensus core) can use them without loading OpenSSL bindings or the file system.
 */
export const HASH_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 32;
export const SEED_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const ADDRESS_BYTES = 20;

const ADDRESS_RE = /^[0-9a-f]{40}$/;

/** An address is 40 lowercase hex characters (see address.ts for how one is derived). */
export function isAddress(value: unknown): value is string {
  return typeof value === 'string' && ADDRESS_RE.test(value);
}
