import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/crypto/index.js';
import { decodeTip, decodeTxLocation, encodeTip, encodeTxLocation, readU64, u64Key } from '../../src/store/layout.js';

const height = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('store layout', () => {
  it('u64 keys sort bytewise in numeric order and read back', () => {
    fc.assert(
      fc.property(height, height, (a, b) => {
        expect(readU64(u64Key(a), 0)).toBe(a);
        expect(Math.sign(compareBytes(u64Key(a), u64Key(b)))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('refuses heights that are not safe non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) expect(() => u64Key(bad)).toThrow(RangeError);
  });

  it('tip records and tx locations round-trip and reject wrong lengths', () => {
    fc.assert(
      fc.property(height, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 0xffff_ffff }), (h, hash, index) => {
        const tip = decodeTip(encodeTip({ height: h, hash }));
        expect(tip?.height).toBe(h);
        expect(Buffer.from(tip!.hash).equals(hash)).toBe(true);
        expect(decodeTxLocation(encodeTxLocation(h, index))).toEqual({ height: h, index });
      }),
    );
    expect(decodeTip(new Uint8Array(39))).toBeUndefined();
    expect(decodeTxLocation(new Uint8Array(13))).toBeUndefined();
  });
});
