/**
 * A NodeApi for the RPC tests: a real Mempool for admission, real blocks (built by the
 * ledger and certified by the testnet's validators) that the test commits (`commit`), and
 * the node's real read side (NodeQueries) over an in-memory chain, or over a real
 * BlockStore when one is given. So every path of the RPC methods runs against real
 * verdicts, real blocks and real proofs; only consensus and the network are left out.
 */
import type { Result } from '../../src/codec/result.js';
import type { Block, QuorumCertificate, Tx } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { Hash } from '../../src/crypto/hash.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { buildBlock, type ParentLink } from '../../src/ledger/execute.js';
import type { StateWrites } from '../../src/ledger/overlay.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { hashTx } from '../../src/ledger/tx.js';
import type { MempoolError } from '../../src/mempool/errors.js';
import { Mempool } from '../../src/mempool/mempool.js';
import type { PeerStats } from '../../src/net/index.js';
import { NodeQueries, type NetworkReads, type QueryStore } from '../../src/node/queries.js';
import type { EvidenceView, NodeApi, NodeHealth, NodeStatus, TxLocation } from '../../src/rpc/api.js';
import type { Testnet } from '../helpers/fixtures.js';
import { MemoryStore } from './memory-store.js';

/** A store the fake appends its blocks to: MemoryStore, or a real BlockStore. */
export type FakeChainStore = QueryStore & {
  append(block: Block, qc: QuorumCertificate, writes: StateWrites): Promise<void> | void;
};

export interface FakeNodeOptions {
  readonly maxTxs?: number;
  /** Default: a fresh MemoryStore. */
  readonly store?: FakeChainStore;
}

/** This fake's index in the validator set (as status reports). */
export const FAKE_SELF = 2;

/** Peers 0, 1 and 3 of a 4-validator testnet; 3 is not connected. */
class FakeNetwork implements NetworkReads {
  readonly peerId = '12D3KooWFake';
  listenAddresses(): string[] {
    return ['/ip4/127.0.0.1/tcp/26676'];
  }
  peerStats(peer: number): PeerStats | undefined {
    if (peer === FAKE_SELF || peer < 0 || peer > 3) return undefined;
    const queue = { queuedBytes: 10 * peer, queuedFrames: peer, sentFrames: 100 + peer, droppedFrames: 0, streamOpen: peer !== 3 };
    return { index: peer, role: 'validator', peerId: `12D3KooWPeer${peer}`, connected: peer !== 3, banned: false, penalties: peer === 1 ? 2 : 0, consensus: queue, tx: queue };
  }
}

export class FakeNode implements NodeApi {
  readonly mempool: Mempool;
  readonly chain: NodeQueries;
  /** What `evidence` serves; tests push to it. */
  readonly evidence: EvidenceView[] = [];
  healthy = true;
  submissions = 0;
  private state: LedgerState;
  private parent: ParentLink;
  private readonly store: FakeChainStore;
  private appending: Promise<unknown> = Promise.resolve();
  private readonly locations = new Map<string, TxLocation>();
  private readonly waiters = new Map<string, ((location: TxLocation) => void)[]>();

  constructor(
    private readonly tn: Testnet,
    options: FakeNodeOptions = {},
  ) {
    this.state = tn.state();
    this.parent = tn.genesisLink;
    this.mempool = new Mempool({ chainId: tn.chainId, verifier: tn.verifier, maxTxs: options.maxTxs ?? 1000, maxBytes: 1 << 20, nonceWindow: 64 }, this.state);
    this.store = options.store ?? new MemoryStore(tn.genesisHash);
    this.chain = new NodeQueries({
      store: this.store,
      genesis: tn.genesis,
      mempool: this.mempool,
      network: new FakeNetwork(),
      self: FAKE_SELF,
      committed: { height: 0, state: this.state },
      evidence: () => this.evidence,
    });
  }

  submitTx(bytes: Uint8Array): Result<{ hash: Hash; duplicate: boolean }, MempoolError> {
    this.submissions++;
    const r = this.mempool.add(bytes);
    return r.ok ? { ok: true, value: { hash: r.value.hash, duplicate: r.value.duplicate } } : r;
  }

  /**
   * Commits `txs` as the next block: built by the ledger, certified by a quorum of the
   * testnet's validators, appended to the store. With a real store the append finishes
   * later: `await settled()` before reading the chain.
   */
  commit(txs: readonly Tx[]): void {
    const built = buildBlock(this.state, txs, this.tn.blockFields(this.parent, { timestamp: this.parent.timestamp + 1_000 }), this.tn.ctx);
    if (built.rejected.length > 0) throw new Error(`FakeNode.commit: ${built.rejected[0]?.error.message}`);
    const { block } = built;
    const height = block.header.height;
    const state = built.executed.state;
    this.state = state;
    this.parent = { height, hash: hashBlockHeader(block.header), timestamp: block.header.timestamp };
    const appended = this.store.append(block, this.tn.certify(block.header), built.executed.writes);
    const onStored = (): void => this.chain.onCommitted({ block, state });
    if (appended instanceof Promise) this.appending = Promise.all([this.appending, appended]).then(onStored);
    else onStored();
    this.mempool.onCommitted(block.txs, state);
    block.txs.forEach((tx, index) => {
      const hex = toHex(hashTx(tx));
      const location = { height, index };
      this.locations.set(hex, location);
      for (const resolve of this.waiters.get(hex) ?? []) resolve(location);
      this.waiters.delete(hex);
    });
  }

  /** Commits whatever the mempool would put in the next block. */
  commitPending(): Tx[] {
    const txs = this.mempool.selectForBlock(this.state, { maxTxs: 1000, maxBytes: 1 << 20 });
    this.commit(txs);
    return txs;
  }

  /** Resolves once every commit so far is in the store and the read side. */
  async settled(): Promise<void> {
    await this.appending;
  }

  waitForCommit(hash: Hash, timeoutMs: number): Promise<TxLocation | undefined> {
    const hex = toHex(hash);
    const known = this.locations.get(hex);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      const list = this.waiters.get(hex) ?? [];
      list.push((location) => {
        clearTimeout(timer);
        resolve(location);
      });
      this.waiters.set(hex, list);
    });
  }

  async txLocation(hash: Hash): Promise<TxLocation | undefined> {
    return this.locations.get(toHex(hash));
  }

  status(): NodeStatus {
    return {
      nodeId: '12D3KooWFake',
      chainId: this.tn.chainId,
      validatorIndex: FAKE_SELF,
      latestHeight: this.parent.height,
      latestBlockHash: this.tn.genesisHash,
      latestBlockTime: this.tn.genesis.genesisTime,
      view: 7,
      catchingUp: false,
      peers: 3,
    };
  }

  health(): NodeHealth {
    return this.healthy ? { ok: true, reasons: [] } : { ok: false, reasons: ['no peers'] };
  }
}
