/**
 * The ledger's wire format: a deterministic, bounded binary encoding of txs, blocks,
 * certificates and consensus messages.
 *
 * BCS-style and hand-written, rather than protobuf or CBOR, because every value here is
 * hashed or signed and so must have exactly one encoding. Protobuf is not canonical
 * (field order, unknown fields, omitted defaults, non-minimal varints), and canonical
 * CBOR needs strict modes on both sides plus bigint tags. A fixed schema with fixed-width
 * integers gives one encoding per value by construction, is bounded field by field, is
 * fast, and is easy to specify for clients in other languages. The rules are in
 * ./writer.ts, the layouts at the top of ./tx.ts, ./block.ts and ./consensus.ts, and the
 * aliasing of decoded bytes in ./reader.ts.
 *
 * Decoders return a Result and never throw; encoders throw a RangeError only when given
 * a value that breaks a limit (a bug in the caller).
 */
export * from './types.js';
export { ok, err, type Result, type CodecError, type CodecErrorCode } from './result.js';
export { Writer } from './writer.js';
export { Reader, decodeWith } from './reader.js';
export { encodeUnsignedTx, encodeTx, decodeTx, TX_FORMAT_VERSION } from './tx.js';
export {
  encodeBlockHeader,
  decodeBlockHeader,
  encodeBlock,
  decodeBlock,
  encodeQuorumCertificate,
  decodeQuorumCertificate,
  BLOCK_HEADER_FORMAT_VERSION,
  MAX_BLOCK_HEADER_BYTES,
} from './block.js';
export {
  encodeVotePayload,
  encodeCheckpointPayload,
  encodeViewChangeForSigning,
  encodeNewViewForSigning,
  encodeConsensusMessage,
  decodeConsensusMessage,
  MESSAGE_TAGS,
} from './consensus.js';
