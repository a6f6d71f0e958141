/**
 * The host's options and the types of its public API, apart from the class itself.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { LIMITS } from '../codec/types.js';
import type { BackoffPolicy } from './backoff.js';
import type { ChannelStats } from './channel.js';
import { NetError } from './errors.js';
import type { PenaltyPolicy } from './penalties.js';
import { checkBudget, DEFAULT_CONSENSUS_BUDGET, type RateBudget } from './rate.js';
import type { ValidatorEndpoint } from './peers.js';
import type { SyncRequest } from './sync.js';

/** pino-compatible: `(obj, msg)`. */
export interface NetLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface P2PNetworkOptions {
  /** The validator's 32-byte Ed25519 seed (the key file's private key). */
  readonly seed: Uint8Array;
  /** Listen multiaddr, e.g. /ip4/0.0.0.0/tcp/26656. */
  readonly listen: string;
  /** The genesis validators, in genesis order (their index is their peer index). */
  readonly validators: readonly ValidatorEndpoint[];
  /** Our peer index: a validator index, or validators.length + i for observer i. */
  readonly self: number;
  /** Public keys of non-voting peers that may connect (indices validators.length + i). */
  readonly observers?: readonly Uint8Array[];
  /** Largest consensus message or sync item, either way (default LIMITS.messageBytes, 20 MiB). */
  readonly maxFrameBytes?: number;
  /** Largest gossiped tx, either way (default LIMITS.txBytes, 17 KiB). */
  readonly maxTxBytes?: number;
  /** Bytes waiting per peer per outbound protocol before new frames are dropped (default 64 MiB). */
  readonly maxQueueBytes?: number;
  /**
   * How long frames are still queued for a peer that is not connected (default 2 s). A
   * short outage loses nothing; past it, what waits for the peer is dropped and nothing
   * more is queued until it is back. Votes that old are stale: the replica retransmits
   * what is still undecided, and a returning peer catches up on committed blocks by
   * fetching them. Queueing for the whole outage held up to maxQueueBytes per absent peer
   * (the oldest frames, as the newest were the ones dropped), and the returning peer then
   * had to decrypt, decode and check all of it: ~0.3 s of a lagger's CPU after 100,000 txs.
   */
  readonly disconnectedQueueMs?: number;
  readonly logger?: NetLogger;
  /** Items per sync response (default 256). */
  readonly syncMaxItems?: number;
  /** Item bytes per sync response (default 64 MiB; at least maxFrameBytes). */
  readonly syncMaxBytes?: number;
  /** Default requestSync timeout (default 10 s). */
  readonly syncTimeoutMs?: number;
  /** How long the server side of one sync exchange may take (default 30 s). */
  readonly syncServeTimeoutMs?: number;
  /** Redial delays (default 100 ms doubling to 10 s, jittered into [50%, 100%]). */
  readonly redialBackoff?: BackoffPolicy;
  readonly penalties?: Partial<PenaltyPolicy>;
  /** Random source in [0, 1) for jitter (default Math.random). */
  readonly random?: () => number;
  /** Clock for penalty windows and bans (default Date.now). */
  readonly now?: () => number;
  /**
   * Bound into the Noise handshake: peers with a different prologue cannot connect. Pass
   * the genesis hash so nodes of different chains never talk. Default: empty.
   */
  readonly prologue?: Uint8Array;
  /** libp2p's connection monitor pings every connection this often; 0 turns it off (default 10 s). */
  readonly pingIntervalMs?: number;
  /**
   * How long an inbound one-way stream may sit inside one frame — from the end of the
   * previous frame until this one completes — before it is dropped and the peer penalized
   * (default 30 s). A slowloris peer that trickles a frame's bytes and never finishes it
   * would otherwise hold up to maxFrameBytes of ours per stream for as long as it liked.
   * Generous on purpose: a maximal block must cross the slowest honest link within it.
   */
  readonly frameTimeoutMs?: number;
  /**
   * What one peer's consensus stream may send us per second before we stop reading it for
   * a while (rate.ts; default DEFAULT_CONSENSUS_BUDGET: 1,000 frames and 32 MiB per second).
   */
  readonly consensusBudget?: Partial<RateBudget>;
}

export interface PeerStats {
  readonly index: number;
  readonly role: 'validator' | 'observer';
  readonly peerId: string;
  readonly connected: boolean;
  readonly banned: boolean;
  readonly penalties: number;
  /** Undefined for observers (no consensus traffic). */
  readonly consensus: ChannelStats | undefined;
  readonly tx: ChannelStats;
}

export type MessageHandler = (from: number, bytes: Uint8Array) => void;
export type SyncServer = (from: number, request: SyncRequest) => Promise<Uint8Array[]>;
export type PeerEventHandler = (peer: number) => void;

export interface SyncRequestOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

const MiB = 1024 * 1024;

export const DEFAULTS = {
  maxFrameBytes: LIMITS.messageBytes as number,
  maxTxBytes: LIMITS.txBytes as number,
  maxQueueBytes: 64 * MiB,
  disconnectedQueueMs: 2_000,
  syncMaxItems: 256,
  syncMaxBytes: 64 * MiB,
  syncTimeoutMs: 10_000,
  syncServeTimeoutMs: 30_000,
  pingIntervalMs: 10_000,
  frameTimeoutMs: 30_000,
};
export const SILENT_LOGGER: NetLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Throws NetError('bad-options') for an unparsable listen address, or sizes that are not positive or do not fit together. */
export function checkOptions(options: P2PNetworkOptions): void {
  try {
    multiaddr(options.listen);
  } catch (cause) {
    throw new NetError('bad-options', `listen: not a multiaddr: ${options.listen}`, { cause });
  }
  const positive = (name: string, value: number | undefined): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new NetError('bad-options', `${name} must be a positive integer, got ${value}`);
    }
  };
  positive('maxFrameBytes', options.maxFrameBytes);
  positive('maxTxBytes', options.maxTxBytes);
  positive('maxQueueBytes', options.maxQueueBytes);
  positive('disconnectedQueueMs', options.disconnectedQueueMs);
  positive('syncMaxItems', options.syncMaxItems);
  positive('syncMaxBytes', options.syncMaxBytes);
  positive('syncTimeoutMs', options.syncTimeoutMs);
  positive('syncServeTimeoutMs', options.syncServeTimeoutMs);
  positive('frameTimeoutMs', options.frameTimeoutMs);
  try {
    checkBudget({ ...DEFAULT_CONSENSUS_BUDGET, ...options.consensusBudget });
  } catch (cause) {
    throw new NetError('bad-options', `consensusBudget: ${(cause as Error).message}`, { cause });
  }
  if (options.pingIntervalMs !== undefined && (!Number.isSafeInteger(options.pingIntervalMs) || options.pingIntervalMs < 0)) {
    throw new NetError('bad-options', `pingIntervalMs must be a non-negative integer, got ${options.pingIntervalMs}`);
  }
  const maxFrame = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes;
  const maxTx = options.maxTxBytes ?? DEFAULTS.maxTxBytes;
  if (Math.max(maxFrame, maxTx) > 0xffff_ffff) throw new NetError('bad-options', 'frame sizes must fit a u32');
  if ((options.maxQueueBytes ?? DEFAULTS.maxQueueBytes) < Math.max(maxFrame, maxTx) + 4) {
    throw new NetError('bad-options', 'maxQueueBytes must hold at least one frame of the largest size');
  }
  if ((options.syncMaxBytes ?? DEFAULTS.syncMaxBytes) < maxFrame) {
    throw new NetError('bad-options', 'syncMaxBytes must be at least maxFrameBytes (one item always fits)');
  }
}
