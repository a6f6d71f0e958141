/**
 * The block's tx root: a Merkle tree over the txs' hashes in block order, shaped as in
 * RFC 6962 (Certificate Transparency), with inclusion proofs.
 *
 *   MTH([])       = sha256()                                  (no bytes)
 *   MTH([d])      = sha256(0x00 || d)                         (leaf)
 *   MTH(D[0..n))  = sha256(0x01 || MTH(D[0..k)) || MTH(D[k..n)))
 *                   where k is the largest power of two < n   (interior)
 *
 * The 0x00/0x01 prefixes keep a leaf from passing for an interior node. The recursive
 * split equals pairing nodes level by level, left to right, and carrying an unpaired last
 * node up unchanged (the left part of every split is a perfect tree), which is how we
 * build: n - 1 interior hashes, no recursion, no re-hashing.
 */
import { bytesEqual } from '../crypto/bytes.js';
import { HASH_LENGTH, sha256, type Hash } from '../crypto/hash.js';
import { hashBytes, hashPair, latin1ToBytes, type Digest } from './fast-hash.js';

export interface MerkleProof {
  /** The leaf's position, 0-based. */
  readonly index: number;
  /** How many leaves the tree has. */
  readonly total: number;
  /** The audit path: the siblings' hashes from the leaf's level up to the root's children. */
  readonly siblings: readonly Hash[];
}

export type MerkleErrorCode = 'index-out-of-range';

/** A caller's mistake (not untrusted input: proofs are checked by `verifyMerkleProof`, which never throws). */
export class MerkleError extends Error {
  override readonly name = 'MerkleError';
  constructor(
    readonly code: MerkleErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const LEAF = 0x00;
const INTERIOR = 0x01;

const leafScratch = Buffer.alloc(1 + HASH_LENGTH);

function leafDigest(leaf: Uint8Array): Digest {
  if (leaf.length === HASH_LENGTH) {
    // The common case (tx hashes): no allocation for the 0x00 || leaf input.
    leafScratch[0] = LEAF;
    leafScratch.set(leaf, 1);
    return hashBytes(leafScratch);
  }
  const input = new Uint8Array(1 + leaf.length);
  input[0] = LEAF;
  input.set(leaf, 1);
  return hashBytes(input);
}

/** The next level up: pairs hashed left to right, an odd last node carried up as is. */
function nextLevel(level: readonly Digest[]): Digest[] {
  const up: Digest[] = new Array<Digest>(Math.ceil(level.length / 2));
  let j = 0;
  for (let i = 0; i + 1 < level.length; i += 2) up[j++] = hashPair(INTERIOR, level[i]!, level[i + 1]!);
  if (level.length % 2 === 1) up[j] = level[level.length - 1]!;
  return up;
}

export function merkleRoot(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return sha256();
  let level = leaves.map(leafDigest);
  while (level.length > 1) level = nextLevel(level);
  return latin1ToBytes(level[0]!);
}

/** The inclusion proof for `leaves[index]`. Throws MerkleError for an index outside the list. */
export function merkleProof(leaves: readonly Hash[], index: number): MerkleProof {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new MerkleError('index-out-of-range', `leaf index ${index} is outside 0..${leaves.length - 1}`);
  }
  const siblings: Hash[] = [];
  let level = leaves.map(leafDigest);
  let i = index;
  while (level.length > 1) {
    const sibling = i % 2 === 1 ? i - 1 : i + 1;
    // No sibling means this node is carried up unpaired: it adds nothing to the path.
    if (sibling < level.length) siblings.push(latin1ToBytes(level[sibling]!));
    level = nextLevel(level);
    i = Math.floor(i / 2);
  }
  return { index, total: leaves.length, siblings };
}

/**
 * Checks that `leaf` sits at `proof.index` of a `proof.total`-leaf tree with this root.
 * The shape of the path is a function of (index, total), so a proof with a sibling too many
 * or too few, an index outside the tree, or a total whose path shape does not match is
 * rejected. As in RFC 6962, the path alone does not authenticate `total` (3 and 4 leaves
 * give index 0 the same shape): a verifier takes it from the certified header's txCount.
 * Uses the reference `sha256` (independent of the builder's hashing). Never throws.
 */
export function verifyMerkleProof(root: Hash, leaf: Hash, proof: MerkleProof): boolean {
  const { index, total, siblings } = proof;
  if (!Number.isSafeInteger(total) || total < 1) return false;
  if (!Number.isSafeInteger(index) || index < 0 || index >= total) return false;
  if (!Array.isArray(siblings) || root.length !== HASH_LENGTH) return false;
  const leafPrefix = new Uint8Array([LEAF]);
  const interiorPrefix = new Uint8Array([INTERIOR]);
  let hash = sha256(leafPrefix, leaf);
  let used = 0;
  let i = index;
  let width = total;
  while (width > 1) {
    const hasSibling = i % 2 === 1 || i + 1 < width;
    if (hasSibling) {
      const sibling: unknown = siblings[used++];
      if (!(sibling instanceof Uint8Array) || sibling.length !== HASH_LENGTH) return false;
      hash = i % 2 === 1 ? sha256(interiorPrefix, sibling, hash) : sha256(interiorPrefix, hash, sibling);
    }
    i = Math.floor(i / 2);
    width = Math.ceil(width / 2);
  }
  return used === siblings.length && bytesEqual(hash, root);
}
