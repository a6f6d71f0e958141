/**
 * Proofs of the state tree (protocol in smt.ts): that a key holds a value, or holds
 * nothing, in the tree with a given root. This is what a light client runs against a
 * certified header's stateRoot, so it is written straight from the definition with the
 * reference `sha256`, independently of the tree's own hashing, and it never throws.
 */
import type { Result } from '../codec/result.js';
import { bytesEqual, toHex, tryFromHex } from '../crypto/bytes.js';
import { HASH_LENGTH, sha256, type Hash } from '../crypto/hash.js';
import { INTERIOR_PREFIX, LEAF_PREFIX, PATH_BITS } from './smt-node.js';

/**
 * The sibling hashes on the way from the root down the key's path (siblings[d] is the
 * sibling at depth d + 1, i.e. below the node at depth d), to where the path ends:
 * - 'member': at the key's own leaf: the key holds the value being verified;
 * - 'empty': at an empty subtree: the key holds nothing;
 * - 'other-leaf': at the leaf of another key whose path shares the first
 *   `siblings.length` bits with the key's: that subtree holds only that entry, so the key
 *   holds nothing. The leaf is given by its path and its value's hash.
 */
export type StateProof =
  | { readonly kind: 'member'; readonly siblings: readonly Hash[] }
  | { readonly kind: 'empty'; readonly siblings: readonly Hash[] }
  | {
      readonly kind: 'other-leaf';
      readonly siblings: readonly Hash[];
      readonly leafPath: Hash;
      readonly leafValueHash: Hash;
    };

export type StateProofKind = StateProof['kind'];

/** A path has 256 bits, so no key's path ends deeper than that. */
export const MAX_PROOF_SIBLINGS = PATH_BITS;

const LEAF = new Uint8Array([LEAF_PREFIX]);
const INTERIOR = new Uint8Array([INTERIOR_PREFIX]);
const ZERO_HASH = new Uint8Array(HASH_LENGTH);

function bit(path: Uint8Array, depth: number): number {
  return (path[depth >>> 3]! >>> (7 - (depth & 7))) & 1;
}

function isHash(x: unknown): x is Hash {
  return x instanceof Uint8Array && x.length === HASH_LENGTH;
}

/** Whether the first `bits` bits of a and b agree. */
function sharePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

/** The hash of the subtree where the key's path ends, or undefined if the proof cannot be for (key, value). */
function terminalHash(path: Hash, value: Uint8Array | undefined, proof: StateProof): Hash | undefined {
  switch (proof.kind) {
    case 'member':
      return value === undefined ? undefined : sha256(LEAF, path, sha256(value));
    case 'empty':
      return value === undefined ? ZERO_HASH : undefined;
    case 'other-leaf': {
      if (value !== undefined || !isHash(proof.leafPath) || !isHash(proof.leafValueHash)) return undefined;
      // A leaf with the key's own path would be the key's leaf (a membership claim in
      // disguise); one off the proven prefix could not sit where the path ends.
      if (bytesEqual(proof.leafPath, path) || !sharePrefix(proof.leafPath, path, proof.siblings.length)) return undefined;
      return sha256(LEAF, proof.leafPath, proof.leafValueHash);
    }
    default:
      return undefined;
  }
}

/**
 * Whether `proof` shows that in the tree with this root, `key` holds `value`
 * (undefined: holds nothing).
 */
export function verifyStateProof(root: Hash, key: Uint8Array, value: Uint8Array | undefined, proof: StateProof): boolean {
  if (!isHash(root) || typeof proof !== 'object' || proof === null) return false;
  const { siblings } = proof;
  if (!Array.isArray(siblings) || siblings.length > MAX_PROOF_SIBLINGS) return false;
  if (!siblings.every(isHash)) return false;
  const depth = siblings.length;
  // In a canonical tree the deepest sibling is never empty: its parent would hold just
  // the subtree where the path ends (one leaf, or nothing) and so would not exist.
  if (depth > 0 && bytesEqual(siblings[depth - 1]!, ZERO_HASH)) return false;
  const path = sha256(key);
  let hash = terminalHash(path, value, proof);
  if (hash === undefined) return false;
  for (let d = depth - 1; d >= 0; d--) {
    const sibling = siblings[d]!;
    hash = bit(path, d) === 1 ? sha256(INTERIOR, sibling, hash) : sha256(INTERIOR, hash, sibling);
  }
  return bytesEqual(hash, root);
}

// ---------------------------------------------------------------------------------------
// JSON (RPC): hashes as lowercase hex.

export type StateProofJson =
  | { readonly kind: 'member' | 'empty'; readonly siblings: readonly string[] }
  | {
      readonly kind: 'other-leaf';
      readonly siblings: readonly string[];
      readonly leafPath: string;
      readonly leafValueHash: string;
    };

export function stateProofToJson(proof: StateProof): StateProofJson {
  const siblings = proof.siblings.map(toHex);
  if (proof.kind === 'other-leaf') {
    return { kind: proof.kind, siblings, leafPath: toHex(proof.leafPath), leafValueHash: toHex(proof.leafValueHash) };
  }
  return { kind: proof.kind, siblings };
}

function hashFromJson(x: unknown): Hash | undefined {
  if (typeof x !== 'string' || x.length !== 2 * HASH_LENGTH) return undefined;
  return tryFromHex(x);
}

const FIELDS: Readonly<Record<StateProofKind, readonly string[]>> = {
  member: ['kind', 'siblings'],
  empty: ['kind', 'siblings'],
  'other-leaf': ['kind', 'siblings', 'leafPath', 'leafValueHash'],
};

/** Parses untrusted JSON (already JSON.parse'd) into a StateProof; the error names the fault. */
export function stateProofFromJson(json: unknown): Result<StateProof, string> {
  const fail = (error: string): Result<StateProof, string> => ({ ok: false, error });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('proof: not an object');
  const o = json as Record<string, unknown>;
  const kind = o['kind'];
  if (kind !== 'member' && kind !== 'empty' && kind !== 'other-leaf') return fail('proof.kind: not member, empty or other-leaf');
  const allowed = FIELDS[kind];
  for (const field of Object.keys(o)) {
    if (!allowed.includes(field)) return fail(`proof.${field}: unexpected for kind ${kind}`);
  }
  const rawSiblings = o['siblings'];
  if (!Array.isArray(rawSiblings)) return fail('proof.siblings: not an array');
  if (rawSiblings.length > MAX_PROOF_SIBLINGS) return fail(`proof.siblings: more than ${MAX_PROOF_SIBLINGS}`);
  const siblings: Hash[] = [];
  for (let i = 0; i < rawSiblings.length; i++) {
    const h = hashFromJson(rawSiblings[i]);
    if (h === undefined) return fail(`proof.siblings[${i}]: not a 32-byte hex hash`);
    siblings.push(h);
  }
  if (kind !== 'other-leaf') return { ok: true, value: { kind, siblings } };
  const leafPath = hashFromJson(o['leafPath']);
  if (leafPath === undefined) return fail('proof.leafPath: not a 32-byte hex hash');
  const leafValueHash = hashFromJson(o['leafValueHash']);
  if (leafValueHash === undefined) return fail('proof.leafValueHash: not a 32-byte hex hash');
  return { ok: true, value: { kind, siblings, leafPath, leafValueHash } };
}
