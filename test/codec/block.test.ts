import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBlock,
  decodeBlockHeader,
  decodeQuorumCertificate,
  encodeBlock,
  encodeBlockHeader,
  encodeQuorumCertificate,
  MAX_BLOCK_HEADER_BYTES,
} from '../../src/codec/block.js';
import { decodeTx, encodeTx } from '../../src/codec/tx.js';
import { LIMITS, type Block, type BlockHeader, type QuorumCertificate, type Tx } from '../../src/codec/types.js';
import { arbBlock, arbBlockHeader, arbQuorumCertificate, arbTx } from './arbitraries.js';
import { concat, copy, expectError, expectOk, expectSameBytes, u32be } from './expect.js';

const HASH_A = new Uint8Array(32).fill(0xa1);
const HASH_B = new Uint8Array(32).fill(0xb2);
const HASH_C = new Uint8Array(32).fill(0xc3);
const SIG = (n: number): Uint8Array => new Uint8Array(64).fill(n);

const header: BlockHeader = {
  chainId: 'c',
  height: 7,
  parentHash: HASH_A,
  view: 3,
  proposer: 2,
  timestamp: 0x0102_0304_0506,
  txCount: 0,
  txRoot: HASH_B,
  stateRoot: HASH_C,
};

const u64 = (n: number): number[] => [0, 0, ...u32be(Math.floor(n / 2 ** 32)).slice(2), ...u32be(n >>> 0)];

function qc(validators: number[]): QuorumCertificate {
  return { view: 1, height: 2, blockHash: HASH_A, signatures: validators.map((validator) => ({ validator, signature: SIG(validator) })) };
}

describe('block header', () => {
  it('lays out its fields as specified', () => {
    expect(encodeBlockHeader(header)).toEqual(
      concat([1], u32be(1), [0x63], u64(7), HASH_A, u64(3), [0, 2], u64(0x0102_0304_0506), u32be(0), HASH_B, HASH_C),
    );
    expect(u64(0x0102_0304_0506)).toEqual([0, 0, 1, 2, 3, 4, 5, 6]);
  });

  it('round-trips, and decoding then encoding gives back the same bytes', () => {
    fc.assert(
      fc.property(arbBlockHeader, (h) => {
        const bytes = encodeBlockHeader(h);
        expect(bytes.length).toBeLessThanOrEqual(MAX_BLOCK_HEADER_BYTES);
        const decoded = expectOk(decodeBlockHeader(bytes));
        expect(decoded).toEqual(h);
        expect(encodeBlockHeader(decoded)).toEqual(bytes);
      }),
    );
  });

  it('reports a bad version, a u64 beyond the safe integers, a proposer out of range, too many txs', () => {
    const bytes = encodeBlockHeader(header);
    const badVersion = copy(bytes);
    badVersion[0] = 0;
    expectError(decodeBlockHeader(badVersion), 'invalid-tag', 0);

    const heightAt = 1 + 4 + 1;
    const hugeHeight = copy(bytes);
    hugeHeight[heightAt + 1] = 0x20; // 2^53: one past MAX_SAFE_INTEGER's range
    expectError(decodeBlockHeader(hugeHeight), 'invalid-value', heightAt);

    const proposerAt = heightAt + 8 + 32 + 8;
    const badProposer = copy(bytes);
    badProposer.set([(LIMITS.validators >> 8) & 0xff, LIMITS.validators & 0xff], proposerAt);
    expectError(decodeBlockHeader(badProposer), 'invalid-value', proposerAt);

    const txCountAt = proposerAt + 2 + 8;
    const tooMany = copy(bytes);
    tooMany.set(u32be(LIMITS.blockTxs + 1), txCountAt);
    expectError(decodeBlockHeader(tooMany), 'too-large', txCountAt);

    expectError(decodeBlockHeader(concat(bytes, [0])), 'trailing-bytes');
    expectError(decodeBlockHeader(bytes.subarray(0, bytes.length - 1)), 'truncated');
  });

  it('refuses to encode out-of-range fields', () => {
    expect(() => encodeBlockHeader({ ...header, proposer: LIMITS.validators })).toThrow(RangeError);
    expect(() => encodeBlockHeader({ ...header, height: Number.MAX_SAFE_INTEGER + 1 })).toThrow(RangeError);
    expect(() => encodeBlockHeader({ ...header, timestamp: -1 })).toThrow(RangeError);
    expect(() => encodeBlockHeader({ ...header, txCount: LIMITS.blockTxs + 1 })).toThrow(RangeError);
    expect(() => encodeBlockHeader({ ...header, txRoot: new Uint8Array(31) })).toThrow(RangeError);
  });
});

