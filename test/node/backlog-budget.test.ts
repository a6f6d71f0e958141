import { describe, expect, it } from 'vitest';
import { BacklogBudget } from '../../src/node/backlog-budget.js';

describe('BacklogBudget: the client backlog bound', () => {
  const make = () => new BacklogBudget({ budgetMs: 1_000, floorTxs: 100, windowMs: 5_000 });

  it('is the floor until commits say the network clears more in the budget', () => {
    const budget = make();
    expect(budget.maxBacklog(0)).toBe(100);
    budget.noteCommitted(250, 1_000); // 250 txs in a 5 s window: 50 tx/s, 50 in the budget
    expect(budget.commitRate(1_000)).toBe(50);
    expect(budget.maxBacklog(1_000)).toBe(100);
    for (let t = 1_100; t <= 5_000; t += 100) budget.noteCommitted(200, t); // 40 more blocks
    expect(budget.commitRate(5_000)).toBe((250 + 40 * 200) / 5);
    expect(budget.maxBacklog(5_000)).toBe(1_650);
  });

  it('forgets commits older than the window, so a network that slowed down takes less', () => {
    const budget = make();
    budget.noteCommitted(5_000, 0);
    expect(budget.maxBacklog(4_999)).toBe(1_000);
    expect(budget.maxBacklog(5_000)).toBe(100);
    budget.noteCommitted(1_000, 6_000);
    expect(budget.maxBacklog(6_000)).toBe(200);
    expect(budget.maxBacklog(60_000)).toBe(100);
  });

  it('ignores empty blocks and keeps its memory bounded over a long run', () => {
    const budget = make();
    for (let t = 0; t < 100_000; t += 10) {
      budget.noteCommitted(0, t);
      budget.noteCommitted(10, t);
    }
    // 500 blocks of 10 txs in the last 5 s: 1,000 tx/s.
    expect(budget.commitRate(99_990)).toBe(1_000);
    expect((budget as unknown as { samples: unknown[] }).samples.length).toBeLessThan(2_000);
  });

  it('refuses options that are not positive integers', () => {
    expect(() => new BacklogBudget({ budgetMs: 0, floorTxs: 1, windowMs: 1 })).toThrow(/budgetMs/);
    expect(() => new BacklogBudget({ budgetMs: 1, floorTxs: 1.5, windowMs: 1 })).toThrow(/floorTxs/);
    expect(() => new BacklogBudget({ budgetMs: 1, floorTxs: 1, windowMs: Number.NaN })).toThrow(/windowMs/);
  });
});
