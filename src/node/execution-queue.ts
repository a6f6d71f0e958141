/**
 * Proposals, executed in order, with their signature checks spread over time slices.
 *
 * A replica executes a proposal before voting for it, and execution needs every tx's
 * signature checked. Txs that arrived by gossip or RPC were checked on admission; the rest
 * (a proposal that outran its gossip) cost ~110 µs each. Checked inline, a 2,000-tx block
 * held the event loop for 200-370 ms (measured at 1,500 tx/s), and every WAL completion,
 * vote and RPC call waited behind it.
 *
 * So a proposal with more unchecked txs than a slice can take waits here: its txs are
 * checked in slices of bounded time (each its own macrotask), then it executes. Order is
 * kept: a proposal executes on its parent's state, so nothing overtakes a queued one.
 */
import type { Block, Tx } from '../codec/types.js';
import type { Hash } from '../crypto/hash.js';
import { TimeSlices } from './time-slices.js';

export interface ExecutionJob {
  readonly height: number;
  readonly block: Block;
  readonly blockHash: Hash;
}

export interface ExecutionQueueOptions {
  /** True when this tx's signature is known good here (the mempool's verdict cache). */
  readonly isVerified: (tx: Tx) => boolean;
  /** Checks one tx's signature, remembering a good verdict; false if it does not verify. */
  readonly verify: (tx: Tx) => boolean;
  /**
   * True when the job's height is already committed (catch-up got there first): its
   * checks would be wasted. A node catching up is sent the proposals in flight as it
   * reconnects, and checking their txs cost 6.5% of its CPU while it caught up.
   */
  readonly isStale: (job: ExecutionJob) => boolean;
  /** Executes the job (all its good signatures are now known) and reports the outcome. */
  readonly execute: (job: ExecutionJob) => void;
  /** Longest run of checks before yielding, in ms. */
  readonly sliceMs: number;
  /** Most unchecked txs a proposal may have and still execute at once, unqueued. */
  readonly inlineChecks: number;
  /** A monotonic clock in ms. */
  readonly now?: () => number;
}

interface Queued extends ExecutionJob {
  readonly unchecked: Tx[];
  /** Index of the next tx to check. */
  next: number;
}

export class ExecutionQueue {
  private readonly queue: Queued[] = [];
  private readonly now: () => number;
  private readonly slices: TimeSlices;

  constructor(private readonly options: ExecutionQueueOptions) {
    this.now = options.now ?? (() => performance.now());
    this.slices = new TimeSlices({ sliceMs: options.sliceMs, now: this.now, work: (deadline) => this.work(deadline), pending: () => this.queue.length > 0 });
  }

  /** Proposals waiting (checking or queued behind one that is). */
  get size(): number {
    return this.queue.length;
  }

  /** Executes `job` now if nothing is queued and it has few unchecked txs; queues it otherwise. */
  submit(job: ExecutionJob): void {
    if (this.slices.stopped || this.options.isStale(job)) return;
    const unchecked = job.block.txs.filter((tx) => !this.options.isVerified(tx));
    if (this.queue.length === 0 && unchecked.length <= this.options.inlineChecks) {
      this.options.execute(job);
      return;
    }
    this.queue.push({ ...job, unchecked, next: 0 });
    this.slices.schedule();
  }

  stop(): void {
    this.slices.stop();
    this.queue.length = 0;
  }

  private work(deadline: number): void {
    while (this.queue.length > 0 && !this.slices.stopped) {
      const job = this.queue[0] as Queued;
      if (this.options.isStale(job)) {
        this.queue.shift();
        continue;
      }
      while (job.next < job.unchecked.length && this.now() < deadline) {
        const tx = job.unchecked[job.next++] as Tx;
        // A bad signature makes the whole proposal invalid: execution finds and reports
        // it (one more check), so the rest need not be checked first.
        if (!this.options.verify(tx)) job.next = job.unchecked.length;
      }
      if (job.next < job.unchecked.length) break; // out of time for this slice
      this.queue.shift();
      this.options.execute(job);
      if (this.now() >= deadline) break;
    }
  }
}