describe('block', () => {
  it('round-trips, and decoding then encoding gives back the same bytes', () => {
    fc.assert(
      fc.property(arbBlock(6), (b) => {
        const bytes = encodeBlock(b);
        const decoded = expectOk(decodeBlock(bytes));
        expect(decoded).toEqual(b);
        expect(encodeBlock(decoded)).toEqual(bytes);
        expect(encodeBlock({ header: { ...decoded.header }, txs: decoded.txs.map((t) => ({ ...t })) })).toEqual(bytes);
      }),
      { numRuns: 50 },
    );
  });

  it('is the header, a tx count, then each tx exactly as encodeTx gives it', () => {
    fc.assert(
      fc.property(fc.array(arbTx, { maxLength: 5 }), (txs) => {
        const b: Block = { header: { ...header, txCount: txs.length }, txs };
        expect(encodeBlock(b)).toEqual(concat(encodeBlockHeader(b.header), u32be(txs.length), ...txs.map(encodeTx)));
      }),
      { numRuns: 30 },
    );
  });

  it('gives each decoded tx its own bytes for re-encoding', () => {
    const txs: Tx[] = [0, 1, 2].map((i) => ({ chainId: 'c', sender: HASH_A, nonce: BigInt(i), body: { kind: 'put', key: `k${i}`, value: Uint8Array.of(i) }, signature: SIG(i) }));
    const decoded = expectOk(decodeBlock(encodeBlock({ header: { ...header, txCount: 3 }, txs })));
    for (const [i, t] of decoded.txs.entries()) {
      expect(encodeTx(t)).toEqual(encodeTx(txs[i] as Tx));
      expect(expectOk(decodeTx(encodeTx(t)))).toEqual(txs[i]);
    }
  });

  it('encodes a 10,000-tx block and decodes it back', () => {
    const txs: Tx[] = Array.from({ length: 10_000 }, (_, i) => ({
      chainId: 'ledger-test',
      sender: HASH_A,
      nonce: BigInt(i),
      body: { kind: 'transfer', to: 'ab'.repeat(20), amount: BigInt(i + 1) },
      signature: SIG(i & 0xff),
    }));
    const b: Block = { header: { ...header, txCount: txs.length }, txs };
    const bytes = encodeBlock(b);
    const decoded = expectOk(decodeBlock(bytes));
    expect(decoded.txs.length).toBe(10_000);
    expect(decoded.txs[9_999]).toEqual(txs[9_999]);
    expectSameBytes(encodeBlock(decoded), bytes);
    expectSameBytes(encodeBlock({ header: decoded.header, txs: decoded.txs.map((t) => ({ ...t })) }), bytes);
  });

  it('reports a tx count above the limit, or above what the bytes left can hold', () => {
    const empty = encodeBlock({ header, txs: [] });
    const countAt = empty.length - 4;
    const tooMany = copy(empty);
    tooMany.set(u32be(LIMITS.blockTxs + 1), countAt);
    expectError(decodeBlock(tooMany), 'too-large', countAt);
    const unbacked = copy(empty);
    unbacked.set(u32be(1000), countAt);
    expectError(decodeBlock(concat(unbacked, new Uint8Array(100))), 'truncated', countAt);
  });

  it('reports a bad tx inside a block at the tx', () => {
    const t: Tx = { chainId: 'c', sender: HASH_A, nonce: 0n, body: { kind: 'grant', account: 'cd'.repeat(20) }, signature: SIG(1) };
    const bytes = copy(encodeBlock({ header: { ...header, txCount: 1 }, txs: [t] }));
    const txAt = bytes.length - encodeTx(t).length;
    bytes[txAt] = 9;
    expectError(decodeBlock(bytes), 'invalid-tag', txAt);
  });

  it('refuses to encode more txs than the limit', () => {
    const t: Tx = { chainId: '', sender: HASH_A, nonce: 0n, body: { kind: 'put', key: '', value: new Uint8Array(0) }, signature: SIG(1) };
    expect(() => encodeBlock({ header, txs: new Array<Tx>(LIMITS.blockTxs + 1).fill(t) })).toThrow(RangeError);
  });

  it('refuses a block above the size limit on both sides', () => {
    expectError(decodeBlock(new Uint8Array(LIMITS.blockBytes + 1)), 'too-large');
    const t: Tx = { chainId: '', sender: HASH_A, nonce: 0n, body: { kind: 'put', key: '', value: new Uint8Array(LIMITS.dataValue) }, signature: SIG(1) };
    const perTx = encodeTx(t).length;
    const count = Math.ceil(LIMITS.blockBytes / perTx);
    expect(count).toBeLessThanOrEqual(LIMITS.blockTxs);
    expect(() => encodeBlock({ header: { ...header, txCount: count }, txs: new Array<Tx>(count).fill(t) })).toThrow(RangeError);
  });
});

