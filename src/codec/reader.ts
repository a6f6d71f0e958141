/**
 * The decoding side of the wire format (rules in ./writer.ts).
 *
 * Decoding is total: `decodeWith` turns any byte string into a value or a CodecError.
 * Inside, the Reader throws a module-private DecodeFailure that `decodeWith` catches, so
 * the decoders read straight-line. No allocation is ever larger than the input allows:
 * a length is checked against the bytes left before anything is sliced, and a count
 * against its limit and against the bytes its items need at minimum.
 *
 * Aliasing: `decodeWith` copies its input once, then the Reader hands out subarray views
 * into that private copy for byte fields (keys, signatures, hashes, put values) instead
 * of copying each one. So a decoded value never aliases a buffer the caller may reuse,
 * and decoding a block costs one memcpy rather than one allocation per field. The price:
 * the fields of one decoded value share one backing buffer, so keeping a small field of
 * a large message alive keeps the whole message's bytes alive; copy it (`slice()`) if
 * you keep it long. Decoded values must be treated as immutable.
 */
import { ADDRESS_BYTES, toHex } from '../crypto/pure.js';
import { err, ok, type CodecError, type CodecErrorCode, type Result } from './result.js';

// `ignoreBOM: true` keeps a leading U+FEFF as part of the string; the default would strip
// it, and the decoded string would then re-encode to different bytes.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const MAX_SAFE_HIGH_WORD = 0x1f_ffff; // Number.MAX_SAFE_INTEGER >>> 32

class DecodeFailure extends Error {
  constructor(
    readonly code: CodecErrorCode,
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'DecodeFailure';
  }
}

export class Reader {
  private pos = 0;
  private readonly view: DataView;

  /** `data` is read in place: byte fields come back as views of it. */
  constructor(readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.data.length - this.pos;
  }

  /** Abandons decoding; `decodeWith` turns this into `err({ code, message, offset })`. */
  fail(code: CodecErrorCode, message: string, offset: number = this.pos): never {
    throw new DecodeFailure(code, message, offset);
  }

  u8(): number {
    return this.data[this.take(1, 'u8')] as number;
  }

  u16(): number {
    return this.view.getUint16(this.take(2, 'u16'));
  }

  u32(): number {
    return this.view.getUint32(this.take(4, 'u32'));
  }

  /** A u64 that must fit a JS safe integer (heights, views, timestamps). */
  u64(field = 'u64'): number {
    const at = this.take(8, field);
    const high = this.view.getUint32(at);
    if (high > MAX_SAFE_HIGH_WORD) this.fail('invalid-value', `${field} exceeds Number.MAX_SAFE_INTEGER`, at);
    return high * 0x1_0000_0000 + this.view.getUint32(at + 4);
  }

  u64n(): bigint {
    return this.view.getBigUint64(this.take(8, 'u64'));
  }

  /** Exactly `length` bytes (a view; see the note on aliasing above). */
  fixed(length: number, field = 'fixed-size field'): Uint8Array {
    const at = this.take(length, field);
    return this.data.subarray(at, at + length);
  }

  /** u32 length + bytes, at most `max`. */
  bytes(max: number, field = 'byte string'): Uint8Array {
    const at = this.pos;
    const length = this.u32();
    // Truncation first: a length that the input cannot hold is garbage, not an oversized
    // field, and callers tell clients which of the two their bytes were.
    if (length > this.remaining) this.fail('truncated', `${field} needs ${length} bytes, ${this.remaining} left`, at + 4);
    if (length > max) this.fail('too-large', `${field} of ${length} bytes exceeds its limit of ${max}`, at);
    return this.fixed(length, field);
  }

  /** u32 length + strict UTF-8, at most `maxBytes`. */
  string(maxBytes: number, field = 'string'): string {
    const at = this.pos;
    const raw = this.bytes(maxBytes, field);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      return this.fail('invalid-value', `${field} is not valid UTF-8`, at + 4);
    }
  }

  bool(field = 'bool'): boolean {
    const at = this.pos;
    const b = this.u8();
    if (b > 1) this.fail('non-canonical', `${field} byte is ${b}, not 0 or 1`, at);
    return b === 1;
  }

  /** 20 raw bytes as a 40-character lowercase hex address. */
  address(field = 'address'): string {
    return toHex(this.fixed(ADDRESS_BYTES, field));
  }

  /**
   * A u32 list count, checked against its limit and against the bytes left: each item
   * needs at least `minItemBytes`, so a count can never promise more than the input holds.
   */
  count(max: number, minItemBytes: number, field = 'list'): number {
    const at = this.pos;
    const n = this.u32();
    if (n > max) this.fail('too-large', `${field} has ${n} items, above its limit of ${max}`, at);
    if (n * minItemBytes > this.remaining) {
      this.fail('truncated', `${field} claims ${n} items but only ${this.remaining} bytes are left`, at);
    }
    return n;
  }

  /** Requires that every byte was consumed. */
  done(): void {
    if (this.pos !== this.data.length) this.fail('trailing-bytes', `${this.remaining} bytes after the end of the value`);
  }

  private take(n: number, field: string): number {
    const at = this.pos;
    if (n > this.data.length - at) {
      this.fail('truncated', `${field} needs ${n} bytes, ${this.data.length - at} left`, at);
    }
    this.pos = at + n;
    return at;
  }
}

/**
 * Runs `read` over a private copy of `bytes`, requires that it consumes every byte, and
 * returns the value or the first fault as a CodecError. Never throws. An input longer
 * than `maxBytes` is refused before it is copied.
 */
export function decodeWith<T>(bytes: Uint8Array, read: (r: Reader) => T, maxBytes = Number.POSITIVE_INFINITY): Result<T, CodecError> {
  if (!(bytes instanceof Uint8Array)) {
    return err({ code: 'invalid-value', message: `expected a Uint8Array, got ${typeof bytes}`, offset: 0 });
  }
  if (bytes.length > maxBytes) {
    return err({ code: 'too-large', message: `${bytes.length} bytes exceeds the limit of ${maxBytes}`, offset: maxBytes });
  }
  // `new Uint8Array(x)` always copies (Buffer#slice would not) and drops any Buffer subclass.
  const r = new Reader(new Uint8Array(bytes));
  try {
    const value = read(r);
    r.done();
    return ok(value);
  } catch (e) {
    if (e instanceof DecodeFailure) return err({ code: e.code, message: e.message, offset: e.offset });
    // A decoder bug, not bad input; still reported as a value, as the contract promises.
    return err({ code: 'invalid-value', message: `internal decoder error: ${String(e)}`, offset: r.offset });
  }
}
