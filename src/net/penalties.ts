/**
 * Per-peer misbehaviour accounting. The node reports every frame from a peer that fails
 * to decode or verify; we count them per fixed one-minute window, and a peer that crosses
 * the threshold inside one window is banned for a while (its connections closed, dials
 * both ways refused). Logging is rate-limited per peer so a hostile peer cannot flood the
 * log either.
 */

export interface PenaltyPolicy {
  /** Penalties within one window that trigger a ban. */
  readonly threshold: number;
  readonly windowMs: number;
  readonly banMs: number;
  /** At most one log line per peer per this interval; the rest are counted. */
  readonly logIntervalMs: number;
}

export const DEFAULT_PENALTY_POLICY: PenaltyPolicy = {
  threshold: 20,
  windowMs: 60_000,
  banMs: 30_000,
  logIntervalMs: 10_000,
};

export interface PenaltyOutcome {
  /** Penalties in the current window, this one included. */
  readonly windowCount: number;
  /** Whether this penalty should be logged (rate limit). */
  readonly log: boolean;
  /** Penalties not logged since the last logged one. */
  readonly suppressed: number;
  /** Set when this penalty starts a ban: the time it ends. */
  readonly bannedUntil: number | undefined;
}

interface PeerRecord {
  total: number;
  windowStart: number;
  windowCount: number;
  lastLogAt: number;
  suppressed: number;
  bannedUntil: number;
}

export class PenaltyBox {
  readonly #records = new Map<number, PeerRecord>();

  constructor(
    readonly policy: PenaltyPolicy,
    private readonly now: () => number,
  ) {}

  record(peer: number): PenaltyOutcome {
    const now = this.now();
    let r = this.#records.get(peer);
    if (r === undefined) {
      r = { total: 0, windowStart: now, windowCount: 0, lastLogAt: -Infinity, suppressed: 0, bannedUntil: 0 };
      this.#records.set(peer, r);
    }
    if (now - r.windowStart >= this.policy.windowMs) {
      r.windowStart = now;
      r.windowCount = 0;
    }
    r.total += 1;
    r.windowCount += 1;
    const windowCount = r.windowCount;
    let bannedUntil: number | undefined;
    if (r.windowCount >= this.policy.threshold && now >= r.bannedUntil) {
      r.bannedUntil = now + this.policy.banMs;
      bannedUntil = r.bannedUntil;
      // A fresh window after the ban: the peer gets a full allowance again.
      r.windowStart = r.bannedUntil;
      r.windowCount = 0;
    }
    const log = bannedUntil !== undefined || now - r.lastLogAt >= this.policy.logIntervalMs;
    const suppressed = r.suppressed;
    if (log) {
      r.lastLogAt = now;
      r.suppressed = 0;
    } else {
      r.suppressed += 1;
    }
    return { windowCount, log, suppressed, bannedUntil };
  }

  isBanned(peer: number): boolean {
    const r = this.#records.get(peer);
    return r !== undefined && this.now() < r.bannedUntil;
  }

  bannedUntil(peer: number): number {
    return this.#records.get(peer)?.bannedUntil ?? 0;
  }

  total(peer: number): number {
    return this.#records.get(peer)?.total ?? 0;
  }
}
