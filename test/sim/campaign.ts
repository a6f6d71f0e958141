/**
 * Helpers for the vitest campaigns: a fixed list of seeds per strategy, run quickly, and a
 * failure message that holds every violation with the command that reproduces it.
 */
import { describe, expect, it } from 'vitest';
import { formatViolation, runSeed, type RunResult, type StrategyChoice } from './run.js';

export interface CampaignOutcome {
  readonly runs: number;
  readonly failures: readonly RunResult[];
  readonly heights: number;
}

/** Runs `count` seeds from `from` with one strategy choice. */
export function runCampaign(strategy: StrategyChoice, n: number, from: number, count: number): CampaignOutcome {
  const failures: RunResult[] = [];
  let heights = 0;
  for (let seed = from; seed < from + count; seed++) {
    const r = runSeed({ seed, n, strategy, quick: true });
    heights += r.height;
    if (!r.ok) failures.push(r);
  }
  return { runs: count, failures, heights };
}

export function describeFailures(outcome: CampaignOutcome): string {
  return outcome.failures.map(formatViolation).join('\n\n');
}

/**
 * One test per strategy: `seeds` seeds from 1 with n validators must all keep safety and
 * liveness, and together commit real work (more heights than runs).
 */
export function describeCampaign(title: string, strategies: readonly StrategyChoice[], n: number, seeds: number): void {
  describe(title, () => {
    it.each(strategies)('%s: safety and liveness hold', (strategy) => {
      const outcome = runCampaign(strategy, n, 1, seeds);
      expect(outcome.runs).toBe(seeds);
      expect(outcome.heights).toBeGreaterThan(seeds); // the schedules commit real work
      expect(outcome.failures.length, describeFailures(outcome)).toBe(0);
    }, 180_000);
  });
}
