/**
 * One outbound, long-lived, one-way stream to one peer for one protocol, fed from a queue
 * bounded in bytes. Senders never wait: `enqueue` is synchronous, and when the queue is
 * full the new frame is dropped and counted. That is safe for what we carry — consensus
 * retransmits what matters (votes are re-sent on timeouts and status exchanges) and tx
 * gossip is best-effort — whereas letting a slow or hostile peer grow our memory, or stall
 * the consensus loop, is not.
 *
 * The stream is opened lazily (on the first frame, over an existing connection — dialing
 * is the host's job) and reopened with backoff when it closes. Frames go to
 * `stream.send()` while the stream accepts them; once `send` returns false we stop and
 * continue on 'drain', so the stream's own buffer holds at most about one batch and the
 * rest waits in our bounded queue.
 *
 * Sending is deferred to a microtask and small frames are coalesced into batches of up to
 * BATCH_BYTES: each `send` costs a muxer frame, an encryption and a socket write, which
 * would otherwise dominate the cost of gossiping thousands of small txs per second.
 */
import type { Stream } from '@libp2p/interface';
import { backoffDelay, type BackoffPolicy } from './backoff.js';

export interface ChannelOptions {
  readonly maxQueueBytes: number;
  /**
   * Opens a stream over an existing connection, or resolves undefined when there is no
   * connection right now (the host calls `kick()` when one appears).
   */
  readonly open: () => Promise<Stream | undefined>;
  /** The remote wrote to a stream that should only carry our frames. */
  readonly onViolation: (reason: string) => void;
  readonly onError: (err: unknown, context: string) => void;
  readonly reopenBackoff: BackoffPolicy;
  readonly random: () => number;
}

export interface ChannelStats {
  readonly queuedBytes: number;
  readonly queuedFrames: number;
  readonly sentFrames: number;
  readonly droppedFrames: number;
  readonly streamOpen: boolean;
}

/** Small frames are concatenated into one `send` up to this size. */
const BATCH_BYTES = 64 * 1024;

/** A stream that lived at least this long counts as healthy: its close resets the backoff. */
const HEALTHY_STREAM_MS = 1_000;

export class OutboundChannel {
  readonly #options: ChannelOptions;
  // The queue is an array with a moving head, so taking a frame is O(1).
  #queue: Uint8Array[] = [];
  #head = 0;
  #queuedBytes = 0;
  #sentFrames = 0;
  #droppedFrames = 0;
  #stream: Stream | undefined;
  #streamOpenedAt = 0;
  #opening = false;
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #parked = false;
  #pumpScheduled = false;

  constructor(options: ChannelOptions) {
    this.#options = options;
  }

  get stats(): ChannelStats {
    return {
      queuedBytes: this.#queuedBytes,
      queuedFrames: this.#queue.length - this.#head,
      sentFrames: this.#sentFrames,
      droppedFrames: this.#droppedFrames,
      streamOpen: this.#stream !== undefined,
    };
  }

  /** Queues a whole frame (header included). Returns false if it was dropped. */
  enqueue(frame: Uint8Array): boolean {
    if (this.#closed || this.#parked || this.#queuedBytes + frame.length > this.#options.maxQueueBytes) {
      this.#droppedFrames += 1;
      return false;
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(() => {
        this.#pumpScheduled = false;
        this.#pump();
      });
    }
    return true;
  }

  /**
   * The peer has been gone too long for what waits to still matter: drops the queue (the
   * frames count as dropped) and every frame offered until the next `kick()`.
   */
  park(): void {
    if (this.#closed || this.#parked) return;
    this.#parked = true;
    this.#droppedFrames += this.#queue.length - this.#head;
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
  }

  /** A connection to the peer appeared: try to open now, forgetting earlier failures. */
  kick(): void {
    if (this.#closed) return;
    this.#parked = false;
    this.#failures = 0;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pump();
  }

  /** Drops the queue and the stream for good. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.abort(new Error('channel closed'));
  }

  #pump(): void {
    if (this.#closed) return;
    const stream = this.#stream;
    if (stream === undefined) {
      this.#scheduleOpen();
      return;
    }
    if (stream.status !== 'open' || stream.writeStatus !== 'writable') {
      this.#detach(stream);
      return;
    }
    while (this.#head < this.#queue.length && !stream.writableNeedsDrain) {
      const start = this.#head;
      let end = start + 1;
      let bytes = this.#queue[start]!.length;
      while (end < this.#queue.length && bytes + this.#queue[end]!.length <= BATCH_BYTES) {
        bytes += this.#queue[end]!.length;
        end += 1;
      }
      const payload = end - start === 1 ? this.#queue[start]! : concat(this.#queue, start, end, bytes);
      let accepted: boolean;
      try {
        accepted = stream.send(payload);
      } catch (err) {
        // The stream closed under us; the frames stay queued for the next stream.
        this.#options.onError(err, 'send');
        this.#detach(stream);
        return;
      }
      // `send` returning false still took the batch (into the stream's buffer): it only
      // asks us to wait for 'drain' before sending more.
      this.#queue.fill(EMPTY, start, end);
      this.#head = end;
      this.#queuedBytes -= bytes;
      this.#sentFrames += end - start;
      if (!accepted) break;
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #scheduleOpen(): void {
    if (this.#closed || this.#opening || this.#timer !== undefined || this.#head === this.#queue.length) return;
    if (this.#failures === 0) {
      this.#open();
      return;
    }
    const delay = backoffDelay(this.#options.reopenBackoff, this.#failures - 1, this.#options.random);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#open();
    }, delay);
  }

  #open(): void {
    if (this.#closed || this.#opening || this.#stream !== undefined) return;
    this.#opening = true;
    this.#options.open().then(
      (stream) => {
        this.#opening = false;
        if (stream === undefined) return; // no connection: wait for kick()
        if (this.#closed) {
          stream.abort(new Error('channel closed'));
          return;
        }
        this.#attach(stream);
      },
      (err: unknown) => {
        this.#opening = false;
        if (this.#closed) return;
        this.#options.onError(err, 'open stream');
        this.#failures += 1;
        this.#scheduleOpen();
      },
    );
  }

  #attach(stream: Stream): void {
    this.#stream = stream;
    this.#streamOpenedAt = Date.now();
    stream.addEventListener('drain', () => this.#pump());
    stream.addEventListener('close', () => this.#detach(stream));
    // Our streams are one-way: data coming back is a protocol violation.
    stream.addEventListener('message', () => {
      this.#options.onViolation('data on a one-way stream');
      stream.abort(new Error('unexpected data on a one-way stream'));
    });
    this.#pump();
  }

  #detach(stream: Stream): void {
    if (this.#stream !== stream) return;
    this.#stream = undefined;
    if (stream.status === 'open') stream.abort(new Error('stream no longer writable'));
    this.#failures = Date.now() - this.#streamOpenedAt >= HEALTHY_STREAM_MS ? 0 : this.#failures + 1;
    this.#scheduleOpen();
  }
}

const EMPTY = new Uint8Array(0);

function concat(frames: readonly Uint8Array[], start: number, end: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (let i = start; i < end; i++) {
    const frame = frames[i]!;
    out.set(frame, at);
    at += frame.length;
  }
  return out;
}
