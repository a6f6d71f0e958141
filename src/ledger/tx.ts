import { encodeTx, encodeUnsignedTx } from '../codec/tx.js';
import type { Tx, UnsignedTx } from '../codec/types.js';
import { addressOf, type Address } from '../crypto/address.js';
import { bytesEqual } from '../crypto/bytes.js';
import { sign, type Verifier } from '../crypto/domain.js';
import type { KeyPair } from '../crypto/ed25519.js';
import { sha256, type Hash } from '../crypto/hash.js';

/**
 * A tx's identity is the SHA-256 of its full encoding (signature included). Txs are
 * immutable values, and a tx is hashed by the mempool, by the proposer, by every replica
 * executing a block and by the tx index, so the hash and the encoded size are computed
 * once per Tx object and kept beside it (a WeakMap: the cache dies with the tx). The codec
 * caches the encoding itself, seeded by decodeTx/decodeBlock, so a decoded tx is never
 * re-encoded here either.
 */
interface TxFacts {
  readonly hash: Hash;
  readonly size: number;
}

const facts = new WeakMap<Tx, TxFacts>();

function txFacts(tx: Tx): TxFacts {
  let f = facts.get(tx);
  if (f === undefined) {
    const bytes = encodeTx(tx);
    f = { hash: sha256(bytes), size: bytes.length };
    facts.set(tx, f);
  }
  return f;
}

export function hashTx(tx: Tx): Hash {
  return txFacts(tx).hash;
}

/** Bytes of the tx's canonical encoding. */
export function txSize(tx: Tx): number {
  return txFacts(tx).size;
}

// Deriving an address is a SHA-256, and a block names the same few senders over and over
// (a sender's txs, its nonce checks, its balance): so addresses are cached by public key.
// Bounded like the crypto module's key cache; the oldest entry goes first.
const MAX_CACHED_ADDRESSES = 65_536;
const addresses = new Map<string, Address>();

/** addressOf(tx.sender), cached. */
export function senderAddress(tx: UnsignedTx): Address {
  const key = tx.sender;
  const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  let address = addresses.get(id);
  if (address === undefined) {
    address = addressOf(key);
    if (addresses.size >= MAX_CACHED_ADDRESSES) {
      const oldest = addresses.keys().next();
      if (oldest.done !== true) addresses.delete(oldest.value);
    }
    addresses.set(id, address);
  }
  return address;
}

/** Signs `unsigned` with the sender's key; throws if the key is not the tx's sender (a bug). */
export function signTx(unsigned: UnsignedTx, keyPair: KeyPair): Tx {
  if (!bytesEqual(unsigned.sender, keyPair.publicKey)) throw new RangeError('signTx: the key pair is not the tx sender');
  return { ...unsigned, signature: sign(keyPair, 'tx', unsigned.chainId, encodeUnsignedTx(unsigned)) };
}

/**
 * Checks the sender's signature. The verifier is bound to one chain id (makeVerifier), so a
 * tx claiming another chain fails here too; validateTxStateless reports that case first.
 */
export function verifyTxSignature(tx: Tx, verifier: Verifier): boolean {
  return verifier.verify(tx.sender, 'tx', encodeUnsignedTx(tx), tx.signature);
}
