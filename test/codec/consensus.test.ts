import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBlock, encodeBlockHeader, encodeQuorumCertificate } from '../../src/codec/block.js';
import {
  decodeConsensusMessage,
  decodeWalRecord,
  encodeCheckpointPayload,
  encodeConsensusMessage,
  encodeNewViewForSigning,
  encodeStartedRecord,
  encodeViewChangeForSigning,
  encodeVotePayload,
  MESSAGE_TAGS,
  STARTED_RECORD_TAG,
} from '../../src/codec/consensus.js';
import {
  LIMITS,
  type BlockHeader,
  type ConsensusMessage,
  type ConsensusMessageType,
  type NewView,
  type QuorumCertificate,
  type ViewChange,
} from '../../src/codec/types.js';
import {
  arbBlockRequest,
  arbBlockResponse,
  arbCheckpoint,
  arbCommit,
  arbConsensusMessage,
  arbNewView,
  arbPrePrepare,
  arbPrepare,
  arbStatus,
  arbViewChange,
} from './arbitraries.js';
import { concat, copy, expectError, expectOk, u32be } from './expect.js';

const HASH = new Uint8Array(32).fill(0x5a);
const SIG = (n: number): Uint8Array => new Uint8Array(64).fill(n);
const u64 = (n: number): number[] => [0, 0, 0, 0, ...u32be(n)];

const header: BlockHeader = {
  chainId: 'c',
  height: 4,
  parentHash: HASH,
  view: 1,
  proposer: 1,
  timestamp: 1000,
  txCount: 0,
  txRoot: HASH,
  stateRoot: HASH,
};

function qc(height: number, validators: number[]): QuorumCertificate {
  return { view: 0, height, blockHash: HASH, signatures: validators.map((validator) => ({ validator, signature: SIG(validator) })) };
}

const viewChange: ViewChange = {
  type: 'view-change',
  newView: 2,
  validator: 3,
  committed: qc(3, [0, 1, 2]),
  prepared: [{ view: 1, height: 4, header, signatures: qc(4, [1, 2, 3]).signatures }],
  signature: SIG(9),
};

const newView: NewView = { type: 'new-view', view: 2, validator: 2, viewChanges: [viewChange, { ...viewChange, validator: 1, committed: null }], signature: SIG(8) };

function roundTrip(m: ConsensusMessage): void {
  const bytes = encodeConsensusMessage(m);
  expect(bytes[0]).toBe(MESSAGE_TAGS[m.type]);
  const decoded = expectOk(decodeConsensusMessage(bytes));
  expect(decoded).toEqual(m);
  expect(encodeConsensusMessage(decoded)).toEqual(bytes);
}

describe('signed payloads', () => {
  it('lays out vote and checkpoint payloads as specified', () => {
    expect(encodeVotePayload({ view: 1, height: 2, blockHash: HASH })).toEqual(concat(u64(1), u64(2), HASH));
    expect(encodeCheckpointPayload({ height: 2, blockHash: HASH })).toEqual(concat(u64(2), HASH));
  });

  it('signs a view change and a new view over their encoding without the signature', () => {
    fc.assert(
      fc.property(arbViewChange, arbNewView, (vc, nv) => {
        const { signature: vcSig, ...vcUnsigned } = vc;
        expect(concat(encodeViewChangeForSigning(vcUnsigned), vcSig)).toEqual(encodeConsensusMessage(vc));
        const { signature: nvSig, ...nvUnsigned } = nv;
        expect(concat(encodeNewViewForSigning(nvUnsigned), nvSig)).toEqual(encodeConsensusMessage(nv));
      }),
      { numRuns: 50 },
    );
  });

  it('covers every field of a view change in its signed bytes', () => {
    const base = encodeViewChangeForSigning(viewChange);
    const variants: Omit<ViewChange, 'signature'>[] = [
      { ...viewChange, newView: 3 },
      { ...viewChange, validator: 4 },
      { ...viewChange, committed: null },
      { ...viewChange, committed: qc(2, [0, 1, 2]) },
      { ...viewChange, prepared: [] },
      { ...viewChange, prepared: [{ ...viewChange.prepared[0]!, header: { ...header, stateRoot: new Uint8Array(32) } }] },
    ];
    for (const v of variants) expect(Buffer.from(encodeViewChangeForSigning(v)).equals(base)).toBe(false);
  });
});

