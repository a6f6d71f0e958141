/**
 * The cluster driver: N simulated nodes, the network between them and the clients around
 * them, run on one virtual clock. It carries out each replica's effects as the real node
 * will (persist before send, build and execute on speculative state, commit in height
 * order, fetch from a random peer), feeds the answers back as events, and shows every
 * commit and every honest message to the checker.
 */
import { decodeConsensusMessage, encodeConsensusMessage } from '../../src/codec/consensus.js';
import type { ConsensusMessage, Tx } from '../../src/codec/types.js';
import { Replica } from '../../src/consensus/replica.js';
import type { Effect, ReplicaEvent } from '../../src/consensus/types.js';
import { toHex } from '../../src/crypto/index.js';
import { hashTx } from '../../src/ledger/tx.js';
import { makeBehavior, type StrategyName } from './byzantine.js';
import { EPOCH, makeSimChain, type ChainParams, type SimChain } from './chain.js';
import { Checker, ViolationError } from './checker.js';
import { Forger } from './forge.js';
import { Network, type NetworkProfile } from './network.js';
import { ContractError, SimNode } from './node.js';
import type { Prng } from './prng.js';
import { EventQueue } from './queue.js';
import { describeMessage, shortHash, type Transcript } from './transcript.js';

export interface ByzantineSpec {
  readonly index: number;
  readonly strategy: StrategyName;
}

export interface ClusterOptions {
  readonly chain: ChainParams;
  readonly byzantine: readonly ByzantineSpec[];
  /** Each node's tick period (virtual ms). */
  readonly tickMs: number;
  /** Clock skew of each node, by node id (validators first, then twins); missing = 0. */
  readonly skews: readonly number[];
  readonly network: NetworkProfile;
  /** Round-trip every message through the codec (slower, closer to the real node). */
  readonly wire: boolean;
  /** Upper bound of the time a build or an execution takes (uniform in [0, this]). */
  readonly execDelayMs: number;
  /** Blocks a peer returns per fetch request. */
  readonly fetchBatch: number;
  readonly transcript?: Transcript;
  /** Called after an honest node commits; `first` when no honest node had committed that height before. */
  readonly onCommit?: (node: SimNode, height: number, first: boolean) => void;
  /** Message types left out of the transcript (status beacons are noise in most scripts). */
  readonly quiet?: ReadonlySet<ConsensusMessage['type']>;
}

export interface ClusterStats {
  commits: number;
  viewChanges: number;
  maxView: number;
  fetches: number;
  synced: number;
  evidence: number;
  misbehaviour: number;
  crashes: number;
  restarts: number;
  txsSubmitted: number;
  steps: number;
}

export class Cluster {
  readonly queue = new EventQueue();
  readonly net: Network;
  readonly checker: Checker;
  readonly nodes: SimNode[] = [];
  readonly chain: SimChain;
  readonly stats: ClusterStats = {
    commits: 0,
    viewChanges: 0,
    maxView: 0,
    fetches: 0,
    synced: 0,
    evidence: 0,
    misbehaviour: 0,
    crashes: 0,
    restarts: 0,
    txsSubmitted: 0,
    steps: 0,
  };
  private readonly byIndex: SimNode[][] = [];
  private readonly byzantineIndexes: ReadonlySet<number>;
  private readonly pendingReport = new Set<SimNode>();
  private readonly transcript: Transcript | undefined;
  private readonly quiet: ReadonlySet<string>;

