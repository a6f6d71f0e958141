/**
 * The wire-level data model: every value that is hashed, signed, stored or sent between
 * nodes. The codec gives each exactly one byte encoding (see ./tx.ts, ./block.ts,
 * ./consensus.ts). Integers that count (heights, views, indexes, timestamps) are JS
 * numbers bounded by Number.MAX_SAFE_INTEGER; money and nonces are bigint (u64).
 */
import type { Address, Hash, PublicKey, Signature } from '../crypto/pure.js';

// ---------------------------------------------------------------------------------------
// Transactions

export type TxBody =
  /** Moves `amount` (u64, > 0) from the sender to `to`. */
  | { readonly kind: 'transfer'; readonly to: Address; readonly amount: bigint }
  /** Sets the sender's data record `key` (utf-8, 1..MAX_DATA_KEY_BYTES) to `value`. */
  | { readonly kind: 'put'; readonly key: string; readonly value: Uint8Array }
  /** Admin only: lets `account` transact. */
  | { readonly kind: 'grant'; readonly account: Address }
  /** Admin only: stops `account` from transacting. */
  | { readonly kind: 'revoke'; readonly account: Address };

export type TxKind = TxBody['kind'];

/** The part of a tx that its signature covers. */
export interface UnsignedTx {
  readonly chainId: string;
  readonly sender: PublicKey;
  /** Per-account sequence number (u64): the sender's n-th tx carries nonce n, from 0. */
  readonly nonce: bigint;
  readonly body: TxBody;
}

export interface Tx extends UnsignedTx {
  /** Ed25519 over signingBytes('tx', chainId, encodeUnsignedTx(tx)). */
  readonly signature: Signature;
}

// ---------------------------------------------------------------------------------------
// Blocks

export interface BlockHeader {
  readonly chainId: string;
  /** 1 for the first block after genesis. */
  readonly height: number;
  /** The previous block's hash; for height 1, the genesis hash. */
  readonly parentHash: Hash;
  /** The consensus view in which the block was proposed. */
  readonly view: number;
  /** Index of the proposing validator in the genesis validator list. */
  readonly proposer: number;
  /** Proposer's clock, milliseconds since the Unix epoch; never below the parent's. */
  readonly timestamp: number;
  readonly txCount: number;
  /** Merkle root over the txs' hashes (see ledger/merkle). */
  readonly txRoot: Hash;
  /** Root of the whole application state after this block's txs. */
  readonly stateRoot: Hash;
}

export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly Tx[];
}

/** One validator's signature, naming the validator by its genesis index. */
export interface ValidatorSignature {
  readonly validator: number;
  readonly signature: Signature;
}

/**
 * The proof that a block is committed: 2f+1 distinct validators' COMMIT signatures over
 * VotePayload{view, height, blockHash}, sorted by validator index.
 */
export interface QuorumCertificate {
  readonly view: number;
  readonly height: number;
  readonly blockHash: Hash;
  readonly signatures: readonly ValidatorSignature[];
}

// ---------------------------------------------------------------------------------------
// Consensus messages (PBFT). Every message is signed by its sender; `validator` is the
// sender's genesis index. What each signature covers is given per type.

/** What PRE-PREPARE, PREPARE and COMMIT signatures cover (with their own kind tag). */
export interface VotePayload {
  readonly view: number;
  readonly height: number;
  readonly blockHash: Hash;
}

/** The primary's proposal. Signature kind 'pre-prepare' over VotePayload. */
export interface PrePrepare {
  readonly type: 'pre-prepare';
  readonly view: number;
  readonly height: number;
  readonly validator: number;
  readonly block: Block;
  readonly signature: Signature;
}

/** Signature kind 'prepare' over VotePayload. */
export interface Prepare {
  readonly type: 'prepare';
  readonly view: number;
  readonly height: number;
  readonly blockHash: Hash;
  readonly validator: number;
  readonly signature: Signature;
}

/** Signature kind 'commit' over VotePayload. 2f+1 of these form a QuorumCertificate. */
export interface Commit {
  readonly type: 'commit';
  readonly view: number;
  readonly height: number;
  readonly blockHash: Hash;
  readonly validator: number;
  readonly signature: Signature;
}

