/**
 * Blocks, headers and quorum certificates on the wire:
 *
 *   BlockHeader = version:u8(=1) chainId:string(<=64) height:u64 parentHash:[32] view:u64
 *                 proposer:u16 timestamp:u64 txCount:u32 txRoot:[32] stateRoot:[32]
 *   Block       = header count:u32(<=20,000) Tx*            (each Tx as in ./tx.ts)
 *   QC          = view:u64 height:u64 blockHash:[32] signatures
 *   QC?         = u8 0 | u8 1 QC                              (an optional certificate)
 *   signatures  = count:u32(<=256) (validator:u16 signature:[64])*, strictly increasing
 *
 * Validator indexes (proposer, signers) are u16 below LIMITS.validators. Txs need no
 * length prefix: each is self-delimiting. The codec does not check that txCount equals
 * the number of txs, nor the roots: those are block validity (src/ledger), not encoding.
 */
import { HASH_LENGTH } from '../crypto/pure.js';
import { readHash, readSignatureList, readValidatorIndex, signatureListSize, writeHash, writeSignatureList, writeValidatorIndex } from './fields.js';
import { decodeWith, type Reader } from './reader.js';
import type { CodecError, Result } from './result.js';
import { encodeTx, MIN_TX_BYTES, readTx } from './tx.js';
import { LIMITS, type Block, type BlockHeader, type QuorumCertificate, type Tx } from './types.js';
import { Writer } from './writer.js';

export const BLOCK_HEADER_FORMAT_VERSION = 1;

/** Header size without its chain id's bytes. */
const HEADER_FIXED_BYTES = 1 + 4 + 8 + HASH_LENGTH + 8 + 2 + 8 + 4 + HASH_LENGTH + HASH_LENGTH;
export const MAX_BLOCK_HEADER_BYTES = HEADER_FIXED_BYTES + LIMITS.chainId;
export const MIN_BLOCK_HEADER_BYTES = HEADER_FIXED_BYTES;
const MAX_QC_BYTES = 8 + 8 + HASH_LENGTH + 4 + LIMITS.validators * 66;

// ---------------------------------------------------------------------------------------
// Headers

export function encodeBlockHeader(h: BlockHeader): Uint8Array {
  const w = new Writer(blockHeaderSize(h));
  writeBlockHeader(w, h);
  return w.finish();
}

export function decodeBlockHeader(bytes: Uint8Array): Result<BlockHeader, CodecError> {
  return decodeWith(bytes, readBlockHeader, MAX_BLOCK_HEADER_BYTES);
}

export function blockHeaderSize(h: BlockHeader): number {
  return HEADER_FIXED_BYTES + (typeof h.chainId === 'string' ? Buffer.byteLength(h.chainId, 'utf8') : 0);
}

export function writeBlockHeader(w: Writer, h: BlockHeader): void {
  if (!Number.isInteger(h.txCount) || h.txCount > LIMITS.blockTxs) {
    throw new RangeError(`txCount ${String(h.txCount)} exceeds ${LIMITS.blockTxs}`);
  }
  w.u8(BLOCK_HEADER_FORMAT_VERSION);
  w.string(h.chainId, LIMITS.chainId);
  w.u64(h.height);
  writeHash(w, h.parentHash);
  w.u64(h.view);
  writeValidatorIndex(w, h.proposer);
  w.u64(h.timestamp);
  w.u32(h.txCount);
  writeHash(w, h.txRoot);
  writeHash(w, h.stateRoot);
}

export function readBlockHeader(r: Reader): BlockHeader {
  const start = r.offset;
  const version = r.u8();
  if (version !== BLOCK_HEADER_FORMAT_VERSION) r.fail('invalid-tag', `unsupported block header format version ${version}`, start);
  const chainId = r.string(LIMITS.chainId, 'chainId');
  const height = r.u64('height');
  const parentHash = readHash(r, 'parentHash');
  const view = r.u64('view');
  const proposer = readValidatorIndex(r, 'proposer');
  const timestamp = r.u64('timestamp');
  const countAt = r.offset;
  const txCount = r.u32();
  if (txCount > LIMITS.blockTxs) r.fail('too-large', `txCount ${txCount} exceeds ${LIMITS.blockTxs}`, countAt);
  const txRoot = readHash(r, 'txRoot');
  const stateRoot = readHash(r, 'stateRoot');
  return { chainId, height, parentHash, view, proposer, timestamp, txCount, txRoot, stateRoot };
}

