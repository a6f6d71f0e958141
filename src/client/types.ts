/**
 * What LedgerClient methods return: the node's JSON (src/rpc/json.ts, src/rpc/events.ts)
 * parsed into typed values. The conventions, everywhere:
 * - hashes, public keys, signatures and raw bytes are Uint8Array (the codec's types), so a
 *   header, certificate or tx can be hashed and checked as it is;
 * - addresses are 40-lowercase-hex strings (the codec's Address);
 * - amounts and nonces are bigint (u64); heights, views, indexes, counts and times (ms since
 *   the Unix epoch) are numbers;
 * - headers, certificates, txs and blocks are the codec's own types (BlockHeader,
 *   QuorumCertificate, Tx, Block), rebuilt from the JSON, so proofs can be checked.
 * A tx's hash is always computed from its bytes (a node's claimed hash is only compared).
 */
import type { Block, BlockHeader, ConsensusMessageType, QuorumCertificate, Tx, TxKind } from '../codec/types.js';
import type { Address } from '../crypto/address.js';
import type { Hash } from '../crypto/hash.js';
import type { Genesis } from '../ledger/genesis.js';
import type { MerkleProof } from '../ledger/merkle.js';
import type { StateProof } from '../ledger/smt.js';

// What a node says of itself: the same shapes the server's NodeApi returns.
export type { NodeHealth, NodeStatus } from '../rpc/api.js';

/** A state entry and its proof against the state root of the header at the read's height. */
export interface StateProofData {
  readonly stateRoot: Hash;
  readonly key: Uint8Array;
  /** The stored bytes; undefined when the key holds nothing. */
  readonly value: Uint8Array | undefined;
  readonly proof: StateProof;
}

export interface AccountInfo {
  readonly address: Address;
  /** The committed height the read is at. */
  readonly height: number;
  readonly balance: bigint;
  /** How many txs of this account are committed. */
  readonly nonce: bigint;
  /** The nonce its next tx should carry, counting its txs pending in the node's mempool. */
  readonly pendingNonce: bigint;
  readonly canTransact: boolean;
  readonly isAdmin: boolean;
  readonly proof?: StateProofData;
}

export interface RecordInfo {
  readonly owner: Address;
  readonly key: string;
  readonly height: number;
  /** Undefined when the owner has no record under `key`. */
  readonly value: Uint8Array | undefined;
  readonly proof?: StateProofData;
}

export interface HeaderInfo {
  /** The block hash as the node gave it (a verifier compares it with hashBlockHeader(header)). */
  readonly hash: Hash;
  readonly header: BlockHeader;
}

export interface CommitInfo extends HeaderInfo {
  readonly certificate: QuorumCertificate;
}

export interface BlockInfo extends CommitInfo {
  /** `block.header` is `header`; the txs are decoded from their bytes. */
  readonly block: Block;
}

export interface Blockchain {
  readonly latestHeight: number;
  /** Newest first. */
  readonly headers: readonly HeaderInfo[];
}

export interface TxProofData extends MerkleProof {
  /** The tx root the node says the proof leads to (compare with the certified header's). */
  readonly txRoot: Hash;
}

export interface CommittedTx {
  /** sha256 of the tx's bytes. */
  readonly hash: Hash;
  readonly tx: Tx;
  readonly height: number;
  readonly index: number;
  readonly proof?: TxProofData;
}

export interface PendingTx {
  readonly hash: Hash;
  readonly tx: Tx;
}

export interface TxSearchPage {
  readonly txs: readonly CommittedTx[];
  readonly totalCount: number;
  /** More matches may exist than totalCount: narrow the height range. */
  readonly totalCapped: boolean;
  readonly page: number;
  readonly perPage: number;
}

export interface TxSearchOptions {
  readonly sender?: Address;
  readonly minHeight?: number;
  readonly maxHeight?: number;
  readonly page?: number;
  readonly perPage?: number;
  readonly order?: 'asc' | 'desc';
}

export interface ValidatorInfo {
  readonly index: number;
  readonly name: string;
  readonly address: Address;
  readonly publicKey: Uint8Array;
  readonly p2p: string;
  readonly rpc: string | null;
}

export interface ValidatorSet {
  readonly count: number;
  /** Distinct signers a certificate needs. */
  readonly quorum: number;
  readonly validators: readonly ValidatorInfo[];
}

export interface GenesisInfo {
  /** Checked: the hash of `genesis`. */
  readonly genesisHash: Hash;
  readonly genesis: Genesis;
}

export interface QueueStatus {
  readonly queuedBytes: number;
  readonly queuedFrames: number;
  readonly sentFrames: number;
  readonly droppedFrames: number;
  readonly streamOpen: boolean;
}

export interface PeerStatus {
  readonly index: number;
  readonly role: 'validator' | 'observer';
  readonly name: string | null;
  readonly nodeId: string;
  readonly address: string | null;
  readonly connected: boolean;
  readonly banned: boolean;
  readonly penalties: number;
  readonly consensusQueue: QueueStatus | null;
  readonly txQueue: QueueStatus;
}

export interface NetInfo {
  readonly nodeId: string;
  readonly listenAddresses: readonly string[];
  readonly connectedPeers: number;
  readonly peers: readonly PeerStatus[];
}

export interface MempoolSize {
  readonly count: number;
  readonly totalBytes: number;
}

export interface UnconfirmedTxs extends MempoolSize {
  readonly txs: readonly PendingTx[];
}

/** A consensus message's essentials: what its signature covers, and the signature. */
export interface MessageSummary {
  readonly type: ConsensusMessageType;
  readonly validator: number;
  readonly view: number | null;
  readonly height: number | null;
  readonly blockHash: Hash | null;
  readonly signature: Uint8Array | null;
}

export interface Evidence {
  readonly validator: number;
  readonly kind: 'pre-prepare' | 'prepare' | 'commit' | 'checkpoint';
  readonly view: number;
  readonly height: number;
  readonly first: MessageSummary;
  readonly second: MessageSummary;
}

export interface BroadcastAsyncResult {
  readonly hash: Hash;
}

export interface BroadcastSyncResult {
  readonly hash: Hash;
  /** The node already had it (pending or committed). */
  readonly duplicate: boolean;
}

/** Where a tx committed. */
export interface TxLocation {
  readonly hash: Hash;
  readonly height: number;
  readonly index: number;
}

// ---------------------------------------------------------------------------------------
// Subscription events (src/rpc/events.ts)

export interface BlockEvent {
  readonly height: number;
  readonly hash: Hash;
  readonly parentHash: Hash;
  /** The proposer's header timestamp. */
  readonly time: number;
  readonly view: number;
  readonly proposer: number;
  readonly stateRoot: Hash;
  readonly txCount: number;
  /** The tx hashes in block order. */
  readonly txs: readonly Hash[];
  /** Who signed the commit certificate (fetch `commit {height}` for the signatures themselves). */
  readonly certificate: { readonly view: number; readonly height: number; readonly blockHash: Hash; readonly signers: readonly number[] };
}

export interface TxEvent {
  readonly hash: Hash;
  readonly height: number;
  readonly index: number;
  readonly blockHash: Hash;
  readonly sender: Address;
  readonly kind: TxKind;
}
