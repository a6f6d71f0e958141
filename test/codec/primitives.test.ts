import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWith, Reader } from '../../src/codec/reader.js';
import { Writer } from '../../src/codec/writer.js';
import { arbAddress, arbU64, arbU64n, arbUtf8String } from './arbitraries.js';
import { expectError } from './expect.js';

const MAX_U64 = (1n << 64n) - 1n;

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function write(f: (w: Writer) => void): Uint8Array {
  const w = new Writer(4);
  f(w);
  return w.finish();
}

describe('Writer', () => {
  it('writes fixed-width big-endian integers', () => {
    expect(write((w) => w.u8(0xab).u16(0x0102).u32(0x03040506))).toEqual(bytes(0xab, 1, 2, 3, 4, 5, 6));
    expect(write((w) => w.u64(0x0102_0304_0506))).toEqual(bytes(0, 0, 1, 2, 3, 4, 5, 6));
    expect(write((w) => w.u64(Number.MAX_SAFE_INTEGER))).toEqual(bytes(0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    expect(write((w) => w.u64n(MAX_U64))).toEqual(new Uint8Array(8).fill(0xff));
    expect(write((w) => w.u64n(0x0102n))).toEqual(bytes(0, 0, 0, 0, 0, 0, 1, 2));
  });

  it('writes lengths before variable fields and nothing before fixed ones', () => {
    expect(write((w) => w.bytes(bytes(9, 8), 10))).toEqual(bytes(0, 0, 0, 2, 9, 8));
    expect(write((w) => w.string('hé', 10))).toEqual(bytes(0, 0, 0, 3, 0x68, 0xc3, 0xa9));
    expect(write((w) => w.fixed(bytes(7, 7, 7), 3))).toEqual(bytes(7, 7, 7));
    expect(write((w) => w.bool(true).bool(false))).toEqual(bytes(1, 0));
    expect(write((w) => w.address('00112233445566778899aabbccddeeff01234567'))).toEqual(
      Uint8Array.from(Buffer.from('00112233445566778899aabbccddeeff01234567', 'hex')),
    );
  });

  it('grows past its initial capacity and finishes with exactly the bytes written', () => {
    const w = new Writer(1);
    for (let i = 0; i < 1000; i++) w.u32(i);
    const out = w.finish();
    expect(out.length).toBe(4000);
    expect(new DataView(out.buffer, out.byteOffset).getUint32(4 * 999)).toBe(999);
  });

  it('hands out bytes it never writes into again', () => {
    const w = new Writer(2);
    w.u16(0xaaaa);
    const first = w.finish();
    w.u16(0xbbbb);
    expect(first).toEqual(bytes(0xaa, 0xaa));
    expect(w.finish()).toEqual(bytes(0xbb, 0xbb));
  });

  it('throws RangeError for values outside a field (a caller bug, not input)', () => {
    const w = new Writer();
    expect(() => w.u8(256)).toThrow(RangeError);
    expect(() => w.u8(-1)).toThrow(RangeError);
    expect(() => w.u16(1.5)).toThrow(RangeError);
    expect(() => w.u32(2 ** 32)).toThrow(RangeError);
    expect(() => w.u64(Number.MAX_SAFE_INTEGER + 1)).toThrow(RangeError);
    expect(() => w.u64(-1)).toThrow(RangeError);
    expect(() => w.u64(Number.NaN)).toThrow(RangeError);
    expect(() => w.u64n(-1n)).toThrow(RangeError);
    expect(() => w.u64n(MAX_U64 + 1n)).toThrow(RangeError);
    expect(() => w.u64n(5 as unknown as bigint)).toThrow(RangeError);
    expect(() => w.fixed(new Uint8Array(31), 32)).toThrow(RangeError);
    expect(() => w.bytes(new Uint8Array(11), 10)).toThrow(RangeError);
    expect(() => w.string('x'.repeat(11), 10)).toThrow(RangeError);
    expect(() => w.string('é'.repeat(6), 10)).toThrow(RangeError); // 6 chars, 12 bytes
    expect(() => w.string('a\uD800b', 10)).toThrow(RangeError); // a lone surrogate has no UTF-8
    expect(() => w.bool(1 as unknown as boolean)).toThrow(RangeError);
    expect(() => w.address('00112233445566778899AABBCCDDEEFF01234567')).toThrow(RangeError);
    expect(() => w.address('0011')).toThrow(RangeError);
    // Nothing was written by the refused calls.
    expect(w.length).toBe(0);
  });

  it('refuses to grow past its maximum length', () => {
    const w = new Writer(4, 8);
    w.u64(1);
    expect(() => w.u8(1)).toThrow(RangeError);
    // A string is held to its actual UTF-8 length, not to the worst case of 3 bytes per unit.
    const exact = new Writer(4, 9);
    exact.string('abcde', 64);
    expect(exact.finish()).toEqual(bytes(0, 0, 0, 5, 0x61, 0x62, 0x63, 0x64, 0x65));
    expect(() => new Writer(4, 9).string('abcdef', 64)).toThrow(RangeError);
  });
});

describe('Reader and decodeWith', () => {
  it('round-trips every primitive', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xff }),
        fc.nat({ max: 0xffff }),
        fc.nat({ max: 0xffff_ffff }),
        arbU64,
        arbU64n,
        fc.uint8Array({ maxLength: 40 }),
        arbUtf8String(64),
        fc.boolean(),
        arbAddress,
        (a, b, c, d, e, f, g, h, i) => {
          const encoded = write((w) => w.u8(a).u16(b).u32(c).u64(d).u64n(e).bytes(f, 40).string(g, 64).bool(h).address(i).fixed(f, f.length));
          const decoded = decodeWith(encoded, (r) => [r.u8(), r.u16(), r.u32(), r.u64(), r.u64n(), r.bytes(40), r.string(64), r.bool(), r.address(), r.fixed(f.length)]);
          expect(decoded).toEqual({ ok: true, value: [a, b, c, d, e, f, g, h, i, f] });
        },
      ),
    );
  });

  it('keeps a leading byte order mark (stripping it would not re-encode identically)', () => {
    const encoded = write((w) => w.string('\uFEFFx', 10));
    const decoded = decodeWith(encoded, (r) => r.string(10));
    expect(decoded).toEqual({ ok: true, value: '\uFEFFx' });
  });

  it('reports truncation where the input ends', () => {
    expectError(decodeWith(bytes(1, 2, 3), (r) => r.u32()), 'truncated', 0);
    expectError(decodeWith(bytes(0, 0, 0, 5, 1, 2), (r) => r.bytes(10)), 'truncated', 4);
    expectError(decodeWith(bytes(0, 0, 0, 0, 0, 0, 0), (r) => r.u64n()), 'truncated', 0);
    expectError(decodeWith(new Uint8Array(0), (r) => r.u8()), 'truncated', 0);
    expectError(decodeWith(new Uint8Array(31), (r) => r.fixed(32)), 'truncated');
  });

  it('reports trailing bytes', () => {
    expectError(decodeWith(bytes(1, 2), (r) => r.u8()), 'trailing-bytes', 1);
  });

  it('reports a length above its limit as too large when the input holds it, as truncated when it cannot', () => {
    const error = expectError(decodeWith(bytes(0, 0, 0, 11, ...new Array<number>(11).fill(0)), (r) => r.bytes(10)), 'too-large', 0);
    expect(error.message).toMatch(/11 bytes/);
    // A huge claimed length with almost no input is garbage, and never a giant allocation.
    expectError(decodeWith(bytes(0xff, 0xff, 0xff, 0xff), (r) => r.bytes(1 << 20)), 'truncated', 4);
    expectError(decodeWith(bytes(0xff, 0xff, 0xff, 0xff), (r) => r.string(64)), 'truncated', 4);
  });

  it('checks a count against its limit and against the bytes left', () => {
    expectError(decodeWith(bytes(0, 0, 0, 9), (r) => r.count(8, 1)), 'too-large', 0);
    // 3 items of at least 4 bytes cannot fit in 8 bytes.
    expectError(decodeWith(bytes(0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0), (r) => r.count(100, 4)), 'truncated', 0);
    expect(decodeWith(bytes(0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0), (r) => [r.count(100, 4), r.u32(), r.u32()])).toEqual({ ok: true, value: [2, 0, 0] });
  });

  it('accepts only 0 and 1 as booleans', () => {
    expect(decodeWith(bytes(0, 1), (r) => [r.bool(), r.bool()])).toEqual({ ok: true, value: [false, true] });
    for (const b of [2, 0x80, 0xff]) expectError(decodeWith(bytes(b), (r) => r.bool()), 'non-canonical', 0);
  });

  it('rejects invalid UTF-8: bad bytes, overlong forms, surrogates, truncated sequences, beyond U+10FFFF', () => {
    const cases = [[0xff], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]];
    for (const raw of cases) {
      expectError(decodeWith(bytes(0, 0, 0, raw.length, ...raw), (r) => r.string(64)), 'invalid-value', 4);
    }
  });

  it('rejects a u64 above Number.MAX_SAFE_INTEGER in a number field, but not in a bigint one', () => {
    const justAbove = write((w) => w.u64n(BigInt(Number.MAX_SAFE_INTEGER) + 1n));
    expectError(decodeWith(justAbove, (r) => r.u64()), 'invalid-value', 0);
    expect(decodeWith(justAbove, (r) => r.u64n())).toEqual({ ok: true, value: BigInt(Number.MAX_SAFE_INTEGER) + 1n });
    expectError(decodeWith(new Uint8Array(8).fill(0xff), (r) => r.u64()), 'invalid-value', 0);
  });

  it('refuses an input above maxBytes without reading it', () => {
    let called = false;
    const result = decodeWith(
      new Uint8Array(11),
      (r) => {
        called = true;
        return r.fixed(11);
      },
      10,
    );
    expectError(result, 'too-large');
    expect(called).toBe(false);
  });

  it('never aliases the caller buffer: reusing it later does not change the value', () => {
    const input = Buffer.from([0, 0, 0, 3, 1, 2, 3]);
    const decoded = decodeWith(input, (r) => r.bytes(10));
    input.fill(9);
    expect(decoded).toEqual({ ok: true, value: bytes(1, 2, 3) });
  });

  it('turns a decoder bug into an error value instead of throwing', () => {
    const result = decodeWith(bytes(1), () => {
      throw new TypeError('boom');
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.message).toMatch(/internal decoder error: TypeError: boom/);
  });

  it('refuses something that is not bytes', () => {
    expectError(decodeWith('abc' as unknown as Uint8Array, (r) => r.u8()), 'invalid-value');
  });

  it('lets a decoder fail with its own code and offset', () => {
    expectError(
      decodeWith(bytes(7, 7), (r) => {
        r.u8();
        return r.fail('invalid-tag', 'no such tag');
      }),
      'invalid-tag',
      1,
    );
    expect(new Reader(bytes(1, 2, 3)).remaining).toBe(3);
  });
});
