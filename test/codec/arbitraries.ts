/**
 * fast-check arbitraries for every wire type, for the codec's property tests and for any
 * other module's tests that need well-formed values. Values respect every codec limit
 * (so they always encode) but carry random keys, hashes and signatures: a tx from
 * `arbTx` does not verify. Sizes are kept small so that properties run fast; the limits
 * themselves are hit by `edge` values mixed in at a low rate.
 */
import fc from 'fast-check';
import {
  LIMITS,
  type Block,
  type BlockHeader,
  type BlockRequest,
  type BlockResponse,
  type Checkpoint,
  type Commit,
  type ConsensusMessage,
  type NewView,
  type PrePrepare,
  type Prepare,
  type PreparedCertificate,
  type QuorumCertificate,
  type Status,
  type Tx,
  type TxBody,
  type UnsignedTx,
  type ValidatorSignature,
  type ViewChange,
} from '../../src/codec/types.js';

const MAX_U64 = (1n << 64n) - 1n;

export const arbBytes = (length: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: length, maxLength: length }).map((b) => new Uint8Array(b));
export const arbHash = arbBytes(32);
export const arbPublicKey = arbBytes(32);
export const arbSignature = arbBytes(64);
export const arbAddress: fc.Arbitrary<string> = arbBytes(20).map((b) => Buffer.from(b).toString('hex'));

/** A u64 carried as a number: small values, the edges, and anything up to MAX_SAFE_INTEGER. */
export const arbU64: fc.Arbitrary<number> = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.constantFrom(0, 255, 256, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER),
  fc.maxSafeNat(),
);

/** A u64 carried as a bigint (amounts, nonces). */
export const arbU64n: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 0n, max: 1000n }),
  fc.constantFrom(0n, 1n, (1n << 32n) - 1n, 1n << 32n, BigInt(Number.MAX_SAFE_INTEGER) + 1n, MAX_U64),
  fc.bigInt({ min: 0n, max: MAX_U64 }),
);

export const arbValidatorIndex: fc.Arbitrary<number> = fc.oneof(fc.nat({ max: 7 }), fc.nat({ max: LIMITS.validators - 1 }));

/** Any well-formed string of at most `maxBytes` UTF-8 bytes (astral characters included), or one of exactly maxBytes. */
export const arbUtf8String = (maxBytes: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: Math.floor(maxBytes / 4) }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: maxBytes }) },
    { weight: 1, arbitrary: fc.constantFrom('', '\uFEFF', '\uFEFFbom-first', 'é'.repeat(maxBytes / 2), 'x'.repeat(maxBytes)) },
  );

export const arbChainId = arbUtf8String(LIMITS.chainId);

export const arbTxBody: fc.Arbitrary<TxBody> = fc.oneof(
  fc.record({ kind: fc.constant('transfer' as const), to: arbAddress, amount: arbU64n }),
  fc.record({
    kind: fc.constant('put' as const),
    key: arbUtf8String(LIMITS.dataKey),
    value: fc.oneof(
      { weight: 9, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: LIMITS.dataValue, maxLength: LIMITS.dataValue }) },
    ),
  }),
  fc.record({ kind: fc.constant('grant' as const), account: arbAddress }),
  fc.record({ kind: fc.constant('revoke' as const), account: arbAddress }),
);

export const arbUnsignedTx: fc.Arbitrary<UnsignedTx> = fc.record({
  chainId: arbChainId,
  sender: arbPublicKey,
  nonce: arbU64n,
  body: arbTxBody,
});

/** A tx with a random (not a valid) signature. */
export const arbTx: fc.Arbitrary<Tx> = fc
  .tuple(arbUnsignedTx, arbSignature)
  .map(([unsigned, signature]) => ({ ...unsigned, signature }));

export const arbBlockHeader: fc.Arbitrary<BlockHeader> = fc.record({
  chainId: arbChainId,
  height: arbU64,
  parentHash: arbHash,
  view: arbU64,
  proposer: arbValidatorIndex,
  timestamp: arbU64,
  txCount: fc.nat({ max: LIMITS.blockTxs }),
  txRoot: arbHash,
  stateRoot: arbHash,
});

