/**
 * Reading one peer's inbound one-way stream ('/ledger/consensus/1', '/ledger/tx/1'): frames
 * out, with every bound a hostile peer could otherwise push against.
 *
 * - Size: the frame decoder judges each length prefix before buffering a body byte.
 * - Time: a frame must complete within `frameTimeoutMs` of the previous one (or of the
 *   stream's start). A slowloris peer that trickles a frame and never finishes it would
 *   otherwise pin up to a frame's worth of our memory for as long as it liked. The clock
 *   restarts with every completed frame, so a busy stream whose chunks rarely end on a
 *   frame boundary is fine.
 * - Rate: with a budget (rate.ts), a peer over it is not read for a while: libp2p's pause
 *   withholds the yamux window, so the sender blocks, and nothing it sent is lost.
 *
 * A broken frame or a missed deadline drops the stream; the caller penalizes the peer.
 */
import type { Stream } from '@libp2p/interface';
import { FrameDecoder } from './framing.js';
import type { InboundBudget } from './rate.js';

export interface InboundOptions {
  readonly maxFrameBytes: number;
  readonly frameTimeoutMs: number;
  /** The peer's budget, shared by all its streams (a new stream must not mean a new allowance). Absent: no rate limit. */
  readonly budget?: InboundBudget;
  /** Each frame, in order. Exceptions are the caller's to catch. */
  readonly onFrame: (frame: Uint8Array) => void;
  /** The stream was dropped for `reason` (it is aborted already). */
  readonly onViolation: (reason: string) => void;
}

export function readInbound(stream: Stream, options: InboundOptions): void {
  const decoder = new FrameDecoder(options.maxFrameBytes);
  const budget = options.budget;
  let dropped = false;
  let delivered = 0;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let resume: ReturnType<typeof setTimeout> | undefined;
  const deliver = (frame: Uint8Array): void => {
    delivered += 1;
    options.onFrame(frame);
  };
  const drop = (reason: string): void => {
    if (dropped) return;
    dropped = true;
    clearTimeout(deadline);
    clearTimeout(resume);
    stream.abort(new Error(reason));
    options.onViolation(reason);
  };
  stream.addEventListener('message', (evt) => {
    if (dropped) return;
    const before = delivered;
    const error = decoder.push(evt.data, deliver);
    if (error !== undefined) {
      drop(`bad frame: ${error.message}`);
      return;
    }
    if (deadline !== undefined && (delivered > before || !decoder.inFrame)) {
      clearTimeout(deadline);
      deadline = undefined;
    }
    if (deadline === undefined && decoder.inFrame) {
      deadline = setTimeout(() => drop(`a frame took longer than ${options.frameTimeoutMs} ms to arrive`), options.frameTimeoutMs);
    }
    const waitMs = budget?.charge(delivered - before, evt.data.byteLength) ?? 0;
    if (waitMs > 0 && resume === undefined) {
      stream.pause();
      resume = setTimeout(() => {
        resume = undefined;
        if (!dropped && stream.status === 'open') stream.resume();
      }, waitMs);
    }
  });
  stream.addEventListener('close', () => {
    clearTimeout(deadline);
    clearTimeout(resume);
  });
}