  constructor(
    readonly prng: Prng,
    readonly options: ClusterOptions,
  ) {
    this.chain = makeSimChain(options.chain);
    const n = options.chain.n;
    this.transcript = options.transcript;
    this.quiet = options.quiet ?? new Set(['status']);
    this.byzantineIndexes = new Set(options.byzantine.map((b) => b.index));
    if (this.byzantineIndexes.size > Math.floor((n - 1) / 3)) throw new RangeError(`more than f = ${Math.floor((n - 1) / 3)} byzantine validators`);
    this.checker = new Checker(this.chain.keys.validators, this.chain.keys.verifier, () => this.queue.now);

    const strategyOf = new Map(options.byzantine.map((b) => [b.index, b.strategy]));
    const twins = options.byzantine.filter((b) => b.strategy === 'twins').map((b) => b.index);
    const specs = [...Array.from({ length: n }, (_, i) => ({ index: i, twin: false })), ...twins.map((index) => ({ index, twin: true }))];
    for (const [id, spec] of specs.entries()) {
      const strategy = strategyOf.get(spec.index);
      const name = spec.twin ? `r${spec.index}'` : `r${spec.index}`;
      const skew = options.skews[id] ?? 0;
      // The node is created first so the host can close over it.
      let node: SimNode;
      const behavior =
        strategy === undefined
          ? undefined
          : makeBehavior(strategy, {
              self: spec.index,
              n,
              prng,
              forger: new Forger(this.chain.keys.validatorSigner(spec.index), spec.index, n, prng),
              maxClockSkewMs: options.chain.maxClockSkewMs,
              now: () => this.clockOf(node),
              view: () => node.replica?.view ?? node.view,
              chain: () => node.chain,
              send: (to, m) => this.sendRaw(node, to, m),
              others: () => this.otherIndexes(spec.index),
              alternative: (block) => node.alternative(block),
            });
      node = new SimNode(id, spec.index, name, strategy === undefined, this.chain, skew, behavior);
      this.nodes.push(node);
      (this.byIndex[spec.index] ??= []).push(node);
    }
    this.net = new Network(this.queue, prng, this.nodes.length, options.network);
  }

  // -------------------------------------------------------------------------------------
  // Running

  /** Starts every node's replica and tick loop at the current virtual time. */
  start(): void {
    for (const node of this.nodes) {
      if (node.behavior?.runsReplica !== false) this.boot(node);
      this.scheduleTick(node, this.prng.int(this.options.tickMs));
    }
  }

  /** Runs events up to virtual time `until` (inclusive). */
  runUntilTime(until: number): void {
    while (this.queue.runNext(until)) this.stats.steps++;
    this.queue.advanceTo(until);
  }

  /** Runs until `done()` holds (checked after each event) or virtual time `deadline`; returns whether it held. */
  runUntil(done: () => boolean, deadline: number): boolean {
    if (done()) return true;
    while (this.queue.runNext(deadline)) {
      this.stats.steps++;
      if (done()) return true;
    }
    this.queue.advanceTo(deadline);
    return done();
  }

  get now(): number {
    return this.queue.now;
  }

  clockOf(node: SimNode): number {
    return EPOCH + this.queue.now + node.skew;
  }

  honestNodes(): SimNode[] {
    return this.nodes.filter((n) => n.honest);
  }

  isHonestIndex(index: number): boolean {
    return !this.byzantineIndexes.has(index);
  }

  /** The view most honest replicas are in, and its primary (for faults aimed at the primary). */
  currentPrimary(): number {
    let view = 0;
    for (const node of this.honestNodes()) if (node.replica !== undefined && node.replica.view > view) view = node.replica.view;
    return view % this.options.chain.n;
  }

  log(text: string): void {
    this.transcript?.add(this.queue.now, text);
  }

  // -------------------------------------------------------------------------------------
  // Faults

  crash(node: SimNode): void {
    if (!node.up) return;
    node.crash();
    this.stats.crashes++;
    this.log(`${node.name} CRASH`);
  }

  restart(node: SimNode): void {
    if (node.up || node.behavior?.runsReplica === false) return;
    this.boot(node);
    node.restarts++;
    this.stats.restarts++;
    this.log(`${node.name} RESTART height=${node.height} wal=${node.wal.length}`);
  }

  partition(groups: readonly (readonly SimNode[])[]): void {
    this.net.partition(groups.map((g) => g.map((n) => n.id)));
    this.log(`NET partition ${groups.map((g) => `[${g.map((n) => n.name).join(',')}]`).join(' ')}`);
  }

  heal(): void {
    if (!this.net.partitioned) return;
    this.net.heal();
    this.log('NET heal');
  }

  private boot(node: SimNode): void {
    const crypto = this.chain.keys.consensusCrypto(node.index);
    const restored = node.restoredState(this.clockOf(node));
    node.booted = true; // the started record is on disk before the replica sends anything
    try {
      node.replica = new Replica(this.chain.replicaConfig(node.index), crypto, restored);
    } catch (e) {
      this.checker.fail('exception', node.name, `replica constructor threw: ${errorText(e)}`, { height: restored.committed.height, wal: restored.wal.length });
    }
    this.schedulePendingReport(node);
  }