describe('consensus messages', () => {
  it('lays out a prepare, a view change and a status as specified', () => {
    expect(encodeConsensusMessage({ type: 'prepare', view: 1, height: 2, blockHash: HASH, validator: 3, signature: SIG(4) })).toEqual(
      concat([MESSAGE_TAGS.prepare], u64(1), u64(2), HASH, [0, 3], SIG(4)),
    );
    const committed = encodeQuorumCertificate(viewChange.committed!);
    const prepared = concat(u64(1), u64(4), encodeBlockHeader(header), u32be(3), [0, 1], SIG(1), [0, 2], SIG(2), [0, 3], SIG(3));
    expect(encodeConsensusMessage(viewChange)).toEqual(concat([MESSAGE_TAGS['view-change']], u64(2), [0, 3], [1], committed, u32be(1), prepared, SIG(9)));
    expect(encodeConsensusMessage({ type: 'status', validator: 1, view: 5, committed: null })).toEqual(concat([MESSAGE_TAGS.status], [0, 1], u64(5), [0]));
  });

  it('carries a block exactly as encodeBlock gives it', () => {
    const block = { header, txs: [] };
    expect(encodeConsensusMessage({ type: 'block-response', validator: 2, block })).toEqual(concat([MESSAGE_TAGS['block-response']], [0, 2], encodeBlock(block)));
    expect(encodeConsensusMessage({ type: 'pre-prepare', view: 1, height: 4, validator: 1, block, signature: SIG(7) })).toEqual(
      concat([MESSAGE_TAGS['pre-prepare']], u64(1), u64(4), [0, 1], encodeBlock(block), SIG(7)),
    );
  });

  it('gives every message type its own tag', () => {
    const tags = Object.values(MESSAGE_TAGS);
    expect(new Set(tags).size).toBe(tags.length);
    const types: ConsensusMessageType[] = ['pre-prepare', 'prepare', 'commit', 'checkpoint', 'view-change', 'new-view', 'block-request', 'block-response', 'status'];
    expect(Object.keys(MESSAGE_TAGS).sort()).toEqual([...types].sort());
  });

  it('round-trips the hand-built view change and new view', () => {
    roundTrip(viewChange);
    roundTrip(newView);
  });

  for (const [name, arb] of [
    ['pre-prepare', arbPrePrepare],
    ['prepare', arbPrepare],
    ['commit', arbCommit],
    ['checkpoint', arbCheckpoint],
    ['view-change', arbViewChange],
    ['new-view', arbNewView],
    ['block-request', arbBlockRequest],
    ['block-response', arbBlockResponse],
    ['status', arbStatus],
  ] as const) {
    it(`round-trips every ${name}, and decoding then encoding gives back the same bytes`, () => {
      fc.assert(fc.property(arb as fc.Arbitrary<ConsensusMessage>, roundTrip), { numRuns: 40 });
    });
  }

  it('distinguishes prepare from commit with identical fields', () => {
    const fields = { view: 1, height: 2, blockHash: HASH, validator: 0, signature: SIG(1) };
    const prepare = encodeConsensusMessage({ type: 'prepare', ...fields });
    const commit = encodeConsensusMessage({ type: 'commit', ...fields });
    expect(Buffer.from(prepare).equals(commit)).toBe(false);
    expect(expectOk(decodeConsensusMessage(commit)).type).toBe('commit');
  });
});

