/**
 * The state tree: a persistent sparse Merkle tree over 256-bit paths, whose root goes into
 * every block header.
 *
 * PROTOCOL (what a light client verifies; changing any of it changes every state root):
 * - An entry is (key, value), both byte strings. Its path is sha256(key), read as 256
 *   bits, most significant bit of byte 0 first; bit d chooses the child at depth d + 1
 *   (0: left, 1: right).
 * - The tree is the binary trie of the paths, with every subtree that holds exactly one
 *   entry replaced by that entry's leaf (so a leaf sits right below the deepest node whose
 *   subtree also holds another entry, and the depth is ~log2(entries), not 256). Given the
 *   entries, the shape is unique: no insertion order or history shows in the root.
 * - hash(empty subtree) = 32 zero bytes
 *   hash(leaf)          = sha256(0x00 || path || sha256(value))
 *   hash(interior)      = sha256(0x01 || hash(left) || hash(right))
 *   root                = hash of the whole tree (32 zero bytes when it is empty)
 *   The leaf hash commits to the full path, so it does not depend on the leaf's depth;
 *   0x00/0x01 keep leaves and interior nodes apart, and no sha256 output is all zeros
 *   (but with negligible probability), so an empty subtree is never mistaken for a node.
 * - Proofs: see smt-proof.ts.
 *
 * Implementation: immutable nodes shared between versions (`set` copies the nodes on one
 * path, ~log2(n) of them, and nothing else); interior hashes are computed lazily and
 * memoized per node, so after many sets `root` hashes each new interior node once (a
 * leaf, which keeps no hash, is hashed again only when its sibling changes; see
 * smt-node.ts). fromEntries builds and hashes in one pass (smt-build.ts).
 */
import type { Hash } from '../crypto/hash.js';
import { bytesToLatin1, hashBytes, hashLatin1, latin1ToBytes, type Digest } from './fast-hash.js';
import { SmtBuilder } from './smt-build.js';
import { Branch, Leaf, PATH_BITS, SmtError, bitAt, hashOf, join, leafPath, type Node } from './smt-node.js';
import type { StateProof } from './smt-proof.js';

export { SmtBuilder } from './smt-build.js';
export { SmtError, type SmtErrorCode } from './smt-node.js';
export {
  MAX_PROOF_SIBLINGS,
  stateProofFromJson,
  stateProofToJson,
  verifyStateProof,
  type StateProof,
  type StateProofJson,
  type StateProofKind,
} from './smt-proof.js';

/** The subtree that replaces leaf `existing` when `added` (another key) goes where it is. */
function split(existing: Leaf, added: Leaf, addedPath: Digest, depth: number): Node {
  const existingPath = leafPath(existing);
  let d = depth;
  while (d < PATH_BITS && bitAt(existingPath, d) === bitAt(addedPath, d)) d++;
  if (d === PATH_BITS) throw new SmtError('path-collision', 'two state keys have the same sha256');
  let node: Node = bitAt(addedPath, d) === 1 ? new Branch(existing, added) : new Branch(added, existing);
  // The two share bits depth..d-1: one single-child interior node per shared bit.
  for (let e = d - 1; e >= depth; e--) node = bitAt(addedPath, e) === 1 ? new Branch(null, node) : new Branch(node, null);
  return node;
}

/** Replaces the subtree at the end of `ancestors` (the nodes on `path` from the root down) and re-joins up to the root. */
function rebuild(ancestors: readonly Branch[], path: Digest, replacement: Node): Node {
  let node = replacement;
  for (let d = ancestors.length - 1; d >= 0; d--) {
    const parent = ancestors[d]!;
    node = bitAt(path, d) === 1 ? join(parent.left, node) : join(node, parent.right);
  }
  return node;
}

export class SparseMerkleTree {
  private static readonly EMPTY = new SparseMerkleTree(null, 0);

  private constructor(
    private readonly top: Node,
    /** The number of entries. */
    readonly size: number,
  ) {}

