import type { Result } from '../codec/result.js';
import type { Block, BlockHeader, ConsensusMessage, QuorumCertificate, Tx } from '../codec/types.js';
import type { Hash } from '../crypto/hash.js';
import type { Genesis } from '../ledger/genesis.js';
import type { MerkleProof } from '../ledger/merkle.js';
import type { StateProof } from '../ledger/smt.js';
import type { MempoolError } from '../mempool/errors.js';

/**
 * What the RPC server needs from the node. The node implements it; tests fake it. Every
 * method is cheap or bounded: the server calls them on the request path.
 */
export interface NodeApi {
  /** Admission to the mempool (src/mempool Mempool.add). A duplicate is a success. */
  submitTx(bytes: Uint8Array): Result<{ readonly hash: Hash; readonly duplicate: boolean }, MempoolError>;
  /**
   * Resolves with the tx's place in the chain once it commits, or undefined after
   * `timeoutMs`. Resolves at once when the tx is already committed (callers check after
   * submitting, so a commit between the two must not be missed). Never rejects for a
   * timeout.
   */
  waitForCommit(hash: Hash, timeoutMs: number): Promise<TxLocation | undefined>;
  /** Where a committed tx is (the store's tx index), or undefined. */
  txLocation(hash: Hash): Promise<TxLocation | undefined>;
  status(): NodeStatus;
  health(): NodeHealth;
  /** Reads of the committed chain and state, the mempool and the network: the read methods. */
  readonly chain: ChainQueries;
}

/**
 * The read side. Block reads come from the store, so every height up to `latestHeight()`
 * has its block, certificate and indexes. State reads (account, record) come from one
 * committed snapshot whose height is never above `latestHeight()`, so a proof's header
 * can always be fetched (with its certificate) right after the read.
 *
 * Every call is bounded by its arguments; the RPC layer bounds those (page sizes, spans).
 */
export interface ChainQueries {
  readonly genesis: Genesis;
  /** The highest stored height (0 before block 1). */
  latestHeight(): number;
  header(height: number): Promise<HeaderView | undefined>;
  commit(height: number): Promise<CommitView | undefined>;
  block(height: number): Promise<BlockView | undefined>;
  blockByHash(hash: Hash): Promise<BlockView | undefined>;
  /** The stored headers of [minHeight, maxHeight], newest first. */
  headers(minHeight: number, maxHeight: number): Promise<HeaderView[]>;
  /** A committed tx by hash; with `prove`, its inclusion proof against the header's txRoot. */
  tx(hash: Hash, prove: boolean): Promise<CommittedTxView | undefined>;
  /** Committed txs by sender and/or height range, in (height, index) order; see TxSearch. */
  searchTxs(search: TxSearch): Promise<TxSearchResult>;
  /** An account in the committed snapshot, and the nonce its next tx should carry. */
  account(address: string, prove: boolean): AccountView;
  /** A data record in the committed snapshot. */
  record(owner: string, key: string, prove: boolean): RecordView;
  /** Pending txs: the counts, and the first `limit` in arrival order. */
  unconfirmed(limit: number): UnconfirmedView;
  netInfo(): NetInfo;
  /** Conflicting signed messages this node has seen (bounded by the node). */
  evidence(): readonly EvidenceView[];
}

export interface HeaderView {
  /** The block's hash (of its header). */
  readonly hash: Hash;
  readonly header: BlockHeader;
}

export interface CommitView extends HeaderView {
  readonly certificate: QuorumCertificate;
}

export interface BlockView extends CommitView {
  /** `block.header` is `header`. */
  readonly block: Block;
}

export interface TxProof extends MerkleProof {
  /** The header's txRoot the proof leads to; `total` is the header's txCount. */
  readonly txRoot: Hash;
}

export interface CommittedTxView {
  readonly tx: Tx;
  readonly hash: Hash;
  readonly height: number;
  /** The tx's index in its block. */
  readonly index: number;
  /** Present when asked for. */
  readonly proof?: TxProof;
}

/** tx_search never looks past this many matches: pages end there, and so does counting. */
export const TX_SEARCH_MAX_RESULTS = 10_000;

export interface TxSearch {
  /** Only txs sent by this address (40 lowercase hex); all txs when absent. */
  readonly sender?: string;
  readonly minHeight: number;
  /** Clamped to the latest height. */
  readonly maxHeight: number;
  /** 'asc': oldest first, by (height, index); 'desc': newest first. */
  readonly order: 'asc' | 'desc';
  /** Matches to skip; offset + limit <= TX_SEARCH_MAX_RESULTS. */
  readonly offset: number;
  readonly limit: number;
}

