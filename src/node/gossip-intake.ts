/**
 * Tx gossip, admitted off the network's read path.
 *
 * Admitting a gossiped tx costs a signature verification (~110 µs here). Admitting
 * inline, one 64 KiB socket read would carry ~450 txs and hold the event loop for ~50 ms;
 * under load, reads from three peers queue up behind each other and the consensus
 * messages that share those connections wait behind all of them (measured at 1,500 tx/s:
 * event-loop p99 of 440-870 ms, a pre-prepare 170 ms between arrival and execution, view
 * changes from the delay alone).
 *
 * So frames are only queued when they arrive, and admitted in slices of bounded time, each
 * its own macrotask: network reads, consensus turns, WAL completions and RPC run in
 * between. The queue is bounded; a frame that does not fit is dropped, which costs
 * nothing but a later copy (pending txs are offered again, and proposals carry them).
 */

import { TimeSlices } from './time-slices.js';

export interface GossipIntakeOptions {
  /** Admits one frame (decode, checks, signature). */
  readonly admit: (from: number, bytes: Uint8Array) => void;
  /** Most queued frames; beyond it, new ones are dropped. */
  readonly maxQueued: number;
  /** Most queued bytes. */
  readonly maxQueuedBytes: number;
  /** Longest slice of admissions before yielding, in ms. */
  readonly sliceMs: number;
  /** An admission threw (a bug: admission never throws on any bytes); the frame is skipped. */
  readonly onError?: (err: unknown) => void;
  /** While this says true, admission waits (more urgent work of the same kind is queued). */
  readonly yieldTo?: () => boolean;
  /** A monotonic clock in ms. */
  readonly now?: () => number;
}

export class GossipIntake {
  private readonly frames: { from: number; bytes: Uint8Array }[] = [];
  /** Index of the next frame to admit (the queue is compacted now and then, not shifted). */
  private head = 0;
  private queuedBytes = 0;
  private readonly slices: TimeSlices;
  private droppedFrames = 0;
  private readonly now: () => number;

  constructor(private readonly options: GossipIntakeOptions) {
    this.now = options.now ?? (() => performance.now());
    this.slices = new TimeSlices({ sliceMs: options.sliceMs, now: this.now, work: (deadline) => this.work(deadline), pending: () => this.queued > 0 });
  }

  /** Frames waiting to be admitted. */
  get queued(): number {
    return this.frames.length - this.head;
  }

  /** Frames dropped because the queue was full, since start. */
  get dropped(): number {
    return this.droppedFrames;
  }

  /** Queues a frame; false if it was dropped because the queue is full. */
  offer(from: number, bytes: Uint8Array): boolean {
    if (this.slices.stopped) return false;
    if (this.queued >= this.options.maxQueued || this.queuedBytes + bytes.length > this.options.maxQueuedBytes) {
      this.droppedFrames++;
      return false;
    }
    this.frames.push({ from, bytes });
    this.queuedBytes += bytes.length;
    this.slices.schedule();
    return true;
  }

  /** Drops everything queued and admits nothing more. */
  stop(): void {
    this.slices.stop();
    this.frames.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
  }

  private work(deadline: number): void {
    try {
      while (this.head < this.frames.length && !this.slices.stopped && this.options.yieldTo?.() !== true) {
        const frame = this.frames[this.head++] as { from: number; bytes: Uint8Array };
        this.queuedBytes -= frame.bytes.length;
        try {
          this.options.admit(frame.from, frame.bytes);
        } catch (err) {
          this.options.onError?.(err);
        }
        if (this.now() >= deadline) break;
      }
    } finally {
      this.compact();
    }
  }

  private compact(): void {
    if (this.head >= this.frames.length) {
      this.frames.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.frames.length) {
      this.frames.splice(0, this.head);
      this.head = 0;
    }
  }
}
