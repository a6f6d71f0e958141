/**
 * How many txs may wait for commit before a node refuses new ones from its own clients.
 *
 * Without a bound tied to throughput, an overloaded network admits everything it is
 * offered. Every node checks the signature of every admitted tx, so the checks take the CPU
 * that committing needs, and commits fall further behind the more is offered. Measured
 * with 4 nodes on 2 cores: 1,500 tx/s offered for 30 s committed 1,498 tx/s, but 2,000
 * offered committed only 904 tx/s, with p50 latency 24 s and RSS 278 MB, still growing.
 *
 * The bound is the backlog the network clears in `budgetMs` at its recent commit rate, and
 * never less than `floorTxs`: at light load the recent rate says nothing about capacity,
 * and a burst should be taken whole. Under overload the rate is the capacity, so admitted
 * txs wait about `budgetMs` (or the floor's worth, where the floor is larger: on the 2-core
 * bench machine 4,096 txs is ~2.7 s) and the rest are refused ('mempool-full', -32011: retry
 * later) before their signature costs anything.
 *
 * The backlog is the mempool's ready txs (Mempool.readyCount): those waiting for a missing
 * nonce are no work yet. Each node refuses only its own clients, against the backlog it
 * sees; gossip from peers is never refused on this account, since a peer's client was
 * already told "admitted". Every node holds every pending tx, so they all see about the
 * same backlog.
 */

export interface BacklogBudgetOptions {
  /** About how long an admitted tx may wait for commit under overload, in ms. */
  readonly budgetMs: number;
  /** The bound is never below this many txs. */
  readonly floorTxs: number;
  /** The commit rate is measured over this trailing window, in ms. */
  readonly windowMs: number;
}

interface CommitSample {
  readonly at: number;
  readonly txs: number;
}

export class BacklogBudget {
  /** Commits inside the window, oldest first; `head` is the first one still inside. */
  private readonly samples: CommitSample[] = [];
  private head = 0;
  private txsInWindow = 0;

  constructor(private readonly options: BacklogBudgetOptions) {
    for (const key of ['budgetMs', 'floorTxs', 'windowMs'] as const) {
      const value = options[key];
      if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`BacklogBudget: ${key} must be a positive integer, got ${value}`);
    }
  }

  /**
   * A block with `txs` txs committed at `now` (ms). The node's wall clock will do: a jump
   * only skews the rate until the window has passed.
   */
  noteCommitted(txs: number, now: number): void {
    if (txs <= 0) return;
    this.samples.push({ at: now, txs });
    this.txsInWindow += txs;
    this.expire(now);
  }

  /** Txs committed per second over the window ending at `now`. */
  commitRate(now: number): number {
    this.expire(now);
    return (this.txsInWindow * 1000) / this.options.windowMs;
  }

  /** Client txs are refused once the backlog (txs) reaches this at `now`. */
  maxBacklog(now: number): number {
    const clearable = Math.floor((this.commitRate(now) * this.options.budgetMs) / 1000);
    return Math.max(this.options.floorTxs, clearable);
  }

  private expire(now: number): void {
    const oldest = now - this.options.windowMs;
    while (this.head < this.samples.length && (this.samples[this.head] as CommitSample).at <= oldest) {
      this.txsInWindow -= (this.samples[this.head] as CommitSample).txs;
      this.head++;
    }
    // Compact now and then rather than shift on every expiry.
    if (this.head === this.samples.length) {
      this.samples.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.samples.length) {
      this.samples.splice(0, this.head);
      this.head = 0;
    }
  }
}
