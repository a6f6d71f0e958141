import { describe, expect, it } from 'vitest';
import { checkBudget, DEFAULT_CONSENSUS_BUDGET, InboundBudget } from '../../src/net/rate.js';

describe('InboundBudget', () => {
  const budget = { framesPerSecond: 100, burstFrames: 50, bytesPerSecond: 10_000, burstBytes: 5_000 };

  it('lets a burst through, then asks to wait exactly as long as the overdraft takes to refill', () => {
    let now = 0;
    const b = new InboundBudget(budget, () => now);
    expect(b.charge(50, 100)).toBe(0); // the whole burst
    expect(b.charge(10, 100)).toBe(100); // 10 frames over at 100/s
    now = 100;
    expect(b.charge(0, 0)).toBe(0); // refilled to zero
    now = 1_000; // a quiet spell refills up to the burst, never beyond
    expect(b.charge(50, 0)).toBe(0);
    expect(b.charge(1, 0)).toBe(10);
  });

  it('waits for whichever bucket is deeper in debt', () => {
    let now = 0;
    const b = new InboundBudget(budget, () => now);
    expect(b.charge(1, 25_000)).toBe(2_000); // 20,000 bytes over at 10,000/s
    now = 2_000;
    expect(b.charge(1, 0)).toBe(0);
  });

  it('refuses budgets that are not positive finite numbers', () => {
    expect(() => checkBudget(DEFAULT_CONSENSUS_BUDGET)).not.toThrow();
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => checkBudget({ ...budget, framesPerSecond: bad })).toThrow(RangeError);
    }
  });
});
