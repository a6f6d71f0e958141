import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SecuredConnection } from '@libp2p/interface';
import { NoiseFrameSplitter, patchFrameDecoder } from '../../src/net/noise.js';

/** `length u16 BE | payload` for each payload, concatenated. */
function framed(...payloads: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(payloads.reduce((n, p) => n + 2 + p.length, 0));
  let at = 0;
  for (const p of payloads) {
    out[at] = p.length >> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const split = (splitter: NoiseFrameSplitter, chunk: Uint8Array | { subarray(): Uint8Array }) => [...splitter.decode(chunk)].map((f) => [...f]);
const secured = (connection: unknown) => ({ connection }) as unknown as SecuredConnection<unknown>;

/** Noise's decoder as far as patchFrameDecoder looks at it. */
function noiseLikeDecoder(buffered: Uint8Array = new Uint8Array(0)) {
  return {
    lengthDecoder: () => 0,
    encodingLength: () => 2,
    decode: () => [],
    buffer: { byteLength: buffered.length, subarray: () => buffered },
  };
}

describe('NoiseFrameSplitter', () => {
  it('yields every whole frame of a chunk and keeps a partial one for the next', () => {
    const s = new NoiseFrameSplitter();
    const stream = framed(bytes(1, 2, 3), bytes(4), bytes(5, 6));
    expect(split(s, stream.subarray(0, 9))).toEqual([[1, 2, 3], [4]]);
    expect(s.pendingBytes).toBe(1); // the third frame's first length byte
    expect(split(s, stream.subarray(9, 11))).toEqual([]);
    expect(split(s, stream.subarray(11))).toEqual([[5, 6]]);
    expect(s.pendingBytes).toBe(0);
  });

  it('skips empty frames, reads flattened chunk lists, and frames of the largest size', () => {
    const big = new Uint8Array(0xffff).map((_, i) => i % 251);
    const s = new NoiseFrameSplitter();
    const stream = framed(bytes(), bytes(9), big);
    expect(split(s, { subarray: () => stream.subarray(0, 1000) })).toEqual([[9]]);
    const frames = [...s.decode(stream.subarray(1000))];
    expect(frames).toHaveLength(1);
    expect(frames[0]).toEqual(big);
  });

  it('keeps stream order when a chunk arrives while a frame is being handled (re-entrant)', () => {
    const s = new NoiseFrameSplitter();
    const stream = framed(bytes(1), bytes(2, 2), bytes(3, 3, 3), bytes(4));
    const first = stream.subarray(0, 5); // frame 1 and half of frame 2
    const rest = stream.subarray(5);
    const out: number[][] = [];
    for (const frame of s.decode(first)) {
      out.push([...frame]);
      // Handling frame 1 delivers the rest of the stream before the outer call resumes.
      if (frame[0] === 1) for (const inner of s.decode(rest)) out.push([...inner]);
    }
    expect(out).toEqual([[1], [2, 2], [3, 3, 3], [4]]);
    expect(s.pendingBytes).toBe(0);
  });

  it('splits any chunking of any frames into exactly those frames (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = framed(...payloads);
          const s = new NoiseFrameSplitter();
          const out: number[][] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const next = Math.min(stream.length, at + cuts[i % cuts.length]!);
            // A copy per chunk, as the socket hands over fresh buffers.
            out.push(...split(s, stream.slice(at, next)));
            at = next;
          }
          expect(out).toEqual(payloads.filter((p) => p.length > 0).map((p) => [...p]));
          expect(s.pendingBytes).toBe(0);
        },
      ),
    );
  });
});

describe('patchFrameDecoder', () => {
  it("replaces noise's decoder, carrying over what it had buffered", () => {
    const rest = framed(bytes(7, 8));
    const connection = { decoder: noiseLikeDecoder(rest.subarray(0, 3)) as unknown };
    expect(patchFrameDecoder(secured(connection))).toBe(true);
    expect(connection.decoder).toBeInstanceOf(NoiseFrameSplitter);
    expect(split(connection.decoder as NoiseFrameSplitter, rest.subarray(3))).toEqual([[7, 8]]);
  });

  it('leaves any other shape alone', () => {
    const varint = { ...noiseLikeDecoder(), encodingLength: (n: number) => (n < 128 ? 1 : 3) };
    const shapes: unknown[] = [
      {},
      null,
      { decoder: varint },
      { decoder: { ...noiseLikeDecoder(), decode: undefined } },
      { decoder: { ...noiseLikeDecoder(), buffer: undefined } },
      { decoder: { ...noiseLikeDecoder(), lengthDecoder: 1 } },
    ];
    for (const connection of shapes) {
      const before = (connection as { decoder?: unknown } | null)?.decoder;
      expect(patchFrameDecoder(secured(connection))).toBe(false);
      expect((connection as { decoder?: unknown } | null)?.decoder).toBe(before);
    }
  });
});
