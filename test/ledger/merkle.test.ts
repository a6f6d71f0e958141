import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { sha256, type Hash } from '../../src/crypto/hash.js';
import { MerkleError, merkleProof, merkleRoot, verifyMerkleProof, type MerkleProof } from '../../src/ledger/merkle.js';

// The reference: RFC 6962 section 2.1, recursively, with the reference-grade sha256.
const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function refRoot(d: readonly Hash[]): Hash {
  if (d.length === 0) return sha256();
  if (d.length === 1) return sha256(LEAF, d[0]!);
  const k = split(d.length);
  return sha256(NODE, refRoot(d.slice(0, k)), refRoot(d.slice(k)));
}

/** RFC 6962 PATH(m, D[n]): the audit path, leaf level first. */
function refPath(m: number, d: readonly Hash[]): Hash[] {
  if (d.length <= 1) return [];
  const k = split(d.length);
  return m < k ? [...refPath(m, d.slice(0, k)), refRoot(d.slice(k))] : [...refPath(m - k, d.slice(k)), refRoot(d.slice(0, k))];
}

/** How many hashes PATH(m, D[n]) has: the shape alone, no hashing. */
function refPathLength(m: number, n: number): number {
  if (n <= 1) return 0;
  const k = split(n);
  return 1 + (m < k ? refPathLength(m, k) : refPathLength(m - k, n - k));
}

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const leafList = (min: number, max: number): fc.Arbitrary<Hash[]> => fc.array(hash32, { minLength: min, maxLength: max });
/** A non-empty list with one of its indexes. */
const listAndIndex = leafList(1, 70).chain((leaves) => fc.tuple(fc.constant(leaves), fc.nat({ max: leaves.length - 1 })));

function distinctLeaves(n: number): Hash[] {
  return Array.from({ length: n }, (_, i) => sha256(Uint8Array.of(i & 0xff, i >> 8, i >> 16)));
}

function flip(h: Hash, byte: number): Hash {
  const out = Uint8Array.from(h);
  out[byte % out.length]! ^= 0x01;
  return out;
}

