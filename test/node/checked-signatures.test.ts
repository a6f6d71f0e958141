import { describe, expect, it } from 'vitest';
import { CheckedSignatures } from '../../src/node/checked-signatures.js';

const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const sig = (b: number): Uint8Array => new Uint8Array(64).fill(b);

describe('CheckedSignatures', () => {
  it('answers true once, and only for exactly the statement found valid', () => {
    const checked = new CheckedSignatures(10);
    checked.add('commit', key(1), Uint8Array.of(1), sig(1));
    expect(checked.take('prepare', key(1), Uint8Array.of(1), sig(1))).toBe(false); // other kind
    expect(checked.take('commit', key(2), Uint8Array.of(1), sig(1))).toBe(false); // other key
    expect(checked.take('commit', key(1), Uint8Array.of(2), sig(1))).toBe(false); // other payload
    expect(checked.take('commit', key(1), Uint8Array.of(1), sig(2))).toBe(false); // other signature
    expect(checked.take('commit', key(1), Uint8Array.of(1), sig(1))).toBe(true);
    expect(checked.take('commit', key(1), Uint8Array.of(1), sig(1))).toBe(false); // taken
  });

  it('forgets the oldest verdicts beyond its capacity', () => {
    const checked = new CheckedSignatures(3);
    for (let i = 0; i < 5; i++) checked.add('commit', key(i), Uint8Array.of(i), sig(i));
    expect(checked.size).toBe(3);
    expect(checked.take('commit', key(0), Uint8Array.of(0), sig(0))).toBe(false);
    expect(checked.take('commit', key(1), Uint8Array.of(1), sig(1))).toBe(false);
    expect(checked.take('commit', key(4), Uint8Array.of(4), sig(4))).toBe(true);
  });
});
