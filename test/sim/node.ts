/**
 * One simulated node: a replica plus what the real node would keep around it — the WAL, the
 * committed chain with its state, speculative states of executed blocks, and a mempool. It
 * carries out the effects that touch only its own storage (build, execute, commit, prune);
 * the cluster routes messages between nodes. A crash wipes everything but the WAL and the
 * committed chain (the store), exactly what a restarted process would find on disk.
 */
import type { Block, ConsensusMessage, QuorumCertificate, Tx, PreparedCertificate } from '../../src/codec/types.js';
import type { Effect, RestoredState } from '../../src/consensus/types.js';
import { bytesEqual, toHex, type Hash } from '../../src/crypto/index.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { buildBlock, checkHeaderLinks, executeBlock, validateTxStateless, type ExecutionContext } from '../../src/ledger/execute.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { hashTx, senderAddress } from '../../src/ledger/tx.js';
import type { Behavior } from './byzantine.js';
import type { SimChain } from './chain.js';
import { Mempool } from './mempool.js';
import type { Replica } from '../../src/consensus/replica.js';

export interface CommittedBlock {
  readonly block: Block;
  readonly blockHash: Hash;
  readonly certificate: QuorumCertificate;
}

interface Executed {
  readonly state: LedgerState;
  readonly block: Block;
}

type BuildEffect = Extract<Effect, { type: 'build-proposal' }>;

/** Why the driver refuses an effect: the replica broke its side of the contract. */
export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

export class SimNode {
  replica: Replica | undefined;
  /** Bumped by every crash, so answers scheduled before it are dropped after it. */
  incarnation = 0;
  restarts = 0;
  /** Whether a replica ever ran here: the node's started record in the WAL (RestoredState.ranBefore). */
  booted = false;
  /** Persisted messages, oldest first (the store's WAL). */
  wal: ConsensusMessage[] = [];
  /** Committed blocks; chain[i] is height i + 1 (the store). */
  readonly chain: CommittedBlock[] = [];
  committedState: LedgerState;
  /** Executed but uncommitted blocks by hash (hex). */
  private speculative = new Map<string, Executed>();
  /**
   * Blocks built or executed in the current view and not committed: their txs are "in a
   * proposed block". A new view may drop any of them, so entering one forgets them all and
   * their txs count as pending again (overcounting costs a build that comes back empty;
   * undercounting could leave txs that no one ever proposes).
   */
  private readonly inFlight = new Map<string, Block>();
  readonly mempool = new Mempool();
  /** Hashes (hex) of txs whose signature this node checked: block execution skips them. */
  private readonly verified = new Set<string>();
  private readonly execution: ExecutionContext;
  /** The pending count last reported to the replica (-1: none since start). */
  lastPending = -1;
  /** The last view the replica said it entered. */
  view = 0;

  constructor(
    readonly id: number,
    readonly index: number,
    readonly name: string,
    readonly honest: boolean,
    private readonly chainFacts: SimChain,
    readonly skew: number,
    readonly behavior: Behavior | undefined,
  ) {
    this.committedState = chainFacts.genesisState;
    this.execution = { ...chainFacts.execution, alreadyVerified: (h) => this.verified.has(toHex(h)) };
  }

  get up(): boolean {
    return this.replica !== undefined;
  }

  get height(): number {
    return this.chain.length;
  }

  tip(): { height: number; hash: Hash; timestamp: number } {
    const last = this.chain[this.chain.length - 1];
    if (last === undefined) return { height: 0, hash: this.chainFacts.genesisHash, timestamp: this.chainFacts.genesis.genesisTime };
    return { height: last.block.header.height, hash: last.blockHash, timestamp: last.block.header.timestamp };
  }

  // -------------------------------------------------------------------------------------
  // Mempool

  /** Admits a client tx (signature checked once, duplicates and stale nonces refused). */
  admit(tx: Tx): boolean {
    const hex = toHex(hashTx(tx));
    if (this.mempool.has(hex)) return false;
    if (!this.verified.has(hex)) {
      if (!validateTxStateless(tx, this.chainFacts.genesis.chainId, this.chainFacts.keys.verifier).ok) return false;
      this.verified.add(hex);
    }
    if (tx.nonce < this.committedState.account(senderAddress(tx)).nonce) return false;
    return this.mempool.add(hex, tx);
  }