  private scheduleTick(node: SimNode, delay: number): void {
    this.queue.after(delay, () => {
      if (node.up) {
        this.step(node, { type: 'tick', now: this.clockOf(node) });
        node.behavior?.onTick();
      }
      this.scheduleTick(node, this.options.tickMs);
    });
  }

  // -------------------------------------------------------------------------------------
  // Clients

  /**
   * A client hands `tx` to `targets` (each after a network delay, subject to loss). `valid`
   * says whether the client meant it to be committable (the checker holds the chain to it).
   */
  submit(tx: Tx, valid: boolean, targets: readonly SimNode[]): void {
    this.checker.onSubmit(tx, valid);
    this.stats.txsSubmitted++;
    // Nodes pass on what a client gave them, unless the client told everyone itself.
    const gossip = targets.length < this.nodes.length;
    for (const node of targets) {
      if (this.prng.chance(this.net.currentProfile.lossRate)) continue;
      this.queue.after(this.net.delay(), () => this.receiveTx(node, tx, gossip));
    }
  }

  /** Puts txs straight into every running node's mempool, as if gossip had already spread them (benchmarks). */
  preload(txs: readonly Tx[]): void {
    for (const tx of txs) this.checker.onSubmit(tx, true);
    this.stats.txsSubmitted += txs.length;
    for (const node of this.nodes) {
      if (!node.up) continue;
      for (const tx of txs) node.admit(tx);
      this.schedulePendingReport(node);
    }
  }

  private receiveTx(node: SimNode, tx: Tx, gossip: boolean): void {
    if (!node.up || !node.admit(tx)) return;
    this.schedulePendingReport(node);
    if (!gossip || !node.honest) return;
    for (const other of this.nodes) {
      if (other !== node) this.net.send(node.id, other.id, () => this.receiveTx(other, tx, false));
    }
  }

  /** Tells the replica its pending count after the current batch of effects, if it changed. */
  private schedulePendingReport(node: SimNode): void {
    if (this.pendingReport.has(node)) return;
    this.pendingReport.add(node);
    const incarnation = node.incarnation;
    this.queue.after(0, () => {
      this.pendingReport.delete(node);
      if (!node.up || node.incarnation !== incarnation) return;
      const pending = node.pending();
      if (pending === node.lastPending) return;
      node.lastPending = pending;
      this.step(node, { type: 'mempool', pending });
    });
  }

  // -------------------------------------------------------------------------------------
  // Stepping replicas and carrying out effects

  private step(node: SimNode, event: ReplicaEvent): void {
    const replica = node.replica;
    if (replica === undefined) return;
    let effects: Effect[];
    try {
      effects = replica.step(event);
      if (node.honest) replica.checkInvariants();
    } catch (e) {
      if (e instanceof ViolationError) throw e;
      const text = errorText(e);
      const invariant = text.includes('invariant');
      if (!invariant && e instanceof Error && process.env['SIM_STACK'] !== undefined) console.error(e.stack);
      this.checker.fail(invariant ? 'invariant' : 'exception', node.name, `${text} (after a ${event.type} event)`, {
        event: event.type,
        view: replica.view,
        height: replica.committedHeight,
      });
    }
    try {
      this.apply(node, effects);
    } catch (e) {
      if (!(e instanceof HaltStep)) throw e;
    }
  }

