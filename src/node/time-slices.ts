/**
 * Work run in slices of bounded time, each its own macrotask, so that network reads, WAL
 * completions, timers and RPC get the event loop between slices. At most one slice is
 * scheduled at a time, and another follows as long as work is pending. Shared by
 * GossipIntake and ExecutionQueue.
 */
export interface TimeSlicesOptions {
  /** Longest slice, in ms: `work` gets now + sliceMs as its deadline. */
  readonly sliceMs: number;
  /** A monotonic clock in ms. */
  readonly now: () => number;
  /** Does work until the deadline (or runs out of it). */
  readonly work: (deadline: number) => void;
  /** True while work is left: another slice is scheduled after this one (even if it threw). */
  readonly pending: () => boolean;
}

export class TimeSlices {
  private scheduled = false;
  private halted = false;

  constructor(private readonly options: TimeSlicesOptions) {}

  get stopped(): boolean {
    return this.halted;
  }

  /** Asks for a slice, unless one is already scheduled or the slices were stopped. */
  schedule(): void {
    if (this.scheduled || this.halted) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  /** No slice runs from now on. */
  stop(): void {
    this.halted = true;
  }

  private run(): void {
    this.scheduled = false;
    if (this.halted) return;
    try {
      this.options.work(this.options.now() + this.options.sliceMs);
    } finally {
      if (this.options.pending()) this.schedule();
    }
  }
}
