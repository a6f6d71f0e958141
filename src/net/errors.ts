/**
 * Typed errors of the network layer. Callers switch on `code`, never on messages.
 *
 * - `bad-options`: the host was configured inconsistently (a missing or duplicated
 *   validator, a seed that is not validator `self`, a multiaddr that does not parse).
 * - `not-started` / `stopped`: the host is not running.
 * - `unknown-peer`: a peer index outside the validator + observer table, our own index, or
 *   (for consensus) an observer.
 * - `bad-request`: a sync request whose heights are not integers with from <= to.
 * - `not-connected`: a sync request to a peer we hold no connection to.
 * - `listen-failed`: libp2p could not listen on the configured address (e.g. in use).
 * - `frame-too-large` / `empty-message`: a local payload above `maxFrameBytes`, or empty
 *   (a peer would drop the stream and penalize us).
 * - `timeout` / `aborted`: a sync request ran out of time or was cancelled.
 * - `sync-failed`: the sync stream could not be opened, was reset, or the server has no
 *   sync handler.
 * - `bad-response`: the sync server sent something malformed or over the response bounds.
 */
export type NetErrorCode =
  | 'bad-options'
  | 'not-started'
  | 'stopped'
  | 'unknown-peer'
  | 'bad-request'
  | 'not-connected'
  | 'listen-failed'
  | 'frame-too-large'
  | 'empty-message'
  | 'timeout'
  | 'aborted'
  | 'sync-failed'
  | 'bad-response';

export class NetError extends Error {
  constructor(
    readonly code: NetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NetError';
  }
}
