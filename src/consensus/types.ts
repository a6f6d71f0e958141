/**
 * The consensus core's face: configuration, the events that go in and the effects that
 * come out. `Replica.step(event)` is deterministic given the replica's state and the
 * event; the caller (the node's driver, or the simulator) owns time, network, storage,
 * execution and keys, and carries out the effects in order.
 */
import type { Hash, PublicKey, Signature, SignatureKind } from '../crypto/index.js';
import type {
  Block,
  BlockHeader,
  ConsensusMessage,
  PreparedCertificate,
  QuorumCertificate,
} from '../codec/types.js';

/** Signing and verification, injected so the core never touches keys or OpenSSL. */
export interface ConsensusCrypto {
  sign(kind: SignatureKind, payload: Uint8Array): Signature;
  verify(publicKey: PublicKey, kind: SignatureKind, payload: Uint8Array, signature: Signature): boolean;
  /** The block hash: sha256 of the header's canonical encoding. */
  hashHeader(header: BlockHeader): Hash;
  /**
   * Whether a block's body is the one its header commits to (tx count and tx Merkle root).
   * Checked on every body that arrives from the network, so that a peer that pairs a good
   * header with a bad body can never make a good block look invalid.
   */
  bodyMatchesHeader(block: Block): boolean;
}

export interface ReplicaConfig {
  readonly chainId: string;
  /** The hash that block 1 names as its parent. */
  readonly genesisHash: Hash;
  /** The genesis validator set; a validator's id is its index here. */
  readonly validators: readonly PublicKey[];
  /** This replica's index in `validators`. */
  readonly self: number;
  /** A CHECKPOINT is signed every this many heights. */
  readonly checkpointInterval: number;
  /** Messages are accepted for at most 2 x this many heights above the last committed one (the watermark window). */
  readonly windowSize: number;
  /**
   * The primary keeps at most this many of its proposals in flight (proposed, not yet
   * committed). Small enough that txs arriving under load gather into larger blocks
   * instead of a queue of one-tx blocks; at light load every tx is proposed at once.
   * A proposer policy only: replicas do not check it. Capped at windowSize, its default.
   */
  readonly maxProposalsInFlight?: number;
  /**
   * With a proposal already in flight, another is opened only once at least this many
   * pending txs are not in any in-flight block (default: no such rule). Every block costs a
   * full round of votes, signatures, messages and syncs on every replica whatever its
   * size, so at moderate load one block at a time, gathering what arrives meanwhile, is
   * cheaper than a pipeline of one-tx blocks; at high load the pipeline fills as before.
   * It assumes the 'mempool' event counts pending txs including those in in-flight
   * blocks, as the node's mempool does until they commit.
   */
  readonly minPipelinedTxs?: number;
  /** How long pending work may make no progress before a view change, in the first view. */
  readonly viewTimeoutMs: number;
  /** The cap of the exponential backoff across failed views. */
  readonly maxViewTimeoutMs: number;
  /** How often unacknowledged own messages are sent again (lossy networks). */
  readonly retransmitMs: number;
  /** A proposal may carry a timestamp at most this far ahead of the replica's clock. */
  readonly maxClockSkewMs: number;
  /** Run the full invariant check after every step (tests); production runs the cheap one. */
  readonly checkInvariants?: boolean;
}

/** What the replica knows at start: the store's tip and its own signed history (the WAL). */
export interface RestoredState {
  readonly committed: {
    readonly height: number;
    readonly hash: Hash;
    readonly timestamp: number;
    /** The tip's certificate; null at genesis. */
    readonly certificate: QuorumCertificate | null;
  };
  /** Every message this replica signed and persisted, oldest first. */
  readonly wal: readonly ConsensusMessage[];
  /**
   * Whether this replica ran before on this WAL (the driver records its first start there,
   * durably, before any message leaves). PRE-PREPAREs and PREPAREs are not persisted, so a
   * replica that ran before may have signed some the WAL does not hold, and must sign no
   * new ones in the views it may have been in. False only on the very first start.
   */
  readonly ranBefore: boolean;
  /** The prepared certificates it persisted, with their blocks (see the `persist-prepared` effect). */
  readonly prepared?: readonly { readonly certificate: PreparedCertificate; readonly block: Block }[];
  /** Wall-clock time at start. */
  readonly now: number;
}