  /** Txs waiting for a block: the mempool less those in blocks in flight (see inFlight). */
  pending(): number {
    return this.mempool.pending;
  }

  private setInFlight(hex: string, block: Block): void {
    if (this.inFlight.has(hex)) return;
    this.inFlight.set(hex, block);
    this.mempool.markInFlight(block.txs.map((tx) => toHex(hashTx(tx))));
  }

  // -------------------------------------------------------------------------------------
  // Effects on this node's storage

  persist(message: ConsensusMessage): void {
    this.wal.push(message);
  }

  /** Prepared certificates persisted by the replica (they survive crashes, like the WAL). */
  prepared: { certificate: PreparedCertificate; block: Block }[] = [];

  persistPrepared(certificate: PreparedCertificate, block: Block): void {
    this.prepared.push({ certificate, block });
  }

  /** The parent's state and header facts, or undefined when this node has not executed it. */
  private parentOf(parentHash: Hash): { state: LedgerState; height: number; timestamp: number } | undefined {
    const tip = this.tip();
    if (bytesEqual(parentHash, tip.hash)) return { state: this.committedState, height: tip.height, timestamp: tip.timestamp };
    const e = this.speculative.get(toHex(parentHash));
    if (e === undefined) return undefined;
    return { state: e.state, height: e.block.header.height, timestamp: e.block.header.timestamp };
  }

  build(effect: BuildEffect): Block | null {
    const parent = this.parentOf(effect.parentHash);
    if (parent === undefined) throw new ContractError(`build-proposal at height ${effect.height} on parent ${toHex(effect.parentHash).slice(0, 8)} that the driver has not executed`);
    if (effect.height !== parent.height + 1) {
      throw new ContractError(`build-proposal at height ${effect.height} on a parent at height ${parent.height}`);
    }
    const built = buildBlock(
      parent.state,
      this.mempool.candidates(parent.state),
      {
        chainId: this.chainFacts.genesis.chainId,
        height: effect.height,
        parentHash: effect.parentHash,
        view: effect.view,
        proposer: effect.proposer,
        timestamp: effect.timestamp,
      },
      this.execution,
    );
    // Candidates apply by construction, so anything rejected is invalid for good.
    for (const r of built.rejected) if (r.txHash !== undefined) this.mempool.delete(toHex(r.txHash));
    if (built.block.txs.length === 0) return null;
    const hex = toHex(hashBlockHeader(built.block.header));
    this.speculative.set(hex, { state: built.executed.state, block: built.block });
    this.setInFlight(hex, built.block);
    return built.block;
  }

  /**
   * Another valid block for the same slot as `block` (a Byzantine primary's second
   * proposal): one tx fewer and a later timestamp, built on the same parent state.
   */
  alternative(block: Block): Block | undefined {
    const h = block.header;
    const parent = this.parentOf(h.parentHash);
    if (parent === undefined) return undefined;
    const built = buildBlock(
      parent.state,
      block.txs.slice(0, -1),
      { chainId: h.chainId, height: h.height, parentHash: h.parentHash, view: h.view, proposer: h.proposer, timestamp: h.timestamp + 1 },
      this.execution,
    );
    return built.block;
  }

  /** Validates `block` on its parent's state: true/false, or a contract error if the parent is unknown. */
  execute(block: Block, blockHash: Hash): boolean {
    if (!bytesEqual(hashBlockHeader(block.header), blockHash)) throw new ContractError(`execute effect's blockHash is not its header's hash (height ${block.header.height})`);
    const hex = toHex(blockHash);
    if (this.speculative.has(hex)) {
      this.setInFlight(hex, block);
      return true;
    }
    const parent = this.parentOf(block.header.parentHash);
    if (parent === undefined) {
      throw new ContractError(`execute at height ${block.header.height} (${hex.slice(0, 8)}) before its parent ${toHex(block.header.parentHash).slice(0, 8)} was executed`);
    }
    const links = checkHeaderLinks(block.header, { height: parent.height, hash: block.header.parentHash, timestamp: parent.timestamp }, this.chainFacts.genesis.chainId);
    if (!links.ok) return false;
    const result = executeBlock(parent.state, block, this.execution);
    if (!result.ok) return false;
    this.speculative.set(hex, { state: result.value.state, block });
    this.setInFlight(hex, block);
    return true;
  }