/** What CHECKPOINT signatures cover. */
export interface CheckpointPayload {
  readonly height: number;
  readonly blockHash: Hash;
}

/** Signature kind 'checkpoint' over CheckpointPayload. */
export interface Checkpoint {
  readonly type: 'checkpoint';
  readonly height: number;
  readonly blockHash: Hash;
  readonly validator: number;
  readonly signature: Signature;
}

/** 2f+1 CHECKPOINT signatures for one (height, blockHash): the log below may be dropped. */
export interface CheckpointCertificate {
  readonly height: number;
  readonly blockHash: Hash;
  readonly signatures: readonly ValidatorSignature[];
}

/**
 * 2f+1 PREPARE signatures for one VotePayload, with the block's header so the next
 * primary can re-propose it and check that re-proposals chain. The block body travels
 * separately (a replica without it fetches it); the header's hash is the blockHash.
 */
export interface PreparedCertificate {
  readonly view: number;
  readonly height: number;
  readonly header: BlockHeader;
  readonly signatures: readonly ValidatorSignature[];
}

/**
 * A vote to move to `newView`: the certificate of the sender's highest committed block
 * (null while it has committed nothing past genesis) and every prepared certificate it
 * holds above that height. The highest committed certificate among 2f+1 VIEW-CHANGEs is
 * the new view's base; see consensus/view-change.ts for why this is safe and why it
 * supersedes PBFT's checkpoint here (every block carries a certificate already).
 * Signature kind 'view-change' over the encoding of the message without its signature.
 */
export interface ViewChange {
  readonly type: 'view-change';
  readonly newView: number;
  readonly validator: number;
  readonly committed: QuorumCertificate | null;
  readonly prepared: readonly PreparedCertificate[];
  readonly signature: Signature;
}

/**
 * The new primary's proof that it may lead `view`: 2f+1 VIEW-CHANGEs for `view` from
 * distinct validators. What it re-proposes is derived from them by a rule every replica
 * recomputes, so nothing in here is taken on trust. Signature kind 'new-view' over the
 * encoding without its signature.
 */
export interface NewView {
  readonly type: 'new-view';
  readonly view: number;
  readonly validator: number;
  readonly viewChanges: readonly ViewChange[];
  readonly signature: Signature;
}

/** Asks a peer for a block body by hash (a re-proposed block that this replica lacks). */
export interface BlockRequest {
  readonly type: 'block-request';
  readonly validator: number;
  readonly height: number;
  readonly blockHash: Hash;
}

/** Answers a BlockRequest. Unsigned: the receiver checks the body against the hash it asked for. */
export interface BlockResponse {
  readonly type: 'block-response';
  readonly validator: number;
  readonly block: Block;
}

/**
 * A progress beacon, sent periodically and to a peer that looks behind: the sender's view
 * and the certificate of its highest committed block. Unsigned: the certificate proves
 * itself, and the view is only a hint (a replica moves views only on a verified NEW-VIEW).
 */
export interface Status {
  readonly type: 'status';
  readonly validator: number;
  readonly view: number;
  readonly committed: QuorumCertificate | null;
}

export type ConsensusMessage =
  | PrePrepare
  | Prepare
  | Commit
  | Checkpoint
  | ViewChange
  | NewView
  | BlockRequest
  | BlockResponse
  | Status;

export type ConsensusMessageType = ConsensusMessage['type'];

// ---------------------------------------------------------------------------------------
// Bounds. Every length and count in the codec has a limit; these are the protocol's.

export const LIMITS = {
  /** Bytes of a chain id. */
  chainId: 64,
  /** Bytes of a `put` key. */
  dataKey: 256,
  /** Bytes of a `put` value. */
  dataValue: 16 * 1024,
  /** Encoded bytes of one tx. */
  txBytes: 17 * 1024,
  /** Txs in one block. */
  blockTxs: 20_000,
  /** Encoded bytes of one block. */
  blockBytes: 16 * 1024 * 1024,
  /** Validators in the set (and so signatures in a certificate). */
  validators: 256,
  /** Prepared certificates in one VIEW-CHANGE (bounded by the watermark window). */
  preparedPerViewChange: 256,
  /** Encoded bytes of any consensus message. */
  messageBytes: 20 * 1024 * 1024,
} as const;
