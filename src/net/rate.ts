/**
 * Inbound budgets per consensus stream: a token bucket for frames and one for bytes. Every
 * frame a peer sends costs us work before we can judge it (a decode, usually a signature
 * check), and a peer need not sign anything to make us check a signature; without a
 * budget one validator's key can keep a node busy verifying junk until the honest
 * validators' votes wait in line behind it. Over budget, the host stops reading the
 * stream (libp2p's pause: no more yamux window, so the sender blocks) until the buckets
 * refill: the peer is slowed, not dropped, and nothing it sent is lost.
 *
 * The defaults sit far above what honest consensus traffic needs (a few votes per block
 * per peer, a retransmission burst of a window's worth), so an honest peer never waits.
 */

export interface RateBudget {
  /** Sustained frames per second. */
  readonly framesPerSecond: number;
  /** Frames that may arrive at once after a quiet spell. */
  readonly burstFrames: number;
  /** Sustained bytes per second. */
  readonly bytesPerSecond: number;
  /** Bytes that may arrive at once (at least one maximal frame). */
  readonly burstBytes: number;
}

/**
 * Honest traffic per peer: a PREPARE and a COMMIT per block, the primary's PRE-PREPAREs,
 * a CHECKPOINT every K blocks, status beacons — tens of frames per second at thousands of
 * txs per second — and, after a timeout, a retransmission of its outbox (at most three
 * votes per height in the window: a few hundred at once). 1,000 a second with bursts of
 * 3,000 leaves that a wide margin, and caps what one hostile validator can make us verify
 * at roughly a tenth of a core.
 */
export const DEFAULT_CONSENSUS_BUDGET: RateBudget = {
  framesPerSecond: 1_000,
  burstFrames: 3_000,
  bytesPerSecond: 32 * 1024 * 1024,
  burstBytes: 64 * 1024 * 1024,
};

class Bucket {
  #tokens: number;
  #at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Spends `n` (the balance may go negative); returns the ms until it is back to zero. */
  spend(n: number, now: number): number {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.rate) * 1000);
  }
}

export class InboundBudget {
  readonly #frames: Bucket;
  readonly #bytes: Bucket;

  constructor(
    budget: RateBudget,
    private readonly now: () => number,
  ) {
    const t = now();
    this.#frames = new Bucket(budget.framesPerSecond, budget.burstFrames, t);
    this.#bytes = new Bucket(budget.bytesPerSecond, budget.burstBytes, t);
  }

  /** Charges what a chunk brought; returns how long to stop reading (0: read on). */
  charge(frames: number, bytes: number): number {
    const t = this.now();
    return Math.max(this.#frames.spend(frames, t), this.#bytes.spend(bytes, t));
  }
}

/** Throws a RangeError unless every field is a positive finite number. */
export function checkBudget(budget: RateBudget): void {
  for (const [name, value] of Object.entries(budget)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  }
}
