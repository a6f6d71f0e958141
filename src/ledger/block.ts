import { encodeBlockHeader } from '../codec/block.js';
import { encodeVotePayload } from '../codec/consensus.js';
import type { Result } from '../codec/result.js';
import type { Block, BlockHeader, QuorumCertificate, Tx } from '../codec/types.js';
import { bytesEqual, toHex } from '../crypto/bytes.js';
import type { Verifier } from '../crypto/domain.js';
import type { PublicKey } from '../crypto/ed25519.js';
import { sha256, type Hash } from '../crypto/hash.js';
import type { CertificateError } from './errors.js';
import { merkleRoot } from './merkle.js';
import { quorumSize } from './quorum.js';
import { hashTx } from './tx.js';

const headerHashes = new WeakMap<BlockHeader, Hash>();

/** A block's identity: SHA-256 of its header's encoding (the header commits to the txs). Cached per header object. */
export function hashBlockHeader(header: BlockHeader): Hash {
  let h = headerHashes.get(header);
  if (h === undefined) {
    h = sha256(encodeBlockHeader(header));
    headerHashes.set(header, h);
  }
  return h;
}

export function txHashes(txs: readonly Tx[]): Hash[] {
  return txs.map(hashTx);
}

/** Merkle root over the txs' hashes, in block order. */
export function computeTxRoot(txs: readonly Tx[]): Hash {
  return merkleRoot(txHashes(txs));
}

// A replica checks a proposal's body when it arrives and again when it executes it (a
// fetched block: on arrival, then at commit). Blocks are immutable values, so a match is
// remembered per block object; a mismatch is not, it costs the sender its message.
const matchingBodies = new WeakSet<Block>();

/** Whether the block's txs are exactly the ones its header commits to: their count and their root. */
export function bodyMatchesHeader(block: Block): boolean {
  if (matchingBodies.has(block)) return true;
  if (block.txs.length !== block.header.txCount || !bytesEqual(computeTxRoot(block.txs), block.header.txRoot)) return false;
  matchingBodies.add(block);
  return true;
}

function certError(code: CertificateError['code'], message: string, validator?: number): Result<never, CertificateError> {
  return { ok: false, error: validator === undefined ? { code, message } : { code, message, validator } };
}

/**
 * Checks that `qc` proves its block committed: at least a quorum (n - f, see quorum.ts) of
 * distinct known validators, each with a valid 'commit' signature over
 * VotePayload{view, height, blockHash}. Every signature present must be valid, not just a
 * quorum of them: a certificate carrying a forged signature is malformed. The cheap
 * structural checks run first, so a certificate that cannot reach a quorum costs no
 * signature verification.
 */
export function verifyQuorumCertificate(
  qc: QuorumCertificate,
  validators: readonly PublicKey[],
  verifier: Verifier,
  expected?: { readonly height: number; readonly blockHash: Hash },
): Result<void, CertificateError> {
  if (expected !== undefined) {
    if (qc.height !== expected.height) return certError('wrong-height', `certificate is for height ${qc.height}, expected ${expected.height}`);
    if (!bytesEqual(qc.blockHash, expected.blockHash)) {
      return certError('wrong-block', `certificate is for block ${toHex(qc.blockHash)}, expected ${toHex(expected.blockHash)}`);
    }
  }
  const seen = new Set<number>();
  for (const { validator } of qc.signatures) {
    if (!Number.isInteger(validator) || validator < 0 || validator >= validators.length) {
      return certError('unknown-validator', `signature by unknown validator ${validator} (the set has ${validators.length})`, validator);
    }
    if (seen.has(validator)) return certError('duplicate-signer', `validator ${validator} signed twice`, validator);
    seen.add(validator);
  }
  const needed = validators.length === 0 ? 1 : quorumSize(validators.length);
  if (seen.size < needed) {
    return certError('no-quorum', `${seen.size} signatures, a quorum of ${validators.length} validators is ${needed}`);
  }
  const payload = encodeVotePayload({ view: qc.view, height: qc.height, blockHash: qc.blockHash });
  for (const { validator, signature } of qc.signatures) {
    const key = validators[validator] as PublicKey; // index checked above
    if (!verifier.verify(key, 'commit', payload, signature)) {
      return certError('bad-signature', `validator ${validator}'s commit signature does not verify`, validator);
    }
  }
  return { ok: true, value: undefined };
}
