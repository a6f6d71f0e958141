import { toHex } from './bytes.js';
import { sha256 } from './hash.js';
import type { PublicKey } from './ed25519.js';
import { ADDRESS_BYTES } from './constants.js';

export { ADDRESS_BYTES, isAddress } from './constants.js';

/**
 * An account or validator address: the first 20 bytes of SHA-256(public key), as 40
 * lowercase hex characters. Short enough to type, long enough that no two keys collide.
 */
export type Address = string;

export function addressOf(publicKey: PublicKey): Address {
  return toHex(sha256(publicKey).subarray(0, ADDRESS_BYTES));
}

