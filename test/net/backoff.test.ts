import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_REDIAL_BACKOFF } from '../../src/net/backoff.js';

describe('backoffDelay', () => {
  it('doubles from 100 ms to a 10 s cap, jittered into [50%, 100%]', () => {
    const top = () => 0.999_999;
    const bottom = () => 0;
    expect([0, 1, 2, 3, 6, 7, 20, 1000].map((a) => backoffDelay(DEFAULT_REDIAL_BACKOFF, a, top))).toEqual([
      100, 200, 400, 800, 6400, 10_000, 10_000, 10_000,
    ]);
    expect([0, 1, 7].map((a) => backoffDelay(DEFAULT_REDIAL_BACKOFF, a, bottom))).toEqual([50, 100, 5_000]);
  });

  it('stays within [cap/2, cap] for any attempt and random value', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const d = backoffDelay({ initialMs: 10, maxMs: 1_000 }, attempt, () => r);
        const cap = Math.min(1_000, 10 * 2 ** Math.min(attempt, 30));
        expect(d).toBeGreaterThanOrEqual(Math.floor(cap / 2));
        expect(d).toBeLessThanOrEqual(cap);
      }),
    );
  });
});
