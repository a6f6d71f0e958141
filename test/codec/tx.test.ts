import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTx, encodeTx, encodeUnsignedTx } from '../../src/codec/tx.js';
import { LIMITS, type Tx } from '../../src/codec/types.js';
import { arbTx, arbUnsignedTx } from './arbitraries.js';
import { concat, copy, expectError, expectOk, u32be } from './expect.js';

const SENDER = new Uint8Array(32).fill(0x11);
const SIGNATURE = new Uint8Array(64).fill(0x22);
const ADDRESS = 'aa'.repeat(20);

function tx(body: Tx['body'], chainId = 'c'): Tx {
  return { chainId, sender: SENDER, nonce: 2n, body, signature: SIGNATURE };
}

/** The bytes of a tx on chain 'c' from SENDER with nonce 2, up to its body. */
const HEAD = concat([1], u32be(1), [0x63], SENDER, [0, 0, 0, 0, 0, 0, 0, 2]);

describe('tx encoding', () => {
  it('lays out each body kind as specified', () => {
    const amount = [0, 0, 0, 0, 0, 0, 0, 5];
    expect(encodeTx(tx({ kind: 'transfer', to: ADDRESS, amount: 5n }))).toEqual(
      concat(HEAD, [1], Buffer.from(ADDRESS, 'hex'), amount, SIGNATURE),
    );
    expect(encodeTx(tx({ kind: 'put', key: 'k', value: Uint8Array.of(9, 8) }))).toEqual(
      concat(HEAD, [2], u32be(1), [0x6b], u32be(2), [9, 8], SIGNATURE),
    );
    expect(encodeTx(tx({ kind: 'grant', account: ADDRESS }))).toEqual(concat(HEAD, [3], Buffer.from(ADDRESS, 'hex'), SIGNATURE));
    expect(encodeTx(tx({ kind: 'revoke', account: ADDRESS }))).toEqual(concat(HEAD, [4], Buffer.from(ADDRESS, 'hex'), SIGNATURE));
  });

  it('round-trips every tx, and decoding then encoding gives back the same bytes', () => {
    fc.assert(
      fc.property(arbTx, (t) => {
        const bytes = encodeTx(t);
        const decoded = expectOk(decodeTx(bytes));
        expect(decoded).toEqual(t);
        expect(encodeTx(decoded)).toEqual(bytes);
        // The same through a fresh object with no cached encoding.
        expect(encodeTx({ ...decoded })).toEqual(bytes);
      }),
    );
  });

  it('makes the unsigned encoding a prefix of the signed one', () => {
    fc.assert(
      fc.property(arbUnsignedTx, fc.uint8Array({ minLength: 64, maxLength: 64 }), (unsigned, signature) => {
        const signed: Tx = { ...unsigned, signature };
        const prefix = encodeUnsignedTx(unsigned);
        expect(encodeTx(signed)).toEqual(concat(prefix, signature));
        // And the cached path (a decoded tx) gives the same prefix.
        const decoded = expectOk(decodeTx(encodeTx(signed)));
        expect(encodeUnsignedTx(decoded)).toEqual(prefix);
      }),
    );
  });

  it('gives distinct txs distinct encodings', () => {
    fc.assert(
      fc.property(arbTx, arbTx, (a, b) => {
        const same = Buffer.from(encodeTx(a)).equals(encodeTx(b));
        expect(same).toBe(JSON.stringify(plain(a)) === JSON.stringify(plain(b)));
      }),
    );
  });

  it('reuses one encoding per tx object, invisibly to equality and spreads', () => {
    const t = tx({ kind: 'grant', account: ADDRESS });
    const first = encodeTx(t);
    expect(encodeTx(t)).toBe(first);
    const decoded = expectOk(decodeTx(first));
    expect(encodeTx(decoded)).toEqual(first);
    // Still a plain object with exactly the Tx fields.
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded).sort()).toEqual(['body', 'chainId', 'nonce', 'sender', 'signature']);
    expect(decoded).toStrictEqual(t);
    expect({ ...decoded }).toStrictEqual(t);
    // A frozen tx still encodes.
    expect(encodeTx(Object.freeze({ ...t }))).toEqual(first);
  });

  it('decodes into values that do not alias the input buffer', () => {
    const input = Buffer.from(encodeTx(tx({ kind: 'put', key: 'k', value: Uint8Array.of(1, 2, 3) })));
    const decoded = expectOk(decodeTx(input));
    const before = copy(encodeTx(decoded));
    input.fill(0);
    expect(decoded.body).toEqual({ kind: 'put', key: 'k', value: Uint8Array.of(1, 2, 3) });
    expect(decoded.sender).toEqual(SENDER);
    expect(encodeTx(decoded)).toEqual(before);
  });

  it('encodes every field at its limit, and refuses one byte more', () => {
    const big = tx({ kind: 'put', key: 'k'.repeat(LIMITS.dataKey), value: new Uint8Array(LIMITS.dataValue) }, 'c'.repeat(LIMITS.chainId));
    const bytes = encodeTx(big);
    expect(bytes.length).toBeLessThanOrEqual(LIMITS.txBytes);
    expect(expectOk(decodeTx(bytes))).toEqual(big);
    expect(() => encodeTx(tx({ kind: 'put', key: 'k'.repeat(LIMITS.dataKey + 1), value: new Uint8Array(0) }))).toThrow(RangeError);
    expect(() => encodeTx(tx({ kind: 'put', key: 'k', value: new Uint8Array(LIMITS.dataValue + 1) }))).toThrow(RangeError);
    expect(() => encodeTx(tx({ kind: 'grant', account: ADDRESS }, 'c'.repeat(LIMITS.chainId + 1)))).toThrow(RangeError);
  });

  it('refuses to encode malformed fields', () => {
    expect(() => encodeTx({ ...tx({ kind: 'grant', account: ADDRESS }), signature: new Uint8Array(63) })).toThrow(RangeError);
    expect(() => encodeTx({ ...tx({ kind: 'grant', account: ADDRESS }), sender: new Uint8Array(33) })).toThrow(RangeError);
    expect(() => encodeTx({ ...tx({ kind: 'grant', account: ADDRESS }), nonce: -1n })).toThrow(RangeError);
    expect(() => encodeTx(tx({ kind: 'transfer', to: ADDRESS, amount: 1n << 64n }))).toThrow(RangeError);
    expect(() => encodeTx(tx({ kind: 'grant', account: ADDRESS.toUpperCase() }))).toThrow(RangeError);
    expect(() => encodeTx(tx({ kind: 'burn' } as unknown as Tx['body']))).toThrow(RangeError);
  });
});

