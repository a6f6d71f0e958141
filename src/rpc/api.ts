import type { Result } from '../codec/result.js';
import type { Hash } from '../crypto/hash.js';
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
  /** An account in the committed state, and the nonce its next tx should carry. */
  account(address: string): AccountView;
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