/** A block whose header's txCount matches its txs. */
export const arbBlock = (maxTxs = 4): fc.Arbitrary<Block> =>
  fc
    .tuple(arbBlockHeader, fc.array(arbTx, { maxLength: maxTxs }))
    .map(([header, txs]) => ({ header: { ...header, txCount: txs.length }, txs }));

/** Signatures strictly increasing by validator index, as certificates require. */
export const arbSignatureList = (maxLength = 7): fc.Arbitrary<ValidatorSignature[]> =>
  fc
    .uniqueArray(fc.record({ validator: arbValidatorIndex, signature: arbSignature }), { maxLength, selector: (s) => s.validator })
    .map((list) => [...list].sort((a, b) => a.validator - b.validator));

export const arbQuorumCertificate: fc.Arbitrary<QuorumCertificate> = fc.record({
  view: arbU64,
  height: arbU64,
  blockHash: arbHash,
  signatures: arbSignatureList(),
});

export const arbPreparedCertificate: fc.Arbitrary<PreparedCertificate> = fc.record({
  view: arbU64,
  height: arbU64,
  header: arbBlockHeader,
  signatures: arbSignatureList(),
});

export const arbPrePrepare: fc.Arbitrary<PrePrepare> = fc.record({
  type: fc.constant('pre-prepare' as const),
  view: arbU64,
  height: arbU64,
  validator: arbValidatorIndex,
  block: arbBlock(),
  signature: arbSignature,
});

export const arbPrepare: fc.Arbitrary<Prepare> = fc.record({
  type: fc.constant('prepare' as const),
  view: arbU64,
  height: arbU64,
  blockHash: arbHash,
  validator: arbValidatorIndex,
  signature: arbSignature,
});

export const arbCommit: fc.Arbitrary<Commit> = fc.record({
  type: fc.constant('commit' as const),
  view: arbU64,
  height: arbU64,
  blockHash: arbHash,
  validator: arbValidatorIndex,
  signature: arbSignature,
});

export const arbCheckpoint: fc.Arbitrary<Checkpoint> = fc.record({
  type: fc.constant('checkpoint' as const),
  height: arbU64,
  blockHash: arbHash,
  validator: arbValidatorIndex,
  signature: arbSignature,
});

export const arbViewChange: fc.Arbitrary<ViewChange> = fc.record({
  type: fc.constant('view-change' as const),
  newView: arbU64,
  validator: arbValidatorIndex,
  committed: fc.option(arbQuorumCertificate, { nil: null }),
  prepared: fc.array(arbPreparedCertificate, { maxLength: 3 }),
  signature: arbSignature,
});

export const arbNewView: fc.Arbitrary<NewView> = fc.record({
  type: fc.constant('new-view' as const),
  view: arbU64,
  validator: arbValidatorIndex,
  viewChanges: fc.array(arbViewChange, { maxLength: 3 }),
  signature: arbSignature,
});

export const arbBlockRequest: fc.Arbitrary<BlockRequest> = fc.record({
  type: fc.constant('block-request' as const),
  validator: arbValidatorIndex,
  height: arbU64,
  blockHash: arbHash,
});

export const arbBlockResponse: fc.Arbitrary<BlockResponse> = fc.record({
  type: fc.constant('block-response' as const),
  validator: arbValidatorIndex,
  block: arbBlock(),
});

export const arbStatus: fc.Arbitrary<Status> = fc.record({
  type: fc.constant('status' as const),
  validator: arbValidatorIndex,
  view: arbU64,
  committed: fc.option(arbQuorumCertificate, { nil: null }),
});

export const arbConsensusMessage: fc.Arbitrary<ConsensusMessage> = fc.oneof(
  arbPrePrepare,
  arbPrepare,
  arbCommit,
  arbCheckpoint,
  arbViewChange,
  arbNewView,
  arbBlockRequest,
  arbBlockResponse,
  arbStatus,
);
