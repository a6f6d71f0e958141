/**
 * The encoding side of the ledger's wire format.
 *
 * Why a hand-written, BCS-style format rather than protobuf or CBOR: every value here is
 * hashed or signed, so it must have exactly one encoding. Protobuf is not canonical (any
 * field order, unknown fields, omitted defaults, non-minimal varints all decode to the
 * same message), and canonical CBOR needs a strict mode on both sides plus bigint tags.
 * A fixed schema of fixed-width big-endian integers, length-prefixed byte strings and
 * u8-tagged unions has one encoding per value by construction, is bounded field by
 * field, is fast to read and write, and takes a page to specify for a client in another
 * language.
 *
 * The rules:
 * - integers are fixed-width big-endian: u8, u16, u32, u64. `u64` carries JS numbers and
 *   refuses anything above Number.MAX_SAFE_INTEGER; `u64n` carries bigints (amounts,
 *   nonces) in 0..2^64-1;
 * - variable bytes and strings are a u32 length then the bytes, with a per-field maximum;
 *   strings are strict UTF-8;
 * - fixed-size fields (hashes, keys, signatures, 20-byte addresses) have no prefix;
 * - lists are a u32 count then the items, with a maximum count;
 * - unions are a u8 tag then the variant; booleans are one byte, 0 or 1.
 *
 * Encoding a value that breaks a rule or a limit throws a RangeError: that is a bug in
 * the caller, not bad input. (Bad input only ever arrives through the Reader.)
 */
import { ADDRESS_BYTES, isAddress } from '../crypto/pure.js';

const MAX_U64 = (1n << 64n) - 1n;
const TWO_POW_32 = 0x1_0000_0000;
const utf8Encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib typings.
type MaybeWellFormed = string & { isWellFormed(): boolean };

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  /** A Buffer view of `buf`, made on first use, for Node's native hex writer. */
  private node: Buffer | undefined;
  private pos = 0;

  /**
   * Callers that know the encoded size pass it, so that `finish` needs no copy.
   * `maxLength` caps the encoding: growing past it throws a RangeError at once, before
   * a value far over a protocol limit is built in memory.
   */
  constructor(
    initialCapacity = 256,
    private readonly maxLength = Number.POSITIVE_INFINITY,
  ) {
    this.buf = new Uint8Array(Math.max(0, Math.floor(initialCapacity)));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  u8(n: number): this {
    checkUint(n, 0xff, 'u8');
    const at = this.advance(1);
    this.buf[at] = n;
    return this;
  }

  u16(n: number): this {
    checkUint(n, 0xffff, 'u16');
    const at = this.advance(2); // before reading this.view: advancing may replace it
    this.view.setUint16(at, n);
    return this;
  }

  u32(n: number): this {
    checkUint(n, 0xffff_ffff, 'u32');
    const at = this.advance(4);
    this.view.setUint32(at, n);
    return this;
  }

  /** A u64 carried as a JS number: only 0..Number.MAX_SAFE_INTEGER is accepted. */
  u64(n: number): this {
    checkUint(n, Number.MAX_SAFE_INTEGER, 'u64');
    const at = this.advance(8);
    this.view.setUint32(at, Math.floor(n / TWO_POW_32));
    this.view.setUint32(at + 4, n >>> 0);
    return this;
  }

  /** A u64 carried as a bigint (amounts, nonces): 0..2^64-1. */
  u64n(n: bigint): this {
    if (typeof n !== 'bigint' || n < 0n || n > MAX_U64) throw new RangeError(`u64: ${String(n)} is not in 0..2^64-1`);
    const at = this.advance(8);
    this.view.setBigUint64(at, n);
    return this;
  }

  /** Exactly `length` bytes, no prefix (hashes, keys, signatures). */
  fixed(bytes: Uint8Array, length: number): this {
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw new RangeError(`expected exactly ${length} bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`);
    }
    const at = this.advance(length);
    this.buf.set(bytes, at);
    return this;
  }

  /** u32 length + bytes, at most `max` bytes. */
  bytes(b: Uint8Array, max: number): this {
    if (!(b instanceof Uint8Array)) throw new RangeError(`expected a Uint8Array, got ${typeof b}`);
    if (b.length > max) throw new RangeError(`byte string of ${b.length} bytes exceeds its limit of ${max}`);
    this.u32(b.length);
    const at = this.advance(b.length);
    this.buf.set(b, at);
    return this;
  }

  /** u32 length + UTF-8, at most `maxBytes` bytes. Lone surrogates are refused (they have no UTF-8). */
  string(s: string, maxBytes: number): this {
    if (typeof s !== 'string') throw new RangeError(`expected a string, got ${typeof s}`);
    // Every UTF-16 code unit becomes at least one UTF-8 byte, at most three.
    if (s.length > maxBytes) throw new RangeError(`string exceeds its limit of ${maxBytes} bytes`);
    if (!(s as MaybeWellFormed).isWellFormed()) throw new RangeError('string contains a lone surrogate');
    const start = this.pos;
    this.ensure(4 + s.length * 3);
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(start + 4));
    if (written > maxBytes) throw new RangeError(`string of ${written} UTF-8 bytes exceeds its limit of ${maxBytes}`);
    this.checkLimit(start + 4 + written);
    this.view.setUint32(start, written);
    this.pos = start + 4 + written;
    return this;
  }

  bool(b: boolean): this {
    if (typeof b !== 'boolean') throw new RangeError(`expected a boolean, got ${typeof b}`);
    return this.u8(b ? 1 : 0);
  }

  /** A 40-hex-character address as its 20 raw bytes. */
  address(a: string): this {
    if (!isAddress(a)) throw new RangeError(`not an address (40 lowercase hex characters): ${JSON.stringify(String(a).slice(0, 80))}`);
    const at = this.advance(ADDRESS_BYTES);
    this.node ??= Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.node.write(a, at, ADDRESS_BYTES, 'hex');
    return this;
  }

  /** Appends bytes that are already an encoding (a tx inside a block). */
  raw(bytes: Uint8Array): this {
    const at = this.advance(bytes.length);
    this.buf.set(bytes, at);
    return this;
  }

  /**
   * The bytes written. Returns the internal buffer itself when it is exactly full (the
   * pre-sized case), a trimmed copy otherwise. The writer starts over empty afterwards,
   * so it never writes into bytes it has handed out.
   */
  finish(): Uint8Array {
    const out = this.pos === this.buf.length ? this.buf : this.buf.slice(0, this.pos);
    this.buf = EMPTY;
    this.view = EMPTY_VIEW;
    this.node = undefined;
    this.pos = 0;
    return out;
  }

  /** Claims `n` bytes and returns where they start. Callers validate before claiming. */
  private advance(n: number): number {
    const at = this.pos;
    this.checkLimit(at + n);
    this.ensure(n);
    this.pos = at + n;
    return at;
  }

  private checkLimit(length: number): void {
    if (length > this.maxLength) throw new RangeError(`encoding exceeds its limit of ${this.maxLength} bytes`);
  }

  /** Makes room for `n` more bytes (capacity only; the length limit is checked on use). */
  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let capacity = Math.max(64, this.buf.length * 2);
    while (capacity < need) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.node = undefined;
  }
}

function checkUint(n: number, max: number, what: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`${what}: ${String(n)} is not an integer in 0..${max}`);
  }
}