describe('quorum certificate', () => {
  it('lays out its fields as specified', () => {
    expect(encodeQuorumCertificate(qc([0, 5]))).toEqual(concat(u64(1), u64(2), HASH_A, u32be(2), [0, 0], SIG(0), [0, 5], SIG(5)));
  });

  it('round-trips, and decoding then encoding gives back the same bytes', () => {
    fc.assert(
      fc.property(arbQuorumCertificate, (c) => {
        const bytes = encodeQuorumCertificate(c);
        const decoded = expectOk(decodeQuorumCertificate(bytes));
        expect(decoded).toEqual(c);
        expect(encodeQuorumCertificate(decoded)).toEqual(bytes);
      }),
    );
  });

  it('reports signatures that are not strictly increasing by validator as non-canonical', () => {
    const good = encodeQuorumCertificate(qc([1, 2]));
    const firstAt = 8 + 8 + 32 + 4;
    const secondAt = firstAt + 66;
    const swapped = copy(good);
    swapped.set([0, 3], firstAt); // 3 then 2
    expectError(decodeQuorumCertificate(swapped), 'non-canonical', secondAt);
    const duplicate = copy(good);
    duplicate.set([0, 2], firstAt); // 2 then 2
    expectError(decodeQuorumCertificate(duplicate), 'non-canonical', secondAt);
  });

  it('reports a signer index out of range and a count above the validator limit', () => {
    const good = encodeQuorumCertificate(qc([1]));
    const firstAt = 8 + 8 + 32 + 4;
    const outOfRange = copy(good);
    outOfRange.set([1, 0], firstAt); // 256
    expectError(decodeQuorumCertificate(outOfRange), 'invalid-value', firstAt);
    const tooMany = copy(good);
    tooMany.set(u32be(LIMITS.validators + 1), firstAt - 4);
    expectError(decodeQuorumCertificate(tooMany), 'too-large', firstAt - 4);
  });

  it('refuses to encode an unsorted, duplicated or oversized signature list', () => {
    expect(() => encodeQuorumCertificate(qc([2, 1]))).toThrow(RangeError);
    expect(() => encodeQuorumCertificate(qc([1, 1]))).toThrow(RangeError);
    expect(() => encodeQuorumCertificate(qc([0, LIMITS.validators]))).toThrow(RangeError);
    expect(() => encodeQuorumCertificate(qc(Array.from({ length: LIMITS.validators + 1 }, (_, i) => i)))).toThrow(RangeError);
    expect(encodeQuorumCertificate(qc(Array.from({ length: LIMITS.validators }, (_, i) => i))).length).toBe(8 + 8 + 32 + 4 + 66 * LIMITS.validators);
  });
});
