/**
 * The nodes of the sparse Merkle state tree (see smt.ts for the protocol) and the few
 * operations on them that both the tree and its bulk builder use.
 *
 * Nodes are immutable once linked into a tree and shared between tree versions; only an
 * interior node's memoized hash is filled in later, once. They are kept small because a
 * large state holds millions of them (measured: ~260 bytes per entry, hashed):
 * - keys, values and digests are latin1 strings (one char per byte, ~16 bytes of overhead
 *   each against ~200 for a Uint8Array);
 * - a leaf stores neither its path (sha256 of its key) nor its hash, which are recomputed
 *   when needed: when another key's insertion splits the leaf off, and when its parent is
 *   (re)hashed. Memoizing them costs ~100 bytes per entry and saved no time measurably: a
 *   parent's hash is memoized, so a leaf is re-hashed only when its sibling changes.
 */
import { ZERO_DIGEST, hashLatin1, hashPair, type Digest } from './fast-hash.js';

export type SmtErrorCode = 'builder-spent' | 'path-collision';

/** A misuse of the tree's API, or the (astronomically unlikely) sha256 collision of two keys. */
export class SmtError extends Error {
  override readonly name = 'SmtError';
  constructor(
    readonly code: SmtErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A subtree that holds exactly one entry, placed as high as the tree's shape allows. */
export class Leaf {
  constructor(
    /** The entry's key bytes as a latin1 string. */
    readonly key: string,
    /** The entry's value bytes as a latin1 string. */
    readonly value: string,
  ) {}
}

/** A subtree that holds two or more entries: its children cover paths with next bit 0 / 1. */
export class Branch {
  /** sha256(0x01 || hash(left) || hash(right)), computed on first use. */
  hash: Digest | undefined = undefined;
  constructor(
    readonly left: Node,
    readonly right: Node,
  ) {}
}

/** null is the empty subtree. */
export type Node = Leaf | Branch | null;

export const LEAF_PREFIX = 0x00;
export const INTERIOR_PREFIX = 0x01;
export const PATH_BITS = 256;

/** Bit `depth` of a path, most significant bit of byte 0 first; 0 goes left. */
export function bitAt(path: Digest, depth: number): number {
  return (path.charCodeAt(depth >>> 3) >>> (7 - (depth & 7))) & 1;
}

export function leafPath(leaf: Leaf): Digest {
  return hashLatin1(leaf.key);
}

export function hashOf(node: Node): Digest {
  if (node === null) return ZERO_DIGEST;
  if (node instanceof Leaf) return hashPair(LEAF_PREFIX, leafPath(node), hashLatin1(node.value));
  let h = node.hash;
  if (h !== undefined) return h;
  h = hashPair(INTERIOR_PREFIX, hashOf(node.left), hashOf(node.right));
  node.hash = h;
  return h;
}

/**
 * The canonical subtree with these two children: a subtree holding a single entry is that
 * entry's leaf (shortcutting), an empty one is null. Every tree is built through here, so
 * its shape is a function of its entries alone, whatever order they came in.
 */
export function join(left: Node, right: Node): Node {
  if (left === null) {
    if (right === null || right instanceof Leaf) return right;
  } else if (right === null && left instanceof Leaf) {
    return left;
  }
  return new Branch(left, right);
}
