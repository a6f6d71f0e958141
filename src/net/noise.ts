/**
 * Noise, as @chainsafe/libp2p-noise builds it, minus one exception per received chunk.
 *
 * Why: noise reads its length-prefixed ciphertext frames with a decoder that asks its length
 * function for the next frame's 2-byte length until the buffer runs dry, and that function
 * says "not enough bytes" by throwing a fresh RangeError. So every chunk the socket delivers
 * ends in one `new RangeError`, whose stack capture cost ~9 µs here (10.4 µs per chunk
 * against 1.1 µs without it). At light load, where nearly every consensus message is a chunk
 * of its own, that was 1.9% of all sampled node time (3.7% of the busy time), more than any
 * of our own functions but signature checks and socket writes.
 *
 * After the handshake, noise's decoder is swapped for NoiseFrameSplitter, which reads the same
 * frames from plain bytes with no exception and no list bookkeeping. At 100 tx/s, splitting
 * frames went from ~3.7 s to 0.25 s of ~160 s sampled over four nodes. Same frames, same
 * in-place decryption, same errors for bad input.
 *
 * This reaches into noise's stream object (its `decoder` field), which is not public API.
 * When a future noise no longer has that shape, nothing is patched, the library runs as
 * shipped (correct, just slower), and `onUnpatched` says so once; a test fails on it too.
 */
import { noise, type NoiseInit } from '@chainsafe/libp2p-noise';
import type { ConnectionEncrypter, SecuredConnection } from '@libp2p/interface';

const EMPTY = new Uint8Array(0);

/** What arrives from the socket stream: bytes, or a list of chunks that flattens to bytes. */
type Incoming = Uint8Array | { subarray(): Uint8Array };

/**
 * Splits the incoming byte stream into noise frames (`length u16 BE | ciphertext`) without
 * exceptions. Yields each frame's ciphertext as a view into the received bytes (noise then
 * decrypts it in place, as it does with its own decoder); keeps the bytes of an unfinished
 * frame for the next chunk. Empty frames are skipped, as noise's decoder skips them.
 *
 * Re-entrant like noise's own decoder: handling a yielded frame may deliver the next chunk
 * before the generator resumes (a resumed stream can flush what it buffered at once), so
 * where the next frame starts lives in the splitter, not in the generator, and frames come
 * out in stream order whichever call yields them.
 *
 * Bounded by construction: what is kept is less than one frame (at most 2 + 65,535 bytes),
 * so the buffer never holds more than that plus the chunk just received.
 */
export class NoiseFrameSplitter {
  /** Received bytes; those before #offset are split off already. */
  #bytes: Uint8Array;
  #offset = 0;

  constructor(leftover: Uint8Array = EMPTY) {
    this.#bytes = leftover;
  }

  /** Bytes of an unfinished frame held for the next chunk. */
  get pendingBytes(): number {
    return this.#bytes.length - this.#offset;
  }

  *decode(data: Incoming): Generator<Uint8Array, void, undefined> {
    this.#append(data instanceof Uint8Array ? data : data.subarray());
    for (;;) {
      const bytes = this.#bytes;
      const offset = this.#offset;
      if (bytes.length - offset < 2) break;
      const length = ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
      const end = offset + 2 + length;
      if (end > bytes.length) break;
      this.#offset = end;
      if (length > 0) yield bytes.subarray(offset + 2, end);
    }
    this.#keepRest();
  }

  #append(chunk: Uint8Array): void {
    const rest = this.pendingBytes;
    if (rest === 0) {
      this.#bytes = chunk;
    } else {
      const joined = new Uint8Array(rest + chunk.length);
      joined.set(this.#bytes.subarray(this.#offset));
      joined.set(chunk, rest);
      this.#bytes = joined;
    }
    this.#offset = 0;
  }

  /** A copy of the unfinished frame: a view would pin the whole chunk it came in. */
  #keepRest(): void {
    this.#bytes = this.pendingBytes === 0 ? EMPTY : this.#bytes.slice(this.#offset);
    this.#offset = 0;
  }
}

interface NoiseDecoder {
  readonly lengthDecoder: unknown;
  readonly encodingLength: (value: number) => number;
  readonly decode: unknown;
  readonly buffer: { readonly byteLength: number; subarray(): Uint8Array };
}

/** Noise's own decoder, recognised by its shape: a fixed 2-byte length prefix and a byte buffer. */
function noiseDecoderOf(connection: unknown): NoiseDecoder | undefined {
  const decoder = (connection as { decoder?: unknown } | null)?.decoder as Partial<NoiseDecoder> | undefined | null;
  if (decoder === undefined || decoder === null) return undefined;
  if (typeof decoder.decode !== 'function' || typeof decoder.lengthDecoder !== 'function' || typeof decoder.encodingLength !== 'function') return undefined;
  if (decoder.encodingLength(0) !== 2 || decoder.encodingLength(0xffff) !== 2) return undefined;
  const buffer = decoder.buffer as Partial<NoiseDecoder['buffer']> | undefined;
  if (typeof buffer?.byteLength !== 'number' || typeof buffer.subarray !== 'function') return undefined;
  return decoder as NoiseDecoder;
}

/**
 * Puts a NoiseFrameSplitter in place of a secured connection's frame decoder, carrying over
 * any bytes it already buffered; false (and no change) when the connection does not have
 * the shape this was written against.
 */
export function patchFrameDecoder(secured: SecuredConnection<unknown>): boolean {
  const decoder = noiseDecoderOf(secured.connection);
  if (decoder === undefined) return false;
  const leftover = decoder.buffer.byteLength > 0 ? decoder.buffer.subarray().slice() : EMPTY;
  (secured.connection as unknown as { decoder: unknown }).decoder = new NoiseFrameSplitter(leftover);
  return true;
}

/** Drop-in for `noise(init)`; `onUnpatched` is called (once) if a connection kept the throwing decoder. */
export function cheapNoise(init: NoiseInit, onUnpatched: () => void): (components: Parameters<ReturnType<typeof noise>>[0]) => ConnectionEncrypter {
  const build = noise(init);
  let warned = false;
  const patched = <T extends SecuredConnection<unknown>>(secured: T): T => {
    if (!patchFrameDecoder(secured) && !warned) {
      warned = true;
      onUnpatched();
    }
    return secured;
  };
  return (components) => {
    const encrypter = build(components);
    const secureInbound = encrypter.secureInbound.bind(encrypter);
    const secureOutbound = encrypter.secureOutbound.bind(encrypter);
    // The methods are shadowed on the instance, so everything else about it stays noise's own.
    encrypter.secureInbound = async (connection, options) => patched(await secureInbound(connection, options));
    encrypter.secureOutbound = async (connection, options) => patched(await secureOutbound(connection, options));
    return encrypter;
  };
}