describe('consensus message decoding errors', () => {
  it('reports an unknown message tag', () => {
    for (const tag of [0, 10, 0xff]) expectError(decodeConsensusMessage(Uint8Array.of(tag, 0, 0)), 'invalid-tag', 0);
    expectError(decodeConsensusMessage(new Uint8Array(0)), 'truncated', 0);
  });

  it('reports an optional certificate tag other than 0 or 1', () => {
    const bytes = copy(encodeConsensusMessage({ type: 'status', validator: 1, view: 5, committed: null }));
    const optionAt = bytes.length - 1;
    bytes[optionAt] = 2;
    expectError(decodeConsensusMessage(bytes), 'invalid-tag', optionAt);
  });

  it('reports an unsorted signature list inside a prepared certificate', () => {
    const vc: ViewChange = { ...viewChange, committed: null };
    const bytes = copy(encodeConsensusMessage(vc));
    // prepared[0].signatures: [1, 2, 3] -> [1, 3, 3]; the list starts after tag, newView,
    // validator, the option byte, the list count, view, height and the header.
    const listAt = 1 + 8 + 2 + 1 + 4 + 8 + 8 + encodeBlockHeader(header).length;
    const secondAt = listAt + 4 + 66;
    expect(Array.from(bytes.subarray(secondAt, secondAt + 2))).toEqual([0, 2]);
    bytes[secondAt + 1] = 3;
    expectError(decodeConsensusMessage(bytes), 'non-canonical', listAt + 4 + 2 * 66);
  });

  it('reports too many prepared certificates and too many view changes', () => {
    const vc = copy(encodeConsensusMessage({ ...viewChange, committed: null, prepared: [] }));
    const preparedCountAt = 1 + 8 + 2 + 1;
    vc.set(u32be(LIMITS.preparedPerViewChange + 1), preparedCountAt);
    expectError(decodeConsensusMessage(vc), 'too-large', preparedCountAt);
    const nv = copy(encodeConsensusMessage({ ...newView, viewChanges: [] }));
    const viewChangeCountAt = 1 + 8 + 2;
    nv.set(u32be(LIMITS.validators + 1), viewChangeCountAt);
    expectError(decodeConsensusMessage(nv), 'too-large', viewChangeCountAt);
  });

  it('reports a validator index out of range in any message', () => {
    const bytes = copy(encodeConsensusMessage({ type: 'block-request', validator: 0, height: 1, blockHash: HASH }));
    bytes.set([0xff, 0xff], 1);
    expectError(decodeConsensusMessage(bytes), 'invalid-value', 1);
  });

  it('reports an input above the message size limit before reading it', () => {
    expectError(decodeConsensusMessage(new Uint8Array(LIMITS.messageBytes + 1)), 'too-large');
  });

  it('refuses to encode out-of-range fields', () => {
    expect(() => encodeConsensusMessage({ type: 'prepare', view: 1, height: 2, blockHash: HASH, validator: LIMITS.validators, signature: SIG(1) })).toThrow(RangeError);
    expect(() => encodeConsensusMessage({ ...viewChange, committed: qc(1, [2, 1]) })).toThrow(RangeError);
    expect(() => encodeConsensusMessage({ ...viewChange, signature: new Uint8Array(1) })).toThrow(RangeError);
    expect(() => encodeConsensusMessage({ type: 'nope' } as unknown as ConsensusMessage)).toThrow(RangeError);
    const manyPrepared = new Array(LIMITS.preparedPerViewChange + 1).fill(viewChange.prepared[0]);
    expect(() => encodeConsensusMessage({ ...viewChange, prepared: manyPrepared })).toThrow(RangeError);
  });
});

describe('the union as a whole', () => {
  it('round-trips any message', () => {
    fc.assert(fc.property(arbConsensusMessage, roundTrip), { numRuns: 100 });
  });
});

describe('WAL records', () => {
  it('reads a message record as the message, and the started record as itself', () => {
    fc.assert(
      fc.property(arbConsensusMessage, (m) => {
        expect(expectOk(decodeWalRecord(encodeConsensusMessage(m)))).toEqual({ kind: 'message', message: m });
      }),
      { numRuns: 50 },
    );
    expect(encodeStartedRecord()).toEqual(Uint8Array.of(STARTED_RECORD_TAG));
    expect(expectOk(decodeWalRecord(encodeStartedRecord()))).toEqual({ kind: 'started' });
  });

  it('refuses a started record with bytes after its tag', () => {
    expectError(decodeWalRecord(Uint8Array.of(STARTED_RECORD_TAG, 0)), 'trailing-bytes');
  });
});
