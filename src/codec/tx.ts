/**
 * Transactions on the wire:
 *
 *   Tx         = version:u8(=1) chainId:string(<=64) sender:[32] nonce:u64 body signature:[64]
 *   body       = tag:u8 then  1 transfer: to:address(20) amount:u64
 *                             2 put:      key:string(<=256) value:bytes(<=16 KiB)
 *                             3 grant:    account:address(20)
 *                             4 revoke:   account:address(20)
 *
 * The unsigned encoding (what the signature covers) is the same bytes without the
 * signature, so it is always a prefix of the tx's encoding: a decoded tx's signing
 * payload is a view, with no re-encoding.
 *
 * Encodings are cached per Tx object: a tx is encoded when it is signed, hashed,
 * gossiped, put in a block and stored, and each of those reuses the first encoding;
 * `decodeTx` and `decodeBlock` seed the cache with the bytes they decoded. The cache is
 * a private field attached to the tx object itself, not a WeakMap: a WeakMap entry costs
 * ~1-2 us in GC ephemeron work, more than decoding the tx (measured: a 10,000-tx block
 * decoded in ~17-24 ms with a WeakMap, ~6-8 ms with the field).
 *
 * This relies on Tx objects and their byte fields never being mutated (the types say
 * readonly), and on callers never mutating the bytes returned by `encodeTx` /
 * `encodeUnsignedTx`: they are shared. Copy (`slice()`) before tampering in a test.
 */
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '../crypto/pure.js';
import { decodeWith, type Reader } from './reader.js';
import type { CodecError, Result } from './result.js';
import { LIMITS, type Tx, type TxBody, type UnsignedTx } from './types.js';
import { Writer } from './writer.js';

export const TX_FORMAT_VERSION = 1;

const TAG_TRANSFER = 1;
const TAG_PUT = 2;
const TAG_GRANT = 3;
const TAG_REVOKE = 4;

/** The smallest possible encoded tx (a `put` of an empty key and value on an empty chain id). */
export const MIN_TX_BYTES = 1 + 4 + PUBLIC_KEY_LENGTH + 8 + 1 + 4 + 4 + SIGNATURE_LENGTH;

// Attaches a private field to an existing object: a base constructor that returns
// its argument makes `this` that object in the subclass, whose field is then installed
// on it. The object keeps its plain prototype and shape, so it stays a plain Tx to
// spreads, JSON, key listing, toEqual and toStrictEqual alike.
class Adopt {
  constructor(target: object) {
    return target;
  }
}

class EncodingSlot extends Adopt {
  readonly #encoding: Uint8Array;

  private constructor(tx: UnsignedTx, encoding: Uint8Array) {
    super(tx);
    this.#encoding = encoding;
  }

  static attach(tx: UnsignedTx, encoding: Uint8Array): void {
    new EncodingSlot(tx, encoding);
  }

  static get(tx: UnsignedTx): Uint8Array | undefined {
    return #encoding in tx ? tx.#encoding : undefined;
  }
}

function cachedEncoding(tx: UnsignedTx): Uint8Array | undefined {
  return EncodingSlot.get(tx);
}

export function encodeUnsignedTx(tx: UnsignedTx): Uint8Array {
  // A Tx passed as its unsigned part: its unsigned encoding is a prefix of its encoding.
  const cached = cachedEncoding(tx);
  if (cached !== undefined) return cached.subarray(0, cached.length - SIGNATURE_LENGTH);
  const w = new Writer(unsignedSize(tx));
  writeUnsigned(w, tx);
  return w.finish();
}

/** The tx's canonical bytes. Cached: do not mutate the result. */
export function encodeTx(tx: Tx): Uint8Array {
  const cached = cachedEncoding(tx);
  if (cached !== undefined) return cached;
  const w = new Writer(unsignedSize(tx) + SIGNATURE_LENGTH);
  writeUnsigned(w, tx);
  w.fixed(tx.signature, SIGNATURE_LENGTH);
  const bytes = w.finish();
  // Unreachable with the field limits as they are (the largest tx is ~16.4 KiB); kept so
  // that raising a field limit cannot silently produce txs that peers refuse.
  if (bytes.length > LIMITS.txBytes) throw new RangeError(`tx of ${bytes.length} bytes exceeds ${LIMITS.txBytes}`);
  EncodingSlot.attach(tx, bytes);
  return bytes;
}

export function decodeTx(bytes: Uint8Array): Result<Tx, CodecError> {
  return decodeWith(bytes, readTx, LIMITS.txBytes);
}

/** Reads one tx and caches its encoding (a view of the reader's bytes). For block.ts. */
export function readTx(r: Reader): Tx {
  const start = r.offset;
  const version = r.u8();
  if (version !== TX_FORMAT_VERSION) r.fail('invalid-tag', `unsupported tx format version ${version}`, start);
  const chainId = r.string(LIMITS.chainId, 'chainId');
  const sender = r.fixed(PUBLIC_KEY_LENGTH, 'sender');
  const nonce = r.u64n();
  const body = readBody(r);
  const signature = r.fixed(SIGNATURE_LENGTH, 'signature');
  if (r.offset - start > LIMITS.txBytes) r.fail('too-large', `tx exceeds ${LIMITS.txBytes} bytes`, start);
  const tx: Tx = { chainId, sender, nonce, body, signature };
  EncodingSlot.attach(tx, r.data.subarray(start, r.offset));
  return tx;
}

function readBody(r: Reader): TxBody {
  const at = r.offset;
  const tag = r.u8();
  switch (tag) {
    case TAG_TRANSFER:
      return { kind: 'transfer', to: r.address('to'), amount: r.u64n() };
    case TAG_PUT:
      return { kind: 'put', key: r.string(LIMITS.dataKey, 'key'), value: r.bytes(LIMITS.dataValue, 'value') };
    case TAG_GRANT:
      return { kind: 'grant', account: r.address('account') };
    case TAG_REVOKE:
      return { kind: 'revoke', account: r.address('account') };
    default:
      return r.fail('invalid-tag', `unknown tx body tag ${tag}`, at);
  }
}

function writeUnsigned(w: Writer, tx: UnsignedTx): void {
  w.u8(TX_FORMAT_VERSION);
  w.string(tx.chainId, LIMITS.chainId);
  w.fixed(tx.sender, PUBLIC_KEY_LENGTH);
  w.u64n(tx.nonce);
  const body = tx.body;
  switch (body.kind) {
    case 'transfer':
      w.u8(TAG_TRANSFER).address(body.to).u64n(body.amount);
      return;
    case 'put':
      w.u8(TAG_PUT).string(body.key, LIMITS.dataKey).bytes(body.value, LIMITS.dataValue);
      return;
    case 'grant':
      w.u8(TAG_GRANT).address(body.account);
      return;
    case 'revoke':
      w.u8(TAG_REVOKE).address(body.account);
      return;
    default:
      throw new RangeError(`unknown tx body kind ${JSON.stringify((body as { kind: unknown }).kind)}`);
  }
}

/** The unsigned encoding's size, so the Writer is allocated once and never copies. */
function unsignedSize(tx: UnsignedTx): number {
  const head = 1 + 4 + utf8Length(tx.chainId) + PUBLIC_KEY_LENGTH + 8 + 1;
  const body = tx.body;
  switch (body.kind) {
    case 'transfer':
      return head + 20 + 8;
    case 'put':
      return head + 4 + utf8Length(body.key) + 4 + (body.value?.length ?? 0);
    default:
      return head + 20;
  }
}

/** A size hint only: a wrong guess (never for well-formed strings) costs a copy, not correctness. */
function utf8Length(s: string): number {
  return typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0;
}
