/**
 * The simulator's clock and agenda: a binary min-heap of events ordered by (virtual time,
 * sequence number). The sequence number breaks ties in scheduling order, so two events at
 * the same millisecond always run in the same order for a given seed.
 */
export interface Scheduled {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
  /** Scheduled for the very millisecond it was scheduled at. */
  readonly immediate: boolean;
}

/**
 * More than this many events scheduled with no delay and run at one virtual millisecond means
 * something reschedules itself forever (a livelock in zero time); the run stops with an error
 * instead of hanging. Events scheduled earlier for the same millisecond do not count: a burst
 * of packets that all arrive together is finite.
 */
export const MAX_EVENTS_PER_MS = 50_000;

export class EventQueue {
  private readonly heap: Scheduled[] = [];
  private seq = 0;
  private clock = 0;
  private sameTime = 0;

  /** The virtual time of the event being run (or last run), in ms since the run began. */
  get now(): number {
    return this.clock;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Runs `run` at now + delay (delay >= 0; fractions are rounded up to whole ms). */
  after(delay: number, run: () => void): void {
    this.at(this.clock + Math.max(0, Math.ceil(delay)), run);
  }

  at(time: number, run: () => void): void {
    if (time < this.clock) throw new RangeError(`cannot schedule in the past (${time} < ${this.clock})`);
    const item: Scheduled = { time, seq: this.seq++, run, immediate: time === this.clock };
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Scheduled;
      if (!before(item, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  /** Runs the next event if it is due at or before `until`; false when there is none. */
  runNext(until: number): boolean {
    const top = this.heap[0];
    if (top === undefined || top.time > until) return false;
    this.pop();
    if (top.time !== this.clock) this.sameTime = 0;
    if (top.immediate && ++this.sameTime > MAX_EVENTS_PER_MS) {
      throw new Error(`event storm: over ${MAX_EVENTS_PER_MS} zero-delay events at t=${top.time}ms`);
    }
    this.clock = top.time;
    top.run();
    return true;
  }

  /** Moves the clock forward to `time` (after the events before it have run). */
  advanceTo(time: number): void {
    if (time > this.clock) this.clock = time;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as Scheduled;
    if (heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(heap[r] as Scheduled, heap[l] as Scheduled)) c = r;
      if (!before(heap[c] as Scheduled, last)) break;
      heap[i] = heap[c] as Scheduled;
      i = c;
    }
    heap[i] = last;
  }
}

function before(x: Scheduled, y: Scheduled): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}