// ---------------------------------------------------------------------------------------
// Blocks

/**
 * A block with its txs' encodings in hand (from the per-tx cache) and its exact size,
 * so that the block, or a message that carries one, is written into one buffer allocated
 * once.
 */
export interface EncodedBlockParts {
  readonly header: BlockHeader;
  readonly txs: readonly Uint8Array[];
  readonly size: number;
}

export function blockParts(b: Block): EncodedBlockParts {
  if (b.txs.length > LIMITS.blockTxs) throw new RangeError(`block of ${b.txs.length} txs exceeds ${LIMITS.blockTxs}`);
  const txs: Uint8Array[] = new Array<Uint8Array>(b.txs.length);
  let size = blockHeaderSize(b.header) + 4;
  for (let i = 0; i < b.txs.length; i++) {
    const bytes = encodeTx(b.txs[i] as Tx);
    txs[i] = bytes;
    size += bytes.length;
  }
  if (size > LIMITS.blockBytes) throw new RangeError(`block of ${size} bytes exceeds ${LIMITS.blockBytes}`);
  return { header: b.header, txs, size };
}

export function writeBlockParts(w: Writer, parts: EncodedBlockParts): void {
  writeBlockHeader(w, parts.header);
  w.u32(parts.txs.length);
  for (const tx of parts.txs) w.raw(tx);
}

export function encodeBlock(b: Block): Uint8Array {
  const parts = blockParts(b);
  const w = new Writer(parts.size);
  writeBlockParts(w, parts);
  return w.finish();
}

export function decodeBlock(bytes: Uint8Array): Result<Block, CodecError> {
  return decodeWith(bytes, readBlock, LIMITS.blockBytes);
}

export function readBlock(r: Reader): Block {
  const start = r.offset;
  const header = readBlockHeader(r);
  const n = r.count(LIMITS.blockTxs, MIN_TX_BYTES, 'txs');
  const txs: Tx[] = [];
  for (let i = 0; i < n; i++) {
    txs.push(readTx(r));
    // Inside a larger message, the block's own bound still holds.
    if (r.offset - start > LIMITS.blockBytes) r.fail('too-large', `block exceeds ${LIMITS.blockBytes} bytes`, start);
  }
  return { header, txs };
}

// ---------------------------------------------------------------------------------------
// Quorum certificates

export function encodeQuorumCertificate(qc: QuorumCertificate): Uint8Array {
  const w = new Writer(quorumCertificateSize(qc));
  writeQuorumCertificate(w, qc);
  return w.finish();
}

export function decodeQuorumCertificate(bytes: Uint8Array): Result<QuorumCertificate, CodecError> {
  return decodeWith(bytes, readQuorumCertificate, MAX_QC_BYTES);
}

export function quorumCertificateSize(qc: QuorumCertificate): number {
  return 8 + 8 + HASH_LENGTH + signatureListSize(qc.signatures);
}

export function writeQuorumCertificate(w: Writer, qc: QuorumCertificate): void {
  w.u64(qc.view);
  w.u64(qc.height);
  writeHash(w, qc.blockHash);
  writeSignatureList(w, qc.signatures);
}

export function readQuorumCertificate(r: Reader): QuorumCertificate {
  const view = r.u64('view');
  const height = r.u64('height');
  const blockHash = readHash(r, 'blockHash');
  const signatures = readSignatureList(r);
  return { view, height, blockHash, signatures };
}

/** An optional certificate: u8 0 (none) or 1 then the certificate. */
export function writeOptionalQuorumCertificate(w: Writer, qc: QuorumCertificate | null): void {
  if (qc === null) {
    w.u8(0);
  } else {
    w.u8(1);
    writeQuorumCertificate(w, qc);
  }
}

export function readOptionalQuorumCertificate(r: Reader): QuorumCertificate | null {
  const at = r.offset;
  const tag = r.u8();
  if (tag === 0) return null;
  if (tag !== 1) r.fail('invalid-tag', `optional certificate tag is ${tag}, not 0 or 1`, at);
  return readQuorumCertificate(r);
}
