/**
 * The node's read side (rpc/api.ts ChainQueries): blocks, certificates and txs from the
 * store, state reads with proofs from one committed snapshot, and views of the mempool,
 * the network and recorded evidence.
 *
 * Proof consistency: a state proof is only useful against a header the client can fetch
 * with its certificate. The executor moves its committed state before the store has
 * appended the block, so the snapshot here is not the executor's: it advances in
 * `onCommitted`, which the node calls after the append, with the block and the state it
 * produced. The snapshot's height is therefore always stored, and its root is that
 * header's stateRoot (checked on every advance).
 */
import type { Block, Tx } from '../codec/types.js';
import { bytesEqual } from '../crypto/bytes.js';
import type { Hash } from '../crypto/hash.js';
import { EMPTY_ACCOUNT } from '../ledger/account.js';
import { hashBlockHeader, txHashes } from '../ledger/block.js';
import type { Genesis } from '../ledger/genesis.js';
import { merkleProof } from '../ledger/merkle.js';
import type { LedgerState, StateRead } from '../ledger/state.js';
import { hashTx } from '../ledger/tx.js';
import type { PeerStats } from '../net/index.js';
import {
  TX_SEARCH_MAX_RESULTS,
  type AccountView,
  type BlockView,
  type ChainQueries,
  type CommittedTxView,
  type CommitView,
  type EvidenceView,
  type HeaderView,
  type NetInfo,
  type PeerInfo,
  type RecordView,
  type StateProofView,
  type TxSearch,
  type TxSearchResult,
  type UnconfirmedView,
} from '../rpc/api.js';
import type { BlockStore, SenderTxRef } from '../store/index.js';

/** What the queries read from the store (BlockStore; tests may give a double). */
export type QueryStore = Pick<
  BlockStore,
  'tip' | 'getBlock' | 'getCertificate' | 'getHeader' | 'getHeightByHash' | 'getTxLocation' | 'iterateHeaders' | 'iterateSenderTxs' | 'getTxsByRef'
>;

/** What the queries read from the mempool. */
export interface MempoolReads {
  readonly size: number;
  readonly bytes: number;
  nextNonce(sender: string): bigint;
  pending(limit: number): readonly { readonly tx: Tx; readonly hash: Hash }[];
}

/** What the queries read from the network (P2PNetwork). */
export interface NetworkReads {
  readonly peerId: string;
  listenAddresses(): string[];
  peerStats(peer: number): PeerStats | undefined;
}

export interface QueriesDeps {
  readonly store: QueryStore;
  readonly genesis: Genesis;
  readonly mempool: MempoolReads;
  readonly network: NetworkReads;
  /** This node's index in the peer table (it has no peer slot). */
  readonly self: number;
  /** The committed state the node starts from: the store tip's. */
  readonly committed: { readonly height: number; readonly state: LedgerState };
  readonly evidence: () => readonly EvidenceView[];
}

/** What `onCommitted` needs of a commit: the stored block and the state after it. */
export interface CommittedState {
  readonly block: Block;
  readonly state: LedgerState;
}

export class NodeQueries implements ChainQueries {
  readonly genesis: Genesis;
  private snapshot: { readonly height: number; readonly state: LedgerState };

  constructor(private readonly deps: QueriesDeps) {
    this.genesis = deps.genesis;
    this.snapshot = deps.committed;
  }

  /** Advances the state snapshot; call after the block is appended to the store. */
  onCommitted(committed: CommittedState): void {
    const { header } = committed.block;
    if (header.height <= this.snapshot.height) return;
    if (!bytesEqual(committed.state.root, header.stateRoot)) {
      // The executor checked this before commit: a mismatch is a bug. Keep the old snapshot,
      // whose proofs still hold against a stored header.
      throw new Error(`queries: the state after block ${header.height} does not have the header's state root`);
    }
    this.snapshot = { height: header.height, state: committed.state };
  }

