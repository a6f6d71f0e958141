import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HASH_LENGTH, sha256, sha256Reference } from '../../src/crypto/hash.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('sha256 (node) vs sha256Reference (noble)', () => {
  it('gives the FIPS 180-2 known answers', () => {
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    const twoBlocks = '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1';
    const msg = new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
    for (const f of [sha256, sha256Reference]) {
      expect(toHex(f())).toBe(empty);
      expect(toHex(f(new Uint8Array(0)))).toBe(empty);
      expect(toHex(f(Uint8Array.of(0x61, 0x62, 0x63)))).toBe(abc);
      expect(toHex(f(msg))).toBe(twoBlocks);
    }
  });

  it('agree on random inputs of every size around the block boundaries', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const digest = sha256(bytes);
        expect(digest.length).toBe(HASH_LENGTH);
        expect(toHex(digest)).toBe(toHex(sha256Reference(bytes)));
      }),
      { numRuns: 300 },
    );
    for (let n = 50; n < 140; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff);
      expect(toHex(sha256(bytes))).toBe(toHex(sha256Reference(bytes)));
    }
  });

  it('hash several parts as their concatenation', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 5 }), (parts) => {
        const joined = Uint8Array.from(parts.flatMap((p) => [...p]));
        expect(toHex(sha256(...parts))).toBe(toHex(sha256(joined)));
        expect(toHex(sha256Reference(...parts))).toBe(toHex(sha256(joined)));
      }),
    );
  });

  it('reads only the view it is given, not the whole underlying buffer', () => {
    const backing = new Uint8Array(64).map((_, i) => i);
    const view = backing.subarray(10, 20);
    expect(toHex(sha256(view))).toBe(toHex(sha256(Uint8Array.from(view))));
    expect(toHex(sha256Reference(view))).toBe(toHex(sha256(Uint8Array.from(view))));
  });

  it('returns a fresh digest each call', () => {
    const a = sha256(Uint8Array.of(1));
    const b = sha256(Uint8Array.of(1));
    expect(a).not.toBe(b);
    a.fill(0);
    expect(toHex(b)).toBe(toHex(sha256(Uint8Array.of(1))));
  });
});
