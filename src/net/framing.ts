/**
 * Length-prefixed frames on a byte stream: a u32 big-endian payload length, then the
 * payload. A stream delivers bytes in arbitrary chunks; the decoder reassembles frames
 * across chunk boundaries and judges each length before it buffers a single body byte, so
 * a peer can never make us hold (or allocate) more than `maxFrameBytes` for one frame.
 */

export const FRAME_HEADER_BYTES = 4;

/** The largest length a u32 prefix can state. */
export const MAX_FRAME_LIMIT = 0xffff_ffff;

/**
 * - `too-large`: the prefix states a length above the decoder's maximum.
 * - `empty`: a zero-length frame; no message of ours encodes to nothing, so it can only
 *   be garbage (and would otherwise let a peer spin us with 4-byte frames for free).
 */
export type FrameErrorCode = 'too-large' | 'empty';

export interface FrameError {
  readonly code: FrameErrorCode;
  readonly message: string;
  /** The length the offending prefix stated. */
  readonly length: number;
}

/**
 * What a libp2p stream hands us: a Uint8Array, or a Uint8ArrayList (which iterates over
 * its underlying Uint8Array chunks). Typed structurally so that any uint8arraylist
 * version fits.
 */
export type Chunk = Uint8Array | Iterable<Uint8Array>;

/** One frame: header + payload in one buffer (so a broadcast frames once for all peers). */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME_LIMIT) throw new RangeError(`a frame holds at most ${MAX_FRAME_LIMIT} bytes`);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length, false);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export class FrameDecoder {
  readonly maxFrameBytes: number;
  #error: FrameError | undefined;
  // Header state: the bytes of a prefix split across chunks.
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  #headerFill = 0;
  // Body state: `#expected` is the current frame's length, or -1 while reading a header.
  #expected = -1;
  #bodyParts: Uint8Array[] = [];
  #bodyFill = 0;

  constructor(maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > MAX_FRAME_LIMIT) {
      throw new RangeError(`maxFrameBytes must be an integer in 1..${MAX_FRAME_LIMIT}, got ${maxFrameBytes}`);
    }
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held for the incomplete frame at the end of the input so far. */
  get bufferedBytes(): number {
    return this.#headerFill + this.#bodyFill;
  }

  /**
   * Whether the input so far ends inside a frame: a partial prefix, or a prefix whose body
   * has not fully arrived. Unlike `bufferedBytes > 0`, this also catches a stream that ends
   * right after a whole prefix (the prefix is consumed, not held), which is a cut frame too.
   */
  get inFrame(): boolean {
    return this.#headerFill > 0 || this.#expected >= 0;
  }

  /** The error that stopped this decoder, if any; a failed decoder accepts nothing more. */
  get error(): FrameError | undefined {
    return this.#error;
  }

  /**
   * Feeds a chunk; calls `onFrame` for each frame it completes, in order. Returns the
   * error that makes the rest of the stream unreadable (frames before it were delivered),
   * after which the caller should drop the stream. Never throws on any input.
   */
  push(chunk: Chunk, onFrame: (frame: Uint8Array) => void): FrameError | undefined {
    if (this.#error !== undefined) return this.#error;
    if (chunk instanceof Uint8Array) return this.#pushPart(chunk, onFrame);
    for (const part of chunk) {
      const error = this.#pushPart(part, onFrame);
      if (error !== undefined) return error;
    }
    return undefined;
  }

  #pushPart(part: Uint8Array, onFrame: (frame: Uint8Array) => void): FrameError | undefined {
    let offset = 0;
    while (offset < part.length) {
      if (this.#expected < 0) {
        let length: number;
        if (this.#headerFill === 0 && part.length - offset >= FRAME_HEADER_BYTES) {
          length = readU32(part, offset);
          offset += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.#headerFill, part.length - offset);
          this.#header.set(part.subarray(offset, offset + take), this.#headerFill);
          this.#headerFill += take;
          offset += take;
          if (this.#headerFill < FRAME_HEADER_BYTES) return undefined;
          length = readU32(this.#header, 0);
          this.#headerFill = 0;
        }
        const error = this.#checkLength(length);
        if (error !== undefined) return error;
        if (part.length - offset >= length) {
          onFrame(detach(part.subarray(offset, offset + length)));
          offset += length;
        } else {
          this.#expected = length;
          this.#bodyParts = [part.subarray(offset)];
          this.#bodyFill = part.length - offset;
          offset = part.length;
        }
      } else {
        const take = Math.min(this.#expected - this.#bodyFill, part.length - offset);
        this.#bodyParts.push(part.subarray(offset, offset + take));
        this.#bodyFill += take;
        offset += take;
        if (this.#bodyFill === this.#expected) {
          const frame = concat(this.#bodyParts, this.#expected);
          this.#expected = -1;
          this.#bodyParts = [];
          this.#bodyFill = 0;
          onFrame(frame);
        }
      }
    }
    return undefined;
  }

  #checkLength(length: number): FrameError | undefined {
    if (length > this.maxFrameBytes) {
      this.#error = { code: 'too-large', message: `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`, length };
    } else if (length === 0) {
      this.#error = { code: 'empty', message: 'empty frame', length };
    }
    if (this.#error !== undefined) this.#release();
    return this.#error;
  }

  #release(): void {
    this.#bodyParts = [];
    this.#bodyFill = 0;
    this.#headerFill = 0;
    this.#expected = -1;
  }
}

function readU32(bytes: Uint8Array, offset: number): number {
  // Indices are in range: callers check that four bytes remain.
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A frame that is a view into a much larger transport buffer would pin that buffer for
 * as long as anyone keeps the frame (a 200-byte tx held by the mempool keeping a 64 KiB
 * chunk alive). Small views are copied out; a view covering most of its buffer is kept.
 */
function detach(view: Uint8Array): Uint8Array {
  // `new Uint8Array(view)` copies; `view.slice()` would not on a Node Buffer.
  return view.byteLength * 2 >= view.buffer.byteLength ? view : new Uint8Array(view);
}