  /** The height state reads are at. */
  get snapshotHeight(): number {
    return this.snapshot.height;
  }

  latestHeight(): number {
    return this.deps.store.tip().height;
  }

  // -------------------------------------------------------------------------------------
  // Blocks

  async header(height: number): Promise<HeaderView | undefined> {
    const header = await this.deps.store.getHeader(height);
    return header === undefined ? undefined : { hash: hashBlockHeader(header), header };
  }

  async commit(height: number): Promise<CommitView | undefined> {
    const [header, certificate] = await Promise.all([this.deps.store.getHeader(height), this.deps.store.getCertificate(height)]);
    if (header === undefined || certificate === undefined) return undefined;
    return { hash: hashBlockHeader(header), header, certificate };
  }

  async block(height: number): Promise<BlockView | undefined> {
    const [block, certificate] = await Promise.all([this.deps.store.getBlock(height), this.deps.store.getCertificate(height)]);
    if (block === undefined || certificate === undefined) return undefined;
    return { hash: hashBlockHeader(block.header), header: block.header, certificate, block };
  }

  async blockByHash(hash: Hash): Promise<BlockView | undefined> {
    const height = await this.deps.store.getHeightByHash(hash);
    return height === undefined ? undefined : this.block(height);
  }

  async headers(minHeight: number, maxHeight: number): Promise<HeaderView[]> {
    const out: HeaderView[] = [];
    for await (const { header } of this.deps.store.iterateHeaders({ from: minHeight, to: maxHeight, reverse: true })) {
      out.push({ hash: hashBlockHeader(header), header });
    }
    return out;
  }

  // -------------------------------------------------------------------------------------
  // Txs

  async tx(hash: Hash, prove: boolean): Promise<CommittedTxView | undefined> {
    const location = await this.deps.store.getTxLocation(hash);
    if (location === undefined) return undefined;
    const block = await this.deps.store.getBlock(location.height);
    const tx = block?.txs[location.index];
    if (block === undefined || tx === undefined) throw new Error(`tx index names block ${location.height} index ${location.index}, which is not stored`);
    const view = { tx, hash, height: location.height, index: location.index };
    if (!prove) return view;
    const proof = merkleProof(txHashes(block.txs), location.index);
    return { ...view, proof: { ...proof, txRoot: block.header.txRoot } };
  }

  async searchTxs(search: TxSearch): Promise<TxSearchResult> {
    const from = Math.max(1, search.minHeight);
    const to = Math.min(search.maxHeight, this.latestHeight());
    if (to < from) return { txs: [], total: 0, capped: false };
    return search.sender === undefined ? this.searchByHeight(search, from, to) : this.searchBySender(search.sender, search, from, to);
  }

  /** One pass over the sender index: counts up to the cap and keeps the page's entries. */
  private async searchBySender(sender: string, search: TxSearch, from: number, to: number): Promise<TxSearchResult> {
    const end = search.offset + search.limit;
    const page: SenderTxRef[] = [];
    let total = 0;
    let capped = false;
    for await (const ref of this.deps.store.iterateSenderTxs(sender, { from, to, reverse: search.order === 'desc' })) {
      if (total === TX_SEARCH_MAX_RESULTS) {
        capped = true;
        break;
      }
      if (total >= search.offset && total < end) page.push(ref);
      total++;
    }
    const txs = await this.deps.store.getTxsByRef(page);
    return { txs: page.map((ref, i) => committedView(txs[i] as Tx, ref.height, ref.index)), total, capped };
  }

