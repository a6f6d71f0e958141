/**
 * Exponential backoff with jitter for redials and stream reopens. The random source is
 * injected so that tests can make delays deterministic.
 */

export interface BackoffPolicy {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** The delay stops doubling here. */
  readonly maxMs: number;
}

export const DEFAULT_REDIAL_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000 };

/**
 * The delay before retry number `attempt` (0-based): `initialMs * 2^attempt`, capped at
 * `maxMs`, then scaled into [50%, 100%] by `random()` (a value in [0, 1)) so that peers
 * that lost each other at the same moment do not redial in lockstep.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const exponent = Math.min(Math.max(attempt, 0), 30);
  const capped = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(capped * (0.5 + 0.5 * r));
}