  /** Whether this node executed `blockHash` as valid and still knows it, or committed it at `height`. */
  hasExecuted(blockHash: Hash, height: number): boolean {
    if (this.speculative.has(toHex(blockHash))) return true;
    const committed = this.chain[height - 1];
    return committed !== undefined && bytesEqual(committed.blockHash, blockHash);
  }

  /** A new view: whatever was in flight may be dropped (see inFlight). */
  viewEntered(view: number): void {
    this.view = view;
    this.inFlight.clear();
    this.mempool.clearInFlight();
  }

  /** Appends a block to the chain; throws ContractError if it does not extend the tip or does not execute. */
  commit(block: Block, blockHash: Hash, certificate: QuorumCertificate): void {
    const tip = this.tip();
    const h = block.header;
    if (h.height !== tip.height + 1) throw new ContractError(`commit of height ${h.height} on tip ${tip.height}`);
    if (!bytesEqual(h.parentHash, tip.hash)) throw new ContractError(`commit of height ${h.height} whose parent is not the tip`);
    if (!bytesEqual(hashBlockHeader(h), blockHash)) throw new ContractError(`commit of height ${h.height}: blockHash is not its header's hash`);
    const hex = toHex(blockHash);
    let state = this.speculative.get(hex)?.state;
    if (state === undefined) {
      const links = checkHeaderLinks(h, tip, this.chainFacts.genesis.chainId);
      if (!links.ok) throw new ContractError(`commit of height ${h.height} that does not link: ${links.error.message}`);
      const result = executeBlock(this.committedState, block, this.execution);
      if (!result.ok) throw new ContractError(`commit of height ${h.height} that does not execute: ${result.error.message}`);
      state = result.value.state;
    }
    this.chain.push({ block, blockHash, certificate });
    this.committedState = state;
    const senders = new Set<string>();
    for (const tx of block.txs) {
      this.mempool.delete(toHex(hashTx(tx)));
      senders.add(senderAddress(tx));
    }
    for (const sender of senders) this.mempool.dropBelow(sender, state.account(sender).nonce);
    this.dropSpeculativeAtOrBelow(h.height);
    for (const [hex, b] of this.inFlight) {
      if (b.header.height > h.height) continue;
      this.inFlight.delete(hex);
      this.mempool.unmarkInFlight(b.txs.map((tx) => toHex(hashTx(tx))));
    }
  }

  stableCheckpoint(height: number): void {
    this.dropSpeculativeAtOrBelow(height);
    this.prepared = this.prepared.filter((c) => c.certificate.height > height);
    this.wal = this.wal.filter((m) => {
      switch (m.type) {
        case 'pre-prepare':
        case 'prepare':
        case 'commit':
        case 'checkpoint':
          return m.height > height;
        default:
          return true;
      }
    });
    // Of the view-change and new-view messages only the latest of each matters.
    let lastVc = -1;
    let lastNv = -1;
    this.wal.forEach((m, i) => {
      if (m.type === 'view-change') lastVc = i;
      if (m.type === 'new-view') lastNv = i;
    });
    this.wal = this.wal.filter((m, i) => (m.type !== 'view-change' || i === lastVc) && (m.type !== 'new-view' || i === lastNv));
  }

  private dropSpeculativeAtOrBelow(height: number): void {
    for (const [hex, e] of this.speculative) if (e.block.header.height <= height) this.speculative.delete(hex);
  }

  /** Certified blocks in [from, to], at most `max` of them (what a sync server answers). */
  certifiedRange(from: number, to: number, max: number): CommittedBlock[] {
    const out: CommittedBlock[] = [];
    for (let h = Math.max(1, from); h <= Math.min(to, this.height) && out.length < max; h++) out.push(this.chain[h - 1] as CommittedBlock);
    return out;
  }

  // -------------------------------------------------------------------------------------
  // Crash and restart

  /** Loses everything in memory: the replica, the mempool, speculative states. */
  crash(): void {
    this.replica = undefined;
    this.incarnation++;
    this.mempool.clear();
    this.speculative.clear();
    this.inFlight.clear();
    this.verified.clear();
    this.lastPending = -1;
  }

  restoredState(now: number): RestoredState {
    const tip = this.tip();
    const certificate = this.chain[this.chain.length - 1]?.certificate ?? null;
    return { committed: { ...tip, certificate }, wal: [...this.wal], prepared: [...this.prepared], ranBefore: this.booted, now };
  }
}
