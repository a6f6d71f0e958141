/**
 * Quorum arithmetic for n validators, shared by certificate checks and consensus.
 *
 * f = floor((n - 1) / 3) faulty validators are tolerated. A quorum is n - f: any two
 * quorums then overlap in n - 2f >= f + 1 validators, at least one of them correct. For
 * the usual n = 3f + 1 this is the familiar 2f + 1; for other n (say 5, or 2) plain 2f + 1
 * would be too small (two quorums of 3 out of 5 can overlap in a single, faulty, node).
 */
export function faultTolerance(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`validator count must be a positive integer, got ${n}`);
  return Math.floor((n - 1) / 3);
}

export function quorumSize(n: number): number {
  return n - faultTolerance(n);
}
