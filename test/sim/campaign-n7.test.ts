/**
 * Seeded campaigns, n = 7 (f = 2): every strategy with two Byzantine validators (for
 * 'mixed', two different ones), a fixed range of seeds each in the quick profile.
 */
import { describe, expect, it } from 'vitest';
import { describeFailures, runCampaign } from './campaign.js';
import { STRATEGY_CHOICES } from './run.js';

const STRATEGIES = STRATEGY_CHOICES.filter((s) => s !== 'random');
const SEEDS = 20;

describe('campaign n=7', () => {
  it.each(STRATEGIES)('%s: safety and liveness hold', (strategy) => {
    const outcome = runCampaign(strategy, 7, 1, SEEDS);
    expect(outcome.runs).toBe(SEEDS);
    expect(outcome.heights).toBeGreaterThan(SEEDS);
    expect(outcome.failures.length, describeFailures(outcome)).toBe(0);
  }, 180_000);
});
