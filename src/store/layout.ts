/**
 * The on-disk layout: one LevelDB per node, at HOME/data unless the config says otherwise.
 * Keys and values are raw bytes ('view' encoding); every part lives in its own sublevel,
 * whose key prefix is `!name!` (LevelDB's key prefix compression makes the shared prefix
 * nearly free on disk).
 *
 *   sublevel   key                          value
 *   meta       "format"                     u32 BE layout version (FORMAT_VERSION)
 *   meta       "genesis"                    32-byte genesis hash; a store serves one chain
 *   meta       "tip"                        u64 BE height || 32-byte block hash (height 0 =
 *                                           nothing appended; the hash is then the genesis hash)
 *   block      u64 BE height                encodeBlock(block)
 *   header     u64 BE height                encodeBlockHeader(header) (the block's, again:
 *                                           header reads must not load whole blocks)
 *   cert       u64 BE height                encodeQuorumCertificate(qc)
 *   block-hash 32-byte block hash           u64 BE height
 *   tx         32-byte tx hash              u64 BE height || u32 BE index in the block
 *   sender     20-byte sender address ||    u32 BE offset || u32 BE length: where the tx's
 *              u64 BE height || u32 BE      encoding sits in the block row, so a tx is read
 *              index in the block           without decoding its whole block
 *   state      state key bytes              state value bytes (the CURRENT state: genesis
 *                                           entries, then every block's writes applied)
 *   (the consensus WAL is not in LevelDB: see file-wal.ts)
 *
 * Heights and sequence numbers are big-endian so that LevelDB's bytewise order is numeric
 * order and range iteration walks the chain (and a sender's txs, in chain order). A block's
 * row, header, certificate, indexes, state writes and the new tip are written in one
 * atomic batch, so a crash leaves either all of a block or none of it.
 *
 * Version 2 added the header and sender rows: a version 1 store lacks them for its blocks,
 * so it is refused rather than answering searches with holes.
 */
import type { Hash } from '../crypto/index.js';

export const FORMAT_VERSION = 2;

export const SUBLEVELS = {
  meta: 'meta',
  block: 'block',
  cert: 'cert',
  blockHash: 'block-hash',
  tx: 'tx',
  state: 'state',
  header: 'header',
  sender: 'sender',
} as const;

export const META_FORMAT = new Uint8Array(Buffer.from('format'));
export const META_GENESIS = new Uint8Array(Buffer.from('genesis'));
export const META_TIP = new Uint8Array(Buffer.from('tip'));

/** u64 big-endian; `n` must be a safe non-negative integer. */
export function u64Key(n: number): Uint8Array {
  const out = new Uint8Array(8);
  writeU64(out, 0, n);
  return out;
}

export function readU64(bytes: Uint8Array, offset: number): number {
  const hi = readU32(bytes, offset);
  const lo = readU32(bytes, offset + 4);
  return hi * 0x1_0000_0000 + lo;
}

function writeU64(out: Uint8Array, offset: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a u64 key: ${n}`);
  writeU32(out, offset, Math.floor(n / 0x1_0000_0000));
  writeU32(out, offset + 4, n >>> 0);
}

function writeU32(out: Uint8Array, offset: number, n: number): void {
  out[offset] = n >>> 24;
  out[offset + 1] = (n >>> 16) & 0xff;
  out[offset + 2] = (n >>> 8) & 0xff;
  out[offset + 3] = n & 0xff;
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] ?? 0) * 0x100_0000) +
    (((bytes[offset + 1] ?? 0) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0))
  );
}

export function u32Bytes(n: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32(out, 0, n);
  return out;
}

export interface TipRecord {
  readonly height: number;
  readonly hash: Hash;
}

export function encodeTip(tip: TipRecord): Uint8Array {
  const out = new Uint8Array(8 + 32);
  writeU64(out, 0, tip.height);
  out.set(tip.hash, 8);
  return out;
}

export function decodeTip(bytes: Uint8Array): TipRecord | undefined {
  if (bytes.length !== 40) return undefined;
  return { height: readU64(bytes, 0), hash: bytes.slice(8) };
}

export interface TxLocation {
  readonly height: number;
  readonly index: number;
}

export function encodeTxLocation(height: number, index: number): Uint8Array {
  const out = new Uint8Array(12);
  writeU64(out, 0, height);
  writeU32(out, 8, index);
  return out;
}

export function decodeTxLocation(bytes: Uint8Array): TxLocation | undefined {
  if (bytes.length !== 12) return undefined;
  return { height: readU64(bytes, 0), index: readU32(bytes, 8) };
}

/** Bytes of a sender index key: address || height || index. */
export const SENDER_KEY_BYTES = 20 + 8 + 4;

/** The sender index key of (sender, height, index); `sender` is the address's 20 bytes. */
export function senderKey(sender: Uint8Array, height: number, index: number): Uint8Array {
  const out = new Uint8Array(SENDER_KEY_BYTES);
  out.set(sender, 0);
  writeU64(out, 20, height);
  writeU32(out, 28, index);
  return out;
}

/** Where a tx sits, from the sender index: its block, its index there, and its bytes in the block row. */
export interface SenderTxRef {
  readonly height: number;
  readonly index: number;
  /** Byte offset of the tx's encoding in the stored block. */
  readonly offset: number;
  readonly length: number;
}

export function encodeTxSpan(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(8);
  writeU32(out, 0, offset);
  writeU32(out, 4, length);
  return out;
}

export function decodeSenderEntry(key: Uint8Array, value: Uint8Array): SenderTxRef | undefined {
  if (key.length !== SENDER_KEY_BYTES || value.length !== 8) return undefined;
  return { height: readU64(key, 20), index: readU32(key, 28), offset: readU32(value, 0), length: readU32(value, 4) };
}