describe('merkleRoot', () => {
  it('matches the recursive RFC 6962 definition', () => {
    fc.assert(
      fc.property(leafList(0, 130), (leaves) => {
        expect(toHex(merkleRoot(leaves))).toBe(toHex(refRoot(leaves)));
      }),
      { numRuns: 200 },
    );
  });

  it('matches vectors computed independently (Python hashlib)', () => {
    expect(toHex(merkleRoot([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const leaves = Array.from({ length: 7 }, (_, i) => sha256(Uint8Array.of(i)));
    expect(toHex(merkleRoot(leaves))).toBe('bee2275db16667589a4515f63e0d053a2fa602c1d9f9703e98920a5bdad59baf');
  });

  it('a single leaf is sha256(0x00 || leaf), not the leaf itself', () => {
    const leaf = sha256(Uint8Array.of(42));
    expect(toHex(merkleRoot([leaf]))).toBe(toHex(sha256(LEAF, leaf)));
  });

  it('handles a full block of 20,000 tx hashes (and 10,001, an odd split)', () => {
    for (const n of [20_000, 10_001]) {
      const leaves = distinctLeaves(n);
      expect(toHex(merkleRoot(leaves))).toBe(toHex(refRoot(leaves)));
    }
  });

  it('depends on the order of the leaves', () => {
    const leaves = distinctLeaves(5);
    expect(toHex(merkleRoot(leaves))).not.toBe(toHex(merkleRoot([...leaves].reverse())));
  });
});

describe('merkleProof / verifyMerkleProof', () => {
  it('gives the RFC 6962 audit path, which verifies', () => {
    fc.assert(
      fc.property(listAndIndex, ([leaves, index]) => {
        const proof = merkleProof(leaves, index);
        expect(proof.index).toBe(index);
        expect(proof.total).toBe(leaves.length);
        expect(proof.siblings.map(toHex)).toEqual(refPath(index, leaves).map(toHex));
        expect(verifyMerkleProof(merkleRoot(leaves), leaves[index]!, proof)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('verifies for every index of trees of 1..40 leaves and a few larger ones', () => {
    for (const n of [...Array.from({ length: 40 }, (_, i) => i + 1), 63, 64, 65, 300]) {
      const leaves = distinctLeaves(n);
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) expect(verifyMerkleProof(root, leaves[i]!, merkleProof(leaves, i))).toBe(true);
    }
  });

  it('rejects a wrong leaf, a wrong root and any altered sibling', () => {
    fc.assert(
      fc.property(listAndIndex, fc.nat(), fc.nat(), ([leaves, index], which, byte) => {
        const root = merkleRoot(leaves);
        const leaf = leaves[index]!;
        const proof = merkleProof(leaves, index);
        expect(verifyMerkleProof(root, flip(leaf, byte), proof)).toBe(false);
        expect(verifyMerkleProof(flip(root, byte), leaf, proof)).toBe(false);
        if (proof.siblings.length > 0) {
          const siblings = [...proof.siblings];
          const at = which % siblings.length;
          siblings[at] = flip(siblings[at]!, byte);
          expect(verifyMerkleProof(root, leaf, { ...proof, siblings })).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a sibling list that is truncated, padded, reordered or holds a non-hash', () => {
    fc.assert(
      fc.property(listAndIndex, hash32, ([leaves, index], extra) => {
        const root = merkleRoot(leaves);
        const leaf = leaves[index]!;
        const proof = merkleProof(leaves, index);
        const s = proof.siblings;
        const bad: (readonly Hash[])[] = [[...s, extra], [extra, ...s]];
        if (s.length > 0) bad.push(s.slice(1), s.slice(0, -1), [...s.slice(0, -1), s[s.length - 1]!.subarray(0, 31)]);
        if (s.length > 1 && toHex(s[0]!) !== toHex(s[1]!)) bad.push([s[1]!, s[0]!, ...s.slice(2)]);
        for (const siblings of bad) expect(verifyMerkleProof(root, leaf, { ...proof, siblings })).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects the proof at any other index, and an index outside the tree', () => {
    fc.assert(
      fc.property(leafList(2, 40), fc.nat(), (leaves, seed) => {
        // Distinct leaves, so that another index really is another claim.
        const ls = distinctLeaves(leaves.length);
        const root = merkleRoot(ls);
        const index = seed % ls.length;
        const proof = merkleProof(ls, index);
        for (let other = 0; other < ls.length; other++) {
          if (other === index) continue;
          expect(verifyMerkleProof(root, ls[index]!, { ...proof, index: other })).toBe(false);
        }
        for (const index2 of [ls.length, ls.length + 1, -1, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
          expect(verifyMerkleProof(root, ls[index]!, { ...proof, index: index2 })).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('rejects a total that does not fit the path, or is not a count', () => {
    fc.assert(
      fc.property(listAndIndex, ([leaves, index]) => {
        const root = merkleRoot(leaves);
        const leaf = leaves[index]!;
        const proof = merkleProof(leaves, index);
        for (let total = 0; total <= 2 * leaves.length + 2; total++) {
          if (total === leaves.length) continue;
          const claimed: MerkleProof = { ...proof, total };
          // A total whose path shape has another number of siblings cannot verify. (One with
          // the same shape can: the audit path does not authenticate the total, which is why
          // the verifier must take it from the certified header's txCount.)
          const shape = total > index ? refPathLength(index, total) : -1;
          if (shape !== proof.siblings.length) expect(verifyMerkleProof(root, leaf, claimed)).toBe(false);
        }
        for (const total of [-1, 1.5, Number.NaN, Infinity]) expect(verifyMerkleProof(root, leaf, { ...proof, total })).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('merkleProof refuses an index outside the list with a typed error', () => {
    const leaves = distinctLeaves(3);
    for (const index of [-1, 3, 1.5, Number.NaN]) {
      let thrown: unknown;
      try {
        merkleProof(leaves, index);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(MerkleError);
      expect((thrown as MerkleError).code).toBe('index-out-of-range');
    }
    expect(() => merkleProof([], 0)).toThrow(MerkleError);
  });

  it('verification never throws on junk', () => {
    const root = merkleRoot(distinctLeaves(4));
    const junk = [
      { index: 0, total: 4, siblings: [null, 1, 'x'] },
      { index: 0, total: 4, siblings: 'abc' },
      { index: 0, total: 4 },
    ] as unknown as MerkleProof[];
    for (const proof of junk) expect(verifyMerkleProof(root, distinctLeaves(1)[0]!, proof)).toBe(false);
  });
});