  /**
   * Walks the headers (small rows) to count txs and find which blocks hold the page, then
   * reads only those blocks. At most TX_SEARCH_MAX_RESULTS headers are read: blocks are
   * normally never empty, so that many heights hold at least that many txs.
   */
  private async searchByHeight(search: TxSearch, from: number, to: number): Promise<TxSearchResult> {
    const desc = search.order === 'desc';
    const end = search.offset + search.limit;
    const wanted: { height: number; indexes: number[] }[] = [];
    let total = 0;
    let capped = false;
    let scanned = 0;
    for await (const { height, header } of this.deps.store.iterateHeaders({ from, to, reverse: desc })) {
      if (scanned++ === TX_SEARCH_MAX_RESULTS || total === TX_SEARCH_MAX_RESULTS) {
        capped = true;
        break;
      }
      const counted = Math.min(header.txCount, TX_SEARCH_MAX_RESULTS - total);
      if (counted < header.txCount) capped = true;
      // This block's txs are matches [total, total + counted) in result order.
      const lo = Math.max(search.offset, total);
      const hi = Math.min(end, total + counted);
      if (lo < hi) {
        const indexes: number[] = [];
        for (let pos = lo; pos < hi; pos++) indexes.push(desc ? header.txCount - 1 - (pos - total) : pos - total);
        wanted.push({ height, indexes });
      }
      total += counted;
      if (capped) break;
    }
    const txs: CommittedTxView[] = [];
    for (const { height, indexes } of wanted) {
      const block = await this.deps.store.getBlock(height);
      if (block === undefined) throw new Error(`header ${height} is stored but its block is not`);
      for (const index of indexes) {
        const tx = block.txs[index];
        if (tx === undefined) throw new Error(`block ${height} has no tx ${index} though its header counts ${block.header.txCount}`);
        txs.push(committedView(tx, height, index));
      }
    }
    return { txs, total, capped };
  }

  // -------------------------------------------------------------------------------------
  // State

  account(address: string, prove: boolean): AccountView {
    const { height, state } = this.snapshot;
    const read = prove ? state.proveAccount(address) : undefined;
    const account = read === undefined ? state.account(address) : (read.decoded ?? EMPTY_ACCOUNT);
    const view = {
      address,
      balance: account.balance,
      nonce: account.nonce,
      pendingNonce: this.deps.mempool.nextNonce(address),
      canTransact: account.canTransact,
      isAdmin: account.isAdmin,
      height,
    };
    return read === undefined ? view : { ...view, proof: proofView(read) };
  }

  record(owner: string, key: string, prove: boolean): RecordView {
    const { height, state } = this.snapshot;
    if (!prove) return { owner, key, height, value: state.getRecord(owner, key) };
    const read = state.proveRecord(owner, key);
    return { owner, key, height, value: read.value, proof: proofView(read) };
  }

  // -------------------------------------------------------------------------------------
  // Mempool, network, evidence

  unconfirmed(limit: number): UnconfirmedView {
    const { mempool } = this.deps;
    return { count: mempool.size, bytes: mempool.bytes, txs: mempool.pending(limit) };
  }

  netInfo(): NetInfo {
    const { network, genesis } = this.deps;
    const peers: PeerInfo[] = [];
    // Validators first (by genesis index), then observers until the table ends.
    for (let index = 0; ; index++) {
      const stats = network.peerStats(index);
      if (stats === undefined) {
        if (index < genesis.validators.length || index === this.deps.self) continue;
        break;
      }
      const validator = genesis.validators[index];
      peers.push({
        index,
        role: stats.role,
        name: validator?.name,
        peerId: stats.peerId,
        address: validator?.p2p,
        connected: stats.connected,
        banned: stats.banned,
        penalties: stats.penalties,
        consensusQueue: stats.consensus,
        txQueue: stats.tx,
      });
    }
    return { nodeId: network.peerId, listenAddresses: network.listenAddresses(), peers };
  }

  evidence(): readonly EvidenceView[] {
    return this.deps.evidence();
  }
}

function committedView(tx: Tx, height: number, index: number): CommittedTxView {
  return { tx, hash: hashTx(tx), height, index };
}

function proofView(read: StateRead<unknown>): StateProofView {
  return { stateRoot: read.root, key: read.key, value: read.value, proof: read.proof };
}