export type ReplicaEvent =
  /** Time passes. Ticks drive timeouts and retransmission; nothing else reads a clock. */
  | { readonly type: 'tick'; readonly now: number }
  /** A decoded message from validator `from` (the transport authenticated the peer). */
  | { readonly type: 'message'; readonly from: number; readonly message: ConsensusMessage }
  /**
   * The mempool holds `pending` txs, counting those in in-flight blocks until they commit;
   * 0 when none of them could go in a block on the committed state. Pending work starts
   * the view timer, so txs that wait for a missing nonce must not count.
   */
  | { readonly type: 'mempool'; readonly pending: number }
  /** The answer to a `build-proposal` effect; null when there was nothing to propose. */
  | { readonly type: 'proposal-built'; readonly height: number; readonly block: Block | null }
  /** The answer to an `execute` effect: the block is valid on its parent's state. */
  | { readonly type: 'executed'; readonly height: number; readonly blockHash: Hash; readonly valid: boolean }
  /** A certified block fetched by catch-up. Nothing about it is trusted before the core checks it. */
  | { readonly type: 'synced'; readonly block: Block; readonly certificate: QuorumCertificate };

export type Effect =
  /**
   * Send to one validator. With `persist`, the driver must durably append the message to
   * the WAL before it leaves (a COMMIT, VIEW-CHANGE or NEW-VIEW is never sent without being
   * remembered); it may batch all of a step's persists into one synced write. Every
   * message, persisted or not, leaves only after all that earlier steps persisted is on
   * disk: a restarted replica relies on that to know every view it may have acted in.
   */
  | { readonly type: 'send'; readonly to: number; readonly message: ConsensusMessage; readonly persist: boolean }
  /** Send to every other validator; `persist` as for `send`. */
  | { readonly type: 'broadcast'; readonly message: ConsensusMessage; readonly persist: boolean }
  /**
   * Durably append a message to the WAL without sending it (an accepted NEW-VIEW, so that
   * a restarted replica knows the view it is in and what that view must re-propose).
   */
  | { readonly type: 'persist'; readonly message: ConsensusMessage }
  /**
   * Durably record a prepared certificate (WAL, before any send of the same step). A
   * replica that sent COMMIT must still report the certificate behind it after a restart,
   * or a later view could re-propose another block at that height.
   */
  | { readonly type: 'persist-prepared'; readonly certificate: PreparedCertificate; readonly block: Block }
  /**
   * Build a block from the mempool on top of `parentHash` (which the driver has executed)
   * and execute it; answer with `proposal-built`.
   */
  | {
      readonly type: 'build-proposal';
      readonly height: number;
      readonly view: number;
      readonly proposer: number;
      readonly parentHash: Hash;
      readonly timestamp: number;
    }
  /** Validate and execute `block` on its parent's (speculative) state; answer with `executed`. */
  | { readonly type: 'execute'; readonly height: number; readonly blockHash: Hash; readonly block: Block }
  /** Append the block and its certificate to the store. Always in strictly increasing height. */
  | { readonly type: 'commit'; readonly block: Block; readonly blockHash: Hash; readonly certificate: QuorumCertificate }
  /** This replica is behind: fetch certified blocks in [fromHeight, toHeight] and feed them back as `synced`. */
  | { readonly type: 'fetch'; readonly fromHeight: number; readonly toHeight: number }
  /** A checkpoint became stable: WAL entries and speculative state at or below `height` may be dropped. */
  | { readonly type: 'stable-checkpoint'; readonly height: number; readonly blockHash: Hash }
  /** The replica entered a view (after a valid NEW-VIEW, or at start). */
  | { readonly type: 'view-entered'; readonly view: number; readonly primary: number }
  /**
   * A peer sent something that can only be malice or a bug (a bad signature on a message
   * it claims as its own): the driver may rate-limit or ban it. Never a proof for others.
   */
  | { readonly type: 'misbehaviour'; readonly peer: number; readonly reason: string }
  /** A validator signed two conflicting messages. */
  | { readonly type: 'evidence'; readonly evidence: Evidence };

/** Two messages of one kind and slot, both validly signed by `validator`, that disagree. */
export interface Evidence {
  readonly validator: number;
  readonly kind: 'pre-prepare' | 'prepare' | 'commit' | 'checkpoint';
  readonly view: number;
  readonly height: number;
  readonly first: ConsensusMessage;
  readonly second: ConsensusMessage;
}

export { faultTolerance, quorumSize } from '../ledger/quorum.js';

/** The primary of a view: validators take turns in genesis order. */
export function primaryOf(view: number, n: number): number {
  return view % n;
}
