/**
 * Seeded campaigns, n = 4 (f = 1), second half of the strategies. Each strategy runs a fixed
 * range of seeds in the quick profile; a failure lists every violation with the command
 * that reproduces it.
 */
import { describe, expect, it } from 'vitest';
import { describeFailures, runCampaign } from './campaign.js';
import type { StrategyChoice } from './run.js';

const STRATEGIES: readonly StrategyChoice[] = ['bad-new-view', 'stale-future', 'junk-flood', 'invalid-block', 'selective', 'chaos', 'mixed'];
const SEEDS = 60;

describe('campaign n=4 (b)', () => {
  it.each(STRATEGIES)('%s: safety and liveness hold', (strategy) => {
    const outcome = runCampaign(strategy, 4, 1, SEEDS);
    expect(outcome.runs).toBe(SEEDS);
    expect(outcome.heights).toBeGreaterThan(SEEDS); // the schedules commit real work
    expect(outcome.failures.length, describeFailures(outcome)).toBe(0);
  }, 180_000);
});
