import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_HEADER_BYTES, FrameDecoder } from '../../src/net/framing.js';
import { packFrames, SYNC_WRITE_BYTES } from '../../src/net/sync.js';

function unpack(writes: readonly Uint8Array[], maxFrameBytes: number): Uint8Array[] {
  const decoder = new FrameDecoder(maxFrameBytes);
  const frames: Uint8Array[] = [];
  for (const write of writes) expect(decoder.push(write, (f) => frames.push(f))).toBeUndefined();
  expect(decoder.inFrame).toBe(false);
  return frames;
}

const framed = (item: Uint8Array): number => FRAME_HEADER_BYTES + item.length;

describe('packFrames (sync response writes)', () => {
  it('decodes back to the items, in order, under any target size', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 40 }), fc.integer({ min: 1, max: 2000 }), (items, target) => {
        const writes = packFrames(items, target);
        expect(unpack(writes, 300)).toEqual(items);
      }),
    );
  });

  it('keeps each write within the target unless one item alone exceeds it, and fills writes greedily', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 50, max: 2000 }), (items, target) => {
        const writes = packFrames(items, target);
        let next = 0;
        for (const write of writes) {
          const count = unpack([write], 300).length;
          if (count > 1) expect(write.length).toBeLessThanOrEqual(target);
          next += count;
          // Greedy: the item after this write would not have fitted into it.
          if (next < items.length) expect(write.length + framed(items[next] as Uint8Array)).toBeGreaterThan(target);
        }
        expect(next).toBe(items.length);
      }),
    );
  });

  it('packs a typical response of 64 blocks into a handful of writes, not 128', () => {
    const blocks = Array.from({ length: 64 }, (_, i) => new Uint8Array(3_500).fill(i));
    const writes = packFrames(blocks);
    const perWrite = Math.floor(SYNC_WRITE_BYTES / framed(blocks[0] as Uint8Array)); // 17
    expect(writes).toHaveLength(Math.ceil(64 / perWrite));
    const frames = unpack(writes, 4_000);
    expect(frames).toHaveLength(64);
    expect(frames.every((f, i) => Buffer.from(f).equals(blocks[i] as Uint8Array))).toBe(true);
  });

  it('sends nothing for an empty response', () => {
    expect(packFrames([])).toEqual([]);
  });
});