describe('tx decoding errors', () => {
  const grant = encodeTx(tx({ kind: 'grant', account: ADDRESS }));
  const put = encodeTx(tx({ kind: 'put', key: 'k', value: Uint8Array.of(9) }));
  const bodyAt = HEAD.length;

  it('reports an unknown format version', () => {
    const bad = copy(grant);
    bad[0] = 2;
    expectError(decodeTx(bad), 'invalid-tag', 0);
  });

  it('reports an unknown body tag', () => {
    for (const tag of [0, 5, 0xff]) {
      const bad = copy(grant);
      bad[bodyAt] = tag;
      expectError(decodeTx(bad), 'invalid-tag', bodyAt);
    }
  });

  it('reports truncation at every cut', () => {
    for (let n = 0; n < grant.length; n++) expectError(decodeTx(grant.subarray(0, n)), 'truncated');
  });

  it('reports trailing bytes', () => {
    expectError(decodeTx(concat(grant, [0])), 'trailing-bytes', grant.length);
  });

  it('reports lengths above a field limit', () => {
    const longChain = concat([1], u32be(LIMITS.chainId + 1), new Uint8Array(LIMITS.chainId + 1));
    expectError(decodeTx(longChain), 'too-large', 1);
    const keyLengthAt = bodyAt + 1;
    const bad = copy(put);
    bad.set(u32be(LIMITS.dataKey + 1), keyLengthAt);
    // The tx ends before 257 key bytes: that is truncation, not an oversized key.
    expectError(decodeTx(bad), 'truncated', keyLengthAt + 4);
    const longKey = concat(bad.subarray(0, keyLengthAt + 4), new Uint8Array(LIMITS.dataKey + 1), bad.subarray(keyLengthAt + 4));
    expectError(decodeTx(longKey), 'too-large', keyLengthAt);
  });

  it('reports an input above the tx size limit before reading it', () => {
    expectError(decodeTx(new Uint8Array(LIMITS.txBytes + 1)), 'too-large');
  });

  it('reports invalid UTF-8 in the chain id and in a key', () => {
    const badChain = copy(grant);
    badChain[5] = 0xff; // the chain id's only byte
    expectError(decodeTx(badChain), 'invalid-value', 5);
    const badKey = copy(put);
    badKey[bodyAt + 5] = 0xc0; // the key's only byte: a lone lead byte
    expectError(decodeTx(badKey), 'invalid-value', bodyAt + 5);
  });
});

function plain(t: Tx): unknown {
  return {
    ...t,
    nonce: t.nonce.toString(),
    sender: Buffer.from(t.sender).toString('hex'),
    signature: Buffer.from(t.signature).toString('hex'),
    body: t.body.kind === 'transfer' ? { ...t.body, amount: t.body.amount.toString() } : t.body.kind === 'put' ? { ...t.body, value: Buffer.from(t.body.value).toString('hex') } : t.body,
  };
}