  private apply(node: SimNode, effects: readonly Effect[]): void {
    // The step's persists form one batch written before anything leaves.
    for (const e of effects) {
      if (e.type === 'persist' || ((e.type === 'send' || e.type === 'broadcast') && e.persist)) node.persist(e.message);
      if (e.type === 'persist-prepared') node.persistPrepared(e.certificate, e.block);
    }
    const incarnation = node.incarnation;
    const later = (run: () => void): void => {
      this.queue.after(this.prng.int(this.options.execDelayMs + 1), () => {
        if (node.incarnation === incarnation) run();
      });
    };
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          this.transmit(node, e.message, [e.to]);
          break;
        case 'broadcast':
          this.transmit(node, e.message, this.otherIndexes(node.index));
          break;
        case 'persist':
          break;
        case 'build-proposal': {
          const block = this.contract(node, () => node.build(e));
          this.schedulePendingReport(node);
          later(() => {
            // After an empty build the replica believes nothing is pending. The driver keeps
            // its own count, so the replica hears again only when that count changes (txs that
            // cannot go into a block yet, such as one after a nonce gap, do not loop forever).
            this.step(node, { type: 'proposal-built', height: e.height, block });
            this.schedulePendingReport(node);
          });
          break;
        }
        case 'execute': {
          const valid = this.contract(node, () => node.execute(e.block, e.blockHash));
          if (!valid) this.log(`${node.name} INVALID h${e.height} ${shortHash(e.blockHash)}`);
          later(() => {
            this.step(node, { type: 'executed', height: e.height, blockHash: e.blockHash, valid });
            this.schedulePendingReport(node);
          });
          break;
        }
        case 'commit':
          this.contract(node, () => node.commit(e.block, e.blockHash, e.certificate));
          if (node.honest) {
            const first = this.checker.committedAt(e.block.header.height) === undefined;
            this.checker.onCommit(node, e.block, e.blockHash, e.certificate);
            this.options.onCommit?.(node, e.block.header.height, first);
          }
          this.stats.commits++;
          this.log(`${node.name} COMMIT h${e.block.header.height} ${shortHash(e.blockHash)} v${e.certificate.view} txs=${e.block.txs.length}`);
          this.schedulePendingReport(node);
          break;
        case 'fetch':
          this.fetch(node, e.fromHeight, e.toHeight);
          break;
        case 'stable-checkpoint':
          node.stableCheckpoint(e.height);
          this.log(`${node.name} STABLE h${e.height} ${shortHash(e.blockHash)}`);
          break;
        case 'view-entered':
          node.viewEntered(e.view);
          if (node.honest) {
            this.stats.viewChanges += e.view > 0 ? 1 : 0;
            this.stats.maxView = Math.max(this.stats.maxView, e.view);
          }
          this.log(`${node.name} VIEW v${e.view} primary=r${e.primary}`);
          this.schedulePendingReport(node);
          break;
        case 'misbehaviour':
          // "Only malice or a bug": an honest replica must never say it of an honest peer.
          this.stats.misbehaviour++;
          this.log(`${node.name} MISBEHAVIOUR r${e.peer}: ${e.reason}`);
          if (node.honest && this.isHonestIndex(e.peer)) {
            this.checker.fail('evidence', node.name, `reported honest r${e.peer} for misbehaviour: ${e.reason}`, { peer: e.peer });
          }
          break;
        case 'persist-prepared':
          break; // persisted above, with the step's other records
        case 'evidence':
          this.stats.evidence++;
          this.log(`${node.name} EVIDENCE r${e.evidence.validator} ${e.evidence.kind} v${e.evidence.view} h${e.evidence.height}`);
          if (node.honest) this.checker.onEvidence(node, e.evidence, (v) => this.isHonestIndex(v));
          break;
        default: {
          // A new kind of effect must be carried out here before the simulator compiles.
          const unknown: never = e;
          throw new Error(`unhandled effect ${JSON.stringify(unknown)}`);
        }
      }
    }
  }

  /** Runs a storage operation; a ContractError there is the replica's fault. */
  private contract<T>(node: SimNode, op: () => T): T {
    try {
      return op();
    } catch (e) {
      if (e instanceof ContractError) {
        if (node.honest) this.checker.fail('contract', node.name, e.message, { view: node.replica?.view ?? -1, height: node.height });
        // A Byzantine node's inner replica may be confused by its own strategy: stop it.
        node.crash();
        throw new HaltStep();
      }
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------
  // Messages

  private otherIndexes(index: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.options.chain.n; i++) if (i !== index) out.push(i);
    return out;
  }

  /** Sends what a replica emitted: the checker sees it, a Byzantine strategy may rewrite it. */
  private transmit(node: SimNode, message: ConsensusMessage, to: readonly number[]): void {
    if (node.honest) this.checker.onHonestSend(node, message, (hash, height) => node.hasExecuted(hash, height));
    if (!this.quiet.has(message.type) && this.transcript !== undefined) {
      this.log(`${node.name} -> ${to.length === this.options.chain.n - 1 ? 'all' : to.map((i) => `r${i}`).join(',')} ${describeMessage(message)}`);
    }
    for (const index of to) {
      const out = node.behavior === undefined ? [message] : node.behavior.outgoing(message, index);
      for (const m of out) this.deliverTo(node, index, m);
    }
  }

  /** Sends without the strategy's rewrite (what a strategy injects itself). */
  private sendRaw(node: SimNode, to: number, message: ConsensusMessage): void {
    if (!node.up && node.behavior?.runsReplica !== false) return;
    this.deliverTo(node, to, message);
  }

  private deliverTo(from: SimNode, index: number, message: ConsensusMessage): void {
    let payload: ConsensusMessage | Uint8Array = message;
    if (this.options.wire) {
      try {
        payload = encodeConsensusMessage(message);
      } catch (e) {
        if (from.honest) this.checker.fail('bad-message', from.name, `sent a ${message.type} that does not encode: ${errorText(e)}`);
        return;
      }
    }
    for (const target of this.byIndex[index] ?? []) {
      if (target === from) continue;
      this.net.send(from.id, target.id, () => this.receive(target, from, payload));
    }
  }

  private receive(node: SimNode, from: SimNode, payload: ConsensusMessage | Uint8Array): void {
    if (!node.up) return;
    let message: ConsensusMessage;
    if (payload instanceof Uint8Array) {
      const decoded = decodeConsensusMessage(payload);
      if (!decoded.ok) {
        if (from.honest) this.checker.fail('bad-message', from.name, `sent bytes that do not decode: ${decoded.error.code} (${decoded.error.message})`);
        return;
      }
      message = decoded.value;
    } else {
      message = payload;
    }
    node.behavior?.observe(from.index, message);
    this.step(node, { type: 'message', from: from.index, message });
  }

  // -------------------------------------------------------------------------------------
  // Catch-up

  private fetch(node: SimNode, from: number, to: number): void {
    this.stats.fetches++;
    const peerIndex = this.prng.pick(this.otherIndexes(node.index));
    const peer = this.prng.pick(this.byIndex[peerIndex] ?? []);
    this.log(`${node.name} FETCH h${from}..h${to} from ${peer.name}`);
    const incarnation = node.incarnation;
    this.net.send(node.id, peer.id, () => {
      if (!peer.up && peer.behavior?.runsReplica !== false) return;
      const answer = peer.behavior?.answerFetch(from, to) ?? 'honest';
      if (answer === 'ignore') return;
      const blocks = answer === 'honest' ? peer.certifiedRange(from, to, this.options.fetchBatch) : answer;
      if (blocks.length === 0) return;
      this.net.send(peer.id, node.id, () => {
        if (node.incarnation !== incarnation) return; // an answer to a request the restarted node never made
        for (const b of blocks) {
          this.stats.synced++;
          this.step(node, { type: 'synced', block: b.block, certificate: b.certificate });
        }
      });
    });
  }

  // -------------------------------------------------------------------------------------
  // Inspection

  /** The lowest committed height among honest nodes that are up (or all honest nodes). */
  minHonestHeight(includeDown = false): number {
    let min = Infinity;
    for (const node of this.nodes) if (node.honest && (includeDown || node.up)) min = Math.min(min, node.height);
    return min === Infinity ? 0 : min;
  }

  maxHeight(): number {
    let max = 0;
    for (const node of this.nodes) if (node.honest) max = Math.max(max, node.height);
    return max;
  }

  /** Every valid submitted tx committed, and every honest node at least at the height that holds the last of them. */
  converged(): boolean {
    if (this.checker.unconfirmedCount > 0) return false;
    const need = this.checker.requiredHeight;
    for (const node of this.nodes) if (node.honest && (!node.up || node.height < need)) return false;
    return true;
  }

  /** The hex hashes of every tx in `node`'s mempool (for tests). */
  mempoolOf(node: SimNode): string[] {
    return [...node.mempool.hashes()];
  }
}

/** Thrown out of an effect when a Byzantine node's inner replica was stopped mid-batch. */
export class HaltStep extends Error {
  constructor() {
    super('step halted');
    this.name = 'HaltStep';
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
