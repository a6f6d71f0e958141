import { describe, expect, it } from 'vitest';
import type { BlockHeader, PreparedCertificate, QuorumCertificate, ViewChange } from '../../src/codec/types.js';
import { planNewView } from '../../src/consensus/view-change.js';
import { compareBytes, toHex } from '../../src/crypto/bytes.js';
import type { Hash } from '../../src/crypto/index.js';
import { CHAIN_ID, GENESIS_HASH, hashHeader } from './harness.js';

// planNewView trusts its input (certificates.ts checks it), so signatures here are empty.
function header(height: number, parentHash: Hash, salt: number): BlockHeader {
  return {
    chainId: CHAIN_ID,
    height,
    parentHash,
    view: salt,
    proposer: 0,
    timestamp: salt,
    txCount: 0,
    txRoot: new Uint8Array(32),
    stateRoot: new Uint8Array(32).fill(salt),
  };
}

function cert(view: number, h: BlockHeader): PreparedCertificate {
  return { view, height: h.height, header: h, signatures: [] };
}

function qc(height: number, blockHash: Hash): QuorumCertificate {
  return { view: 0, height, blockHash, signatures: [] };
}

function vc(validator: number, committed: QuorumCertificate | null, prepared: PreparedCertificate[]): ViewChange {
  return { type: 'view-change', newView: 5, validator, committed, prepared, signature: new Uint8Array(64) };
}

const hex = (h: Hash): string => toHex(h);

describe('planNewView', () => {
  it('starts from genesis and re-proposes nothing when nobody prepared anything', () => {
    const plan = planNewView([vc(0, null, []), vc(1, null, []), vc(2, null, [])], GENESIS_HASH, hashHeader);
    expect(plan.base.height).toBe(0);
    expect(hex(plan.base.hash)).toBe(hex(GENESIS_HASH));
    expect(plan.reproposals).toEqual([]);
  });

  it('takes the highest committed certificate as the base', () => {
    const b3 = header(3, GENESIS_HASH, 1);
    const b5 = header(5, GENESIS_HASH, 2);
    const plan = planNewView(
      [vc(0, qc(3, hashHeader(b3)), []), vc(1, qc(5, hashHeader(b5)), []), vc(2, null, [])],
      GENESIS_HASH,
      hashHeader,
    );
    expect(plan.base.height).toBe(5);
    expect(hex(plan.base.hash)).toBe(hex(hashHeader(b5)));
  });

  it('re-proposes, per height, the prepared block from the highest view that chains to the previous choice', () => {
    const a1 = header(1, GENESIS_HASH, 1);
    const b1 = header(1, GENESIS_HASH, 2);
    const b2 = header(2, hashHeader(b1), 3);
    const a2 = header(2, hashHeader(a1), 4);
    const plan = planNewView(
      [vc(0, null, [cert(1, a1), cert(1, a2)]), vc(1, null, [cert(3, b1), cert(3, b2)]), vc(2, null, [])],
      GENESIS_HASH,
      hashHeader,
    );
    expect(plan.reproposals.map((r) => [r.height, hex(r.hash)])).toEqual([
      [1, hex(hashHeader(b1))],
      [2, hex(hashHeader(b2))],
    ]);
  });

  it('stops at the first height with no certificate chaining to the choice below it', () => {
    const a1 = header(1, GENESIS_HASH, 1);
    const b1 = header(1, GENESIS_HASH, 2);
    const a2 = header(2, hashHeader(a1), 3); // chains to a1, which loses to b1
    const b3 = header(3, new Uint8Array(32), 4); // a gap: nothing at 2 chains to b1
    const plan = planNewView([vc(0, null, [cert(1, a1), cert(4, a2)]), vc(1, null, [cert(2, b1)]), vc(2, null, [cert(2, b1), cert(2, b3)])], GENESIS_HASH, hashHeader);
    expect(plan.reproposals.map((r) => r.height)).toEqual([1]);
    expect(hex(plan.reproposals[0]?.hash as Hash)).toBe(hex(hashHeader(b1)));
  });

  it('ignores prepared certificates at or below the base', () => {
    const c1 = header(1, GENESIS_HASH, 1);
    const other1 = header(1, GENESIS_HASH, 2);
    const p2 = header(2, hashHeader(c1), 3);
    const plan = planNewView([vc(0, qc(1, hashHeader(c1)), [cert(0, p2)]), vc(1, null, [cert(9, other1)]), vc(2, null, [])], GENESIS_HASH, hashHeader);
    expect(plan.base.height).toBe(1);
    expect(plan.reproposals.map((r) => [r.height, hex(r.hash)])).toEqual([[2, hex(hashHeader(p2))]]);
  });

  it('breaks a tie between two certificates of one view by the lower hash, whatever the order', () => {
    const x = header(1, GENESIS_HASH, 1);
    const y = header(1, GENESIS_HASH, 2);
    const lower = compareBytes(hashHeader(x), hashHeader(y)) < 0 ? x : y;
    for (const order of [[x, y], [y, x]] as const) {
      const plan = planNewView([vc(0, null, [cert(2, order[0])]), vc(1, null, [cert(2, order[1])]), vc(2, null, [])], GENESIS_HASH, hashHeader);
      expect(hex(plan.reproposals[0]?.hash as Hash)).toBe(hex(hashHeader(lower)));
    }
  });
});
