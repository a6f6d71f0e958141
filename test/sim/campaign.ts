/**
 * Helpers for the vitest campaigns: a fixed list of seeds per strategy, run quickly, and a
 * failure message that holds every violation with the command that reproduces it.
 */
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
