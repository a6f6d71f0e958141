/**
 * A validator's Ed25519 key is its libp2p identity: the peer id embeds the public key, so
 * the genesis validator list alone tells every node which peer id each validator has, and
 * the Noise handshake proves the remote holds that key.
 */
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Ed25519PeerId, Ed25519PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id';
import { PUBLIC_KEY_LENGTH, SEED_LENGTH } from '../crypto/constants.js';

/**
 * The libp2p private key for a validator's 32-byte Ed25519 seed (the key file's
 * `privateKey`). Note: `privateKeyFromRaw` must not be used here — given 32 bytes it
 * silently builds a secp256k1 key, which would give the node a foreign identity.
 */
export async function libp2pPrivateKey(seed: Uint8Array): Promise<Ed25519PrivateKey> {
  if (seed.length !== SEED_LENGTH) throw new RangeError(`an Ed25519 seed is ${SEED_LENGTH} bytes, got ${seed.length}`);
  return generateKeyPairFromSeed('Ed25519', seed);
}

export async function peerIdFromSeed(seed: Uint8Array): Promise<Ed25519PeerId> {
  return peerIdFromPrivateKey(await libp2pPrivateKey(seed));
}

/** The peer id of the validator (or observer) whose raw 32-byte Ed25519 public key this is. */
export function peerIdOfValidator(publicKey: Uint8Array): Ed25519PeerId {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new RangeError(`an Ed25519 public key is ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`);
  }
  const key = publicKeyFromRaw(publicKey);
  if (key.type !== 'Ed25519') throw new RangeError(`expected an Ed25519 public key, got ${key.type}`);
  return peerIdFromPublicKey(key);
}
