import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, randomBytes, type KeyObject } from 'node:crypto';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { toHex } from './bytes.js';

/**
 * Ed25519 with one API and two engines. Node's OpenSSL engine verifies ~12x faster than
 * @noble/curves on this machine (`npm run bench:crypto`) and signs byte-identically
 * (Ed25519 is deterministic); noble is the reference a test cross-checks against, and the
 * source of key derivation so that a key file means the same thing everywhere.
 */

import { PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH } from './constants.js';

export { PUBLIC_KEY_LENGTH, SEED_LENGTH, SIGNATURE_LENGTH };

/** A 32-byte Ed25519 public key. */
export type PublicKey = Uint8Array;
/** A 64-byte Ed25519 signature. */
export type Signature = Uint8Array;

/** A private key: the 32-byte RFC 8032 seed and the public key it derives. */
export interface KeyPair {
  readonly seed: Uint8Array;
  readonly publicKey: PublicKey;
}

// The DER prefix that wraps a raw 32-byte Ed25519 seed (PKCS#8), so Node can import it.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== SEED_LENGTH) throw new RangeError(`an Ed25519 seed is ${SEED_LENGTH} bytes, got ${seed.length}`);
  return { seed: Uint8Array.from(seed), publicKey: ed25519.getPublicKey(seed) };
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSeed(new Uint8Array(randomBytes(SEED_LENGTH)));
}

// Importing a KeyObject used to cost about as much as a verify (DER: 81 µs; a JWK: 8 µs),
// so keys are imported as JWK and cached. The cache is bounded: tx senders are unbounded
// in number, validators are few and stay hot.
const MAX_CACHED_KEYS = 65_536;
/** `null` marks a key refused by `isStrictPublicKey`, so refusing it again is free. */
const publicKeyObjects = new Map<string, KeyObject | null>();
const privateKeyObjects = new WeakMap<Uint8Array, KeyObject>();

/**
 * Encodings of the 8 points of small order, and of the two with x = 0 under the sign bit
 * that RFC 8032 decoding refuses (they would otherwise read as points of order 1 and 2).
 */
const SMALL_ORDER_ENCODINGS: ReadonlySet<string> = new Set([
  ...ED25519_TORSION_SUBGROUP,
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
]);

/** True when the encoded y (little-endian, sign bit aside) is below p = 2^255 - 19. */
function isCanonicalY(encoded: Uint8Array): boolean {
  if (((encoded[31] as number) & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (encoded[i] !== 0xff) return true;
  return (encoded[0] as number) < 0xed;
}

/**
 * OpenSSL verifies under any 32 bytes that decode to a point, including non-canonical
 * encodings and points of small order. Under a small-order key one signature (R of small
 * order, S = 0) verifies for every message, so anyone could sign for such an account. We
 * refuse those keys as noble's strict mode does (RFC 8032 decoding plus a small-order
 * check), but by their encodings: a point decompression took 98 µs, a lookup takes none.
 * Bytes that are no point at all pass here and fail every verify in OpenSSL.
 * Exported for the test that checks it against noble.
 */
export function isStrictPublicKey(publicKey: PublicKey, hexKey = toHex(publicKey)): boolean {
  return publicKey.length === PUBLIC_KEY_LENGTH && isCanonicalY(publicKey) && !SMALL_ORDER_ENCODINGS.has(hexKey);
}

function publicKeyObject(publicKey: PublicKey): KeyObject | null {
  const id = toHex(publicKey);
  let key = publicKeyObjects.get(id);
  if (key === undefined) {
    key = isStrictPublicKey(publicKey, id)
      ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64url') }, format: 'jwk' })
      : null;
    if (publicKeyObjects.size >= MAX_CACHED_KEYS) {
      const oldest = publicKeyObjects.keys().next();
      if (oldest.done !== true) publicKeyObjects.delete(oldest.value);
    }
    publicKeyObjects.set(id, key);
  }
  return key;
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  let key = privateKeyObjects.get(seed);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    privateKeyObjects.set(seed, key);
  }
  return key;
}

export function signRaw(keyPair: KeyPair, message: Uint8Array): Signature {
  const sig = nodeSign(null, message, privateKeyObject(keyPair.seed));
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

/** Never throws: a malformed key or signature simply does not verify. */
export function verifyRaw(publicKey: PublicKey, message: Uint8Array, signature: Signature): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    const key = publicKeyObject(publicKey);
    return key !== null && nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** The pure-JS reference engine (@noble/curves), for cross-checks and benchmarks. */
export const reference = {
  sign(keyPair: KeyPair, message: Uint8Array): Signature {
    return ed25519.sign(message, keyPair.seed);
  },
  verify(publicKey: PublicKey, message: Uint8Array, signature: Signature): boolean {
    if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};
