import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, type Chunk, type FrameError } from '../../src/net/framing.js';

const MAX = 4096;

function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits `bytes` at the given (sorted, deduplicated) cut points. */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    pieces.push(bytes.subarray(prev, p));
    prev = p;
  }
  return pieces;
}

/** A Uint8ArrayList stand-in: an iterable of Uint8Array parts, as libp2p streams deliver. */
function listChunk(parts: Uint8Array[]): Chunk {
  return { [Symbol.iterator]: () => parts[Symbol.iterator]() };
}

function decodeAll(decoder: FrameDecoder, chunks: readonly Chunk[]): { frames: Uint8Array[]; error: FrameError | undefined } {
  const frames: Uint8Array[] = [];
  let error: FrameError | undefined;
  for (const chunk of chunks) {
    error = decoder.push(chunk, (f) => frames.push(f));
    if (error !== undefined) break;
  }
  return { frames, error };
}

const payload = fc.uint8Array({ minLength: 1, maxLength: 600 });

describe('framing', () => {
  it('encodes a u32 big-endian length prefix', () => {
    const frame = encodeFrame(new Uint8Array([7, 8, 9]));
    expect([...frame]).toEqual([0, 0, 0, 3, 7, 8, 9]);
  });

  it('reassembles frames exactly under any chunking (plain and list chunks)', () => {
    fc.assert(
      fc.property(
        fc.array(payload, { minLength: 0, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.boolean(), { maxLength: 40 }),
        (payloads, cuts, groupFlags) => {
          const wire = concatAll(payloads.map(encodeFrame));
          const pieces = split(wire, cuts);
          // Group consecutive pieces into list chunks where a flag says so.
          const chunks: Chunk[] = [];
          for (let i = 0; i < pieces.length; i++) {
            if (groupFlags[i] === true && i + 1 < pieces.length) {
              chunks.push(listChunk([pieces[i]!, pieces[i + 1]!]));
              i++;
            } else {
              chunks.push(pieces[i]!);
            }
          }
          const decoder = new FrameDecoder(MAX);
          const { frames, error } = decodeAll(decoder, chunks);
          expect(error).toBeUndefined();
          expect(frames.map((f) => [...f])).toEqual(payloads.map((p) => [...p]));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds a partial frame across pushes and completes it later', () => {
    const decoder = new FrameDecoder(MAX);
    const wire = encodeFrame(new Uint8Array(100).fill(5));
    const got: Uint8Array[] = [];
    expect(decoder.push(wire.subarray(0, 2), (f) => got.push(f))).toBeUndefined();
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.push(wire.subarray(2, 50), (f) => got.push(f))).toBeUndefined();
    // The prefix has been consumed; 46 body bytes wait for the rest.
    expect(decoder.bufferedBytes).toBe(46);
    expect(got).toHaveLength(0);
    decoder.push(wire.subarray(50), (f) => got.push(f));
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual(new Uint8Array(100).fill(5));
  });

  it('rejects an oversize length from the prefix alone, before any body byte is buffered', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX + 1, max: 0xffff_ffff }), fc.nat({ max: 3 }), (length, firstCut) => {
        const header = new Uint8Array(FRAME_HEADER_BYTES);
        new DataView(header.buffer).setUint32(0, length, false);
        const decoder = new FrameDecoder(MAX);
        const frames: Uint8Array[] = [];
        // The prefix may itself arrive split.
        const first = decoder.push(header.subarray(0, firstCut), (f) => frames.push(f));
        expect(first).toBeUndefined();
        const error = decoder.push(header.subarray(firstCut), (f) => frames.push(f));
        expect(error?.code).toBe('too-large');
        expect(error?.length).toBe(length);
        expect(decoder.bufferedBytes).toBe(0);
        expect(frames).toHaveLength(0);
        // A failed decoder stays failed and delivers nothing more, even valid frames.
        expect(decoder.push(encodeFrame(new Uint8Array([1])), (f) => frames.push(f))?.code).toBe('too-large');
        expect(frames).toHaveLength(0);
      }),
    );
  });

  it('delivers the frames before a bad one, then reports it', () => {
    const good = encodeFrame(new Uint8Array([1, 2, 3]));
    const bad = new Uint8Array([0, 0, 0, 0]);
    const decoder = new FrameDecoder(MAX);
    const { frames, error } = decodeAll(decoder, [concatAll([good, good, bad, good])]);
    expect(frames).toHaveLength(2);
    expect(error?.code).toBe('empty');
  });

  it('accepts a frame of exactly the maximum size', () => {
    const decoder = new FrameDecoder(MAX);
    const { frames, error } = decodeAll(decoder, split(encodeFrame(new Uint8Array(MAX).fill(9)), [1000, 3000]));
    expect(error).toBeUndefined();
    expect(frames[0]?.length).toBe(MAX);
  });

  it('never throws and never emits a frame above the maximum on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), fc.integer({ min: 1, max: 64 }), (chunks, max) => {
        const decoder = new FrameDecoder(max);
        const frames: Uint8Array[] = [];
        for (const chunk of chunks) decoder.push(chunk, (f) => frames.push(f));
        for (const f of frames) {
          expect(f.length).toBeGreaterThan(0);
          expect(f.length).toBeLessThanOrEqual(max);
        }
        expect(decoder.bufferedBytes).toBeLessThanOrEqual(max + FRAME_HEADER_BYTES);
      }),
    );
  });

  it('copies small frames out of large transport buffers but keeps large views', () => {
    const big = new Uint8Array(64 * 1024);
    big.set(encodeFrame(new Uint8Array([4, 5, 6])), 0);
    const decoder = new FrameDecoder(1 << 20);
    const frames: Uint8Array[] = [];
    decoder.push(big.subarray(0, 7), (f) => frames.push(f));
    expect(frames[0]?.buffer.byteLength).toBe(3);

    // Node Buffers too (their slice() is a view, so the copy must not rely on it).
    const socketChunk = Buffer.alloc(64 * 1024);
    socketChunk.set(encodeFrame(new Uint8Array([7])), 0);
    decoder.push(socketChunk.subarray(0, 5), (f) => frames.push(f));
    expect(frames[1]?.buffer.byteLength).toBe(1);
    frames.pop();

    const whole = encodeFrame(new Uint8Array(1000).fill(1));
    decoder.push(whole, (f) => frames.push(f));
    expect(frames[1]?.buffer).toBe(whole.buffer);
  });
});