  static empty(): SparseMerkleTree {
    return SparseMerkleTree.EMPTY;
  }

  /** Builds a tree from entries in any order (a key given twice keeps its last value). */
  static fromEntries(entries: Iterable<readonly [Uint8Array, Uint8Array]>): SparseMerkleTree {
    const builder = new SmtBuilder();
    for (const [key, value] of entries) builder.add(key, value);
    return SparseMerkleTree.fromBuilder(builder);
  }

  /** The tree of everything added to `builder` (which is spent afterwards). */
  static fromBuilder(builder: SmtBuilder): SparseMerkleTree {
    const { node, size } = builder.build();
    return size === 0 ? SparseMerkleTree.EMPTY : new SparseMerkleTree(node, size);
  }

  /** The root hash (computed on first read; only nodes new since the last read are hashed). */
  get root(): Hash {
    return latin1ToBytes(hashOf(this.top));
  }

  /** The value stored under `key` (a fresh copy), or undefined. */
  get(key: Uint8Array): Uint8Array | undefined {
    const path = hashBytes(key);
    let node = this.top;
    for (let d = 0; node instanceof Branch; d++) node = bitAt(path, d) === 1 ? node.right : node.left;
    if (node === null || node.key !== bytesToLatin1(key)) return undefined;
    return latin1ToBytes(node.value);
  }

  has(key: Uint8Array): boolean {
    return this.get(key) !== undefined;
  }

  /** The tree with `key` set to `value` (this tree is unchanged; a no-op set returns it). */
  set(key: Uint8Array, value: Uint8Array): SparseMerkleTree {
    const k = bytesToLatin1(key);
    const v = bytesToLatin1(value);
    const path = hashBytes(key);
    const ancestors: Branch[] = [];
    let node = this.top;
    while (node instanceof Branch) {
      ancestors.push(node);
      node = bitAt(path, ancestors.length - 1) === 1 ? node.right : node.left;
    }
    let replacement: Node;
    let added = 1;
    if (node === null) {
      replacement = new Leaf(k, v);
    } else if (node.key === k) {
      if (node.value === v) return this;
      replacement = new Leaf(k, v);
      added = 0;
    } else {
      replacement = split(node, new Leaf(k, v), path, ancestors.length);
    }
    return new SparseMerkleTree(rebuild(ancestors, path, replacement), this.size + added);
  }

  /** The tree without `key` (this tree if it does not hold it). */
  delete(key: Uint8Array): SparseMerkleTree {
    const path = hashBytes(key);
    const ancestors: Branch[] = [];
    let node = this.top;
    while (node instanceof Branch) {
      ancestors.push(node);
      node = bitAt(path, ancestors.length - 1) === 1 ? node.right : node.left;
    }
    if (node === null || node.key !== bytesToLatin1(key)) return this;
    if (this.size === 1) return SparseMerkleTree.EMPTY;
    return new SparseMerkleTree(rebuild(ancestors, path, null), this.size - 1);
  }

  /** Every entry (fresh copies), in path order. */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    const stack: Node[] = [this.top];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node === null) continue;
      if (node instanceof Branch) {
        stack.push(node.right, node.left);
      } else {
        yield [latin1ToBytes(node.key), latin1ToBytes(node.value)];
      }
    }
  }

  /** The proof of what `key` holds here: membership with its value, or absence. */
  prove(key: Uint8Array): StateProof {
    const path = hashBytes(key);
    const siblings: Hash[] = [];
    let node = this.top;
    while (node instanceof Branch) {
      const right = bitAt(path, siblings.length) === 1;
      siblings.push(latin1ToBytes(hashOf(right ? node.left : node.right)));
      node = right ? node.right : node.left;
    }
    if (node === null) return { kind: 'empty', siblings };
    if (node.key === bytesToLatin1(key)) return { kind: 'member', siblings };
    return {
      kind: 'other-leaf',
      siblings,
      leafPath: latin1ToBytes(leafPath(node)),
      leafValueHash: latin1ToBytes(hashLatin1(node.value)),
    };
  }
}