export interface TxSearchResult {
  readonly txs: readonly CommittedTxView[];
  /** Matches counted; counting stops at TX_SEARCH_MAX_RESULTS (then `capped`). */
  readonly total: number;
  /** There may be more matches than `total`: narrow the height range to see them. */
  readonly capped: boolean;
}

/** A state entry's proof against the state root of the header at the view's height. */
export interface StateProofView {
  readonly stateRoot: Hash;
  /** The state key (ledger/state.ts accountKey / recordKey). */
  readonly key: Uint8Array;
  /** The stored bytes; undefined when the key holds nothing (the proof proves absence). */
  readonly value: Uint8Array | undefined;
  readonly proof: StateProof;
}

export interface AccountView {
  readonly address: string;
  /** Committed balance (u64). */
  readonly balance: bigint;
  /** Committed nonce: how many txs of this account are in the chain. */
  readonly nonce: bigint;
  /** The nonce for the account's next tx, counting its txs waiting in this node's mempool. */
  readonly pendingNonce: bigint;
  readonly canTransact: boolean;
  readonly isAdmin: boolean;
  /** The committed height this view is at. */
  readonly height: number;
  /** Present when asked for. */
  readonly proof?: StateProofView;
}

export interface RecordView {
  readonly owner: string;
  readonly key: string;
  readonly height: number;
  /** Undefined when the owner has no record under `key`. */
  readonly value: Uint8Array | undefined;
  readonly proof?: StateProofView;
}

export interface UnconfirmedView {
  /** All pending txs. */
  readonly count: number;
  /** Their encoded bytes. */
  readonly bytes: number;
  readonly txs: readonly { readonly tx: Tx; readonly hash: Hash }[];
}

export interface QueueStats {
  readonly queuedBytes: number;
  readonly queuedFrames: number;
  readonly sentFrames: number;
  readonly droppedFrames: number;
  readonly streamOpen: boolean;
}

export interface PeerInfo {
  /** The peer's index: its genesis validator index (observers follow the validators). */
  readonly index: number;
  readonly role: 'validator' | 'observer';
  /** The genesis name (validators). */
  readonly name: string | undefined;
  /** Its libp2p peer id. */
  readonly peerId: string;
  /** Where it is dialed (the genesis multiaddr), for validators. */
  readonly address: string | undefined;
  readonly connected: boolean;
  readonly banned: boolean;
  /** Misbehaviour reports against it. */
  readonly penalties: number;
  /** Undefined for observers. */
  readonly consensusQueue: QueueStats | undefined;
  readonly txQueue: QueueStats;
}

export interface NetInfo {
  readonly nodeId: string;
  readonly listenAddresses: readonly string[];
  /** Every known peer (this node excluded), connected or not. */
  readonly peers: readonly PeerInfo[];
}

/** Two messages of one kind and slot, both validly signed by `validator`, that disagree. */
export interface EvidenceView {
  readonly validator: number;
  readonly kind: 'pre-prepare' | 'prepare' | 'commit' | 'checkpoint';
  readonly view: number;
  readonly height: number;
  readonly first: ConsensusMessage;
  readonly second: ConsensusMessage;
}

export interface TxLocation {
  readonly height: number;
  /** The tx's index in its block. */
  readonly index: number;
}

export interface NodeStatus {
  /** The node's libp2p peer id. */
  readonly nodeId: string;
  readonly chainId: string;
  /** This node's index in the genesis validator list; null for an observer. */
  readonly validatorIndex: number | null;
  /** The highest committed height (0 before block 1). */
  readonly latestHeight: number;
  /** The committed tip's block hash (the genesis hash at height 0). */
  readonly latestBlockHash: Hash;
  /** The tip's header timestamp (the genesis time at height 0), ms since the Unix epoch. */
  readonly latestBlockTime: number;
  /** The consensus view the replica is in. */
  readonly view: number;
  /** True while the node fetches certified blocks to catch up with its peers. */
  readonly catchingUp: boolean;
  /** Connected peers. */
  readonly peers: number;
}

export interface NodeHealth {
  readonly ok: boolean;
  /** Why the node is not healthy; empty when it is. */
  readonly reasons: readonly string[];
}
