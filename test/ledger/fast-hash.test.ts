import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { sha256, sha256Reference } from '../../src/crypto/hash.js';
import {
  ZERO_DIGEST,
  bytesToLatin1,
  hashBytes,
  hashLatin1,
  hashPair,
  hashPairBytes,
  latin1ToBytes,
} from '../../src/ledger/fast-hash.js';

// Lengths around every internal threshold (64-char conversion loop, 256-char reused inputs).
const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 60, maxLength: 70 }), fc.uint8Array({ minLength: 250, maxLength: 260 }));
const digestBytes = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('fast-hash (latin1 digests)', () => {
  it('converts bytes <-> latin1 losslessly, every byte value, every length class', () => {
    fc.assert(
      fc.property(anyBytes, (b) => {
        const s = bytesToLatin1(b);
        expect(s.length).toBe(b.length);
        const back = latin1ToBytes(s);
        expect(back).toEqual(b);
        expect(back).not.toBe(b);
        expect(Object.getPrototypeOf(back)).toBe(Uint8Array.prototype);
      }),
    );
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(latin1ToBytes(bytesToLatin1(all))).toEqual(all);
    const big = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
    expect(latin1ToBytes(bytesToLatin1(big))).toEqual(big);
    // A view into a larger buffer converts only its own bytes.
    expect(latin1ToBytes(bytesToLatin1(big.subarray(100, 140)))).toEqual(big.subarray(100, 140));
  });

  it('hashes exactly like crypto/hash.ts and the pure-JS reference', () => {
    fc.assert(
      fc.property(anyBytes, anyBytes, digestBytes, digestBytes, fc.constantFrom(0, 1), (x, y, a, b, prefix) => {
        // Interleaved lengths: the reused per-length inputs must not leak between calls.
        expect(toHex(latin1ToBytes(hashLatin1(bytesToLatin1(x))))).toBe(toHex(sha256(x)));
        expect(toHex(latin1ToBytes(hashBytes(y)))).toBe(toHex(sha256Reference(y)));
        expect(toHex(latin1ToBytes(hashLatin1(bytesToLatin1(y))))).toBe(toHex(sha256(y)));
        const want = toHex(sha256(Uint8Array.of(prefix), a, b));
        expect(toHex(latin1ToBytes(hashPair(prefix, bytesToLatin1(a), bytesToLatin1(b))))).toBe(want);
        const slab = Uint8Array.of(7, 7, 7, ...a, 9);
        expect(toHex(latin1ToBytes(hashPairBytes(prefix, slab, 3, bytesToLatin1(b))))).toBe(want);
      }),
    );
  });

  it('ZERO_DIGEST is 32 zero bytes', () => {
    expect(latin1ToBytes(ZERO_DIGEST)).toEqual(new Uint8Array(32));
  });
});
