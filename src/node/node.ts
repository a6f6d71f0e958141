/**
 * The driver: one validator process. It owns the replica (the pure consensus core) and
 * everything the core is not allowed to touch — clock, network, disk, execution, keys —
 * and turns the core's effects into I/O.
 *
 * One loop feeds the replica: events (peer messages, ticks, mempool changes, execution
 * results, fetched blocks) queue up, and each turn steps the replica through all queued
 * events, then carries out the effects: every vote the turn produced is written to the
 * WAL in one synced batch (group commit) before any message of the turn leaves; then
 * sends, executions, commits (appended to the store in height order) and fetches follow
 * in order. Nothing a peer or client sends can throw out of this loop.
 */
import { encodeTx } from '../codec/tx.js';
import {
  decodeConsensusMessage,
  decodeWalRecord,
  encodeConsensusMessage,
  encodePreparedRecord,
  encodeStartedRecord,
  encodeVotePayload,
} from '../codec/consensus.js';
import type { Block, ConsensusMessage, PreparedCertificate, QuorumCertificate, Tx } from '../codec/types.js';
import { Replica } from '../consensus/replica.js';
import type { ConsensusCrypto, Effect, Evidence, ReplicaEvent } from '../consensus/types.js';
import { bytesEqual, toHex } from '../crypto/bytes.js';
import { sign, verify, type Hash, type KeyPair } from '../crypto/index.js';
import { makeVerifier, signingBytes, type Verifier } from '../crypto/domain.js';
import { VerifyWorker, type SignatureCheck } from '../crypto/verify-worker.js';
import { bodyMatchesHeader, hashBlockHeader } from '../ledger/block.js';
import { executionContext, type Receipt } from '../ledger/execute.js';
import { genesisHash, type Genesis } from '../ledger/genesis.js';
import type { LedgerState } from '../ledger/state.js';
import { hashTx, verifyTxSignature } from '../ledger/tx.js';
import { Mempool, type AdmissionBound } from '../mempool/index.js';
import { P2PNetwork } from '../net/index.js';
import type { ChainQueries, NodeApi, NodeHealth, NodeStatus } from '../rpc/api.js';
import { RpcServer } from '../rpc/server.js';
import type { BlockStore } from '../store/index.js';
import type { NodeConfig } from './config.js';
import { parseHostPort } from './config.js';
import { BacklogBudget } from './backlog-budget.js';
import { GossipIntake } from './gossip-intake.js';
import { ExecutionQueue, type ExecutionJob } from './execution-queue.js';
import { SpeculativeExecutor } from './executor.js';
import { NodeMetrics } from './metrics.js';
import { NodeQueries } from './queries.js';
import type { Logger } from './logger.js';
import type { ByzantineTransformer } from './byzantine.js';
import { decodeSyncItem, encodeSyncItem, type CertifiedBlock } from './sync-item.js';
import { CheckedSignatures } from './checked-signatures.js';

export interface NodeOptions {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly keyPair: KeyPair;
  readonly store: BlockStore;
  readonly logger: Logger;
  /** How often the replica's clock ticks. */
  readonly tickMs?: number;
  /** Wall clock; injected for tests. */
  readonly clock?: () => number;
  /** TESTS ONLY (--unsafe-byzantine): rewrites each turn's effects before they are carried out. */
  readonly byzantine?: ByzantineTransformer;
}

const SYNC_BATCH = 64;
/** Verdicts on fetched certificates waiting for the core's check: 3 a block, MAX_SYNC_AHEAD blocks. */
const CHECKED_SIGNATURES = 8_192;
const PROPOSALS_IN_FLIGHT = 3;
/** See ReplicaConfig.minPipelinedTxs. */
const MIN_PIPELINED_TXS = 128;
/** Gossip frames waiting for admission (see gossip-intake.ts): ~10 s of full load. */
const GOSSIP_QUEUE_FRAMES = 50_000;
const GOSSIP_QUEUE_BYTES = 32 << 20;
/** Longest run of signature checks for a waiting proposal before the loop yields. */
const WORK_SLICE_MS = 4;
/** A proposal with at most this many unchecked txs executes at once (~2 ms of checks). */
const INLINE_TX_CHECKS = 20;
/**
 * Gossip gets longer slices: on the primary, admitting gossip is what fills blocks, and
 * 4 ms slices between other work held it to ~1,000 tx/s (10 ms: +20% committed at 1,500/s).
 */
const GOSSIP_SLICE_MS = 10;
/** How often pending txs are offered to all peers again, and how many at most. */
const REGOSSIP_MS = 3_000;
const REGOSSIP_MAX = 2_000;
/**
 * Client txs are refused while the backlog is above what commits clear in this long at the
 * recent rate, or above the floor (see backlog-budget.ts).
 */
const BACKLOG_BUDGET = { budgetMs: 1_000, floorTxs: 4_096, windowMs: 5_000 } as const;
const MAX_EVIDENCE = 1024;
const MAX_WAITERS = 100_000;

/** What a commit listener hears: the block, its hash and certificate, and the txs' receipts. */
export interface CommittedBlock {
  readonly block: Block;
  readonly hash: Hash;
  readonly certificate: QuorumCertificate;
  readonly receipts: readonly Receipt[];
  /** The state after the block (its root is the header's stateRoot). */
  readonly state: LedgerState;
}

export type CommitListener = (committed: CommittedBlock) => void;

interface Waiter {
  resolve: (location: { height: number; index: number } | undefined) => void;
  timer: NodeJS.Timeout;
}

export class LedgerNode implements NodeApi {
  private readonly replica: Replica;
  private readonly executor: SpeculativeExecutor;
  private readonly mempool: Mempool;
  /** Prometheus metrics (served at /metrics when config.metrics is on). */
  readonly metrics: NodeMetrics;
  private network!: P2PNetwork;
  private rpc!: RpcServer;
  private queries!: NodeQueries;
  private readonly self: number;
  private readonly chainId: string;
  private readonly clock: () => number;

  private readonly inbox: ReplicaEvent[] = [];
  private draining: Promise<void> | null = null;
  private tickQueued = false;
  private mempoolDirty = true;
  private ticker: NodeJS.Timeout | undefined;
  private stopping = false;
  private fatal: Error | null = null;
  /** Resolves when every WAL record handed over so far is on disk (writes complete in order). */
  private durable: Promise<void> = Promise.resolve();
  /** Housekeeping after stable checkpoints (see tidyBelowCheckpoint). */
  private tidying: Promise<void> | null = null;
  private tidyUpTo = 0;
  private tidiedUpTo = 0;
  /** The latest store append (they complete in height order). */
  private appended: Promise<void> = Promise.resolve();

  private readonly waiters = new Map<string, Waiter[]>();
  /** Started by the first catch-up fetch (see precheckCertificates). */
  private verifyWorker: VerifyWorker | undefined;
  private readonly checkedSignatures = new CheckedSignatures(CHECKED_SIGNATURES);
  /** Txs committed in memory whose block is not yet in the store: tx hash -> place. */
  private readonly notYetDurable = new Map<string, { height: number; index: number }>();
  private lastRegossipAt = 0;
  /** The mempool's arrival mark at the last regossip: older txs are due to be offered again. */
  private regossipMark = 0;
  private readonly backlogBudget = new BacklogBudget(BACKLOG_BUDGET);
  private readonly commitListeners = new Set<CommitListener>();
  private readonly evidence: Evidence[] = [];
  private syncPeer = 0;
  private lastCommitAt: number;
  private readonly walIndex: WalIndexEntry[] = [];
  /** Checks tx signatures (counted in the metrics). */
  private readonly txVerifier: Verifier;
  private readonly executions = new ExecutionQueue({
    isVerified: (tx) => this.mempool.isVerified(hashTx(tx)),
    verify: (tx) => {
      if (!verifyTxSignature(tx, this.txVerifier)) return false;
      this.mempool.noteVerified(hashTx(tx));
      return true;
    },
    isStale: (job) => job.height <= this.executor.committedHeight,
    execute: (job) => this.execute(job),
    sliceMs: WORK_SLICE_MS,
    inlineChecks: INLINE_TX_CHECKS,
  });
  private readonly gossip = new GossipIntake({
    admit: (from, bytes) => this.admitGossip(from, bytes),
    maxQueued: GOSSIP_QUEUE_FRAMES,
    maxQueuedBytes: GOSSIP_QUEUE_BYTES,
    sliceMs: GOSSIP_SLICE_MS,
    // Proposals waiting for their checks come first: consensus waits on them.
    yieldTo: () => this.executions.size > 0,
    onError: (err) => this.options.logger.error({ err: (err as Error).message }, 'tx gossip admission threw'),
  });

  private constructor(
    private readonly options: NodeOptions,
    restoredWal: readonly ConsensusMessage[],
    restoredPrepared: readonly { certificate: PreparedCertificate; block: Block }[],
    ranBefore: boolean,
    tip: { height: number; hash: Hash; timestamp: number; certificate: QuorumCertificate | null },
    state: Awaited<ReturnType<BlockStore['loadState']>>,
  ) {
    const { genesis, keyPair } = options;
    this.chainId = genesis.chainId;
    this.clock = options.clock ?? Date.now;
    this.metrics = new NodeMetrics({
      processMetrics: options.config.metrics,
      probe: {
        height: () => this.executor.committedHeight,
        view: () => this.replica.view,
        mempool: () => ({ txs: this.mempool.size, bytes: this.mempool.bytes }),
        backlog: () => ({ gossip: this.gossip.queued, executions: this.executions.size }),
        peers: () => this.network.connectedPeers().length,
        websocket: () => this.rpc.websocketStats(),
      },
    });
    this.lastCommitAt = this.clock();
    this.self = genesis.validators.findIndex((v) => bytesEqual(v.publicKey, keyPair.publicKey));
    if (this.self < 0) throw new Error('this node key is not a validator in genesis (observer nodes are not supported yet)');

    const verifier = this.metrics.countingVerifier(makeVerifier(genesis.chainId));
    this.txVerifier = verifier;
    this.mempool = new Mempool(
      { chainId: genesis.chainId, verifier, maxTxs: 200_000, maxBytes: 256 * 1024 * 1024, nonceWindow: 1024 },
      state,
    );
    const ctx = executionContext(genesis, verifier, {
      alreadyVerified: (hash) => this.mempool.isVerified(hash),
      noteVerified: (hash) => this.mempool.noteVerified(hash),
    });
    this.executor = new SpeculativeExecutor({ ...tip, state }, ctx, hashBlockHeader);

    const crypto: ConsensusCrypto = {
      sign: (kind, payload) => sign(keyPair, kind, genesis.chainId, payload),
      verify: (publicKey, kind, payload, signature) =>
        this.metrics.verified(
          kind,
          this.checkedSignatures.take(kind, publicKey, payload, signature) || verify(publicKey, kind, genesis.chainId, payload, signature),
        ),
      hashHeader: hashBlockHeader,
      bodyMatchesHeader,
    };
    const params = genesis.consensus;
    this.replica = new Replica(
      {
        chainId: genesis.chainId,
        genesisHash: genesisHash(genesis),
        validators: genesis.validators.map((v) => v.publicKey),
        self: this.self,
        checkpointInterval: params.checkpointInterval,
        windowSize: params.windowSize,
        // A few proposals in flight keep the pipeline busy; more would only split the
        // load into many small blocks, each paying a full round of votes and fsyncs.
        maxProposalsInFlight: PROPOSALS_IN_FLIGHT,
        minPipelinedTxs: MIN_PIPELINED_TXS,
        viewTimeoutMs: params.viewTimeoutMs,
        maxViewTimeoutMs: params.maxViewTimeoutMs,
        retransmitMs: Math.max(200, Math.floor(params.viewTimeoutMs / 2)),
        maxClockSkewMs: 10_000,
      },
      crypto,
      { committed: tip, wal: restoredWal, prepared: restoredPrepared, ranBefore, now: this.clock() },
    );
  }

  /** Opens everything in order (store is already open), then starts networking and RPC. */
  static async start(options: NodeOptions): Promise<LedgerNode> {
    const { store, logger } = options;
    const walEntries = await store.wal.readAll();
    const restored: ConsensusMessage[] = [];
    const prepared: { certificate: PreparedCertificate; block: Block }[] = [];
    const indexed: WalIndexEntry[] = [];
    let ranBefore = false;
    for (const entry of walEntries) {
      const decoded = decodeWalRecord(entry.bytes);
      if (!decoded.ok) {
        // The WAL checks every record's CRC, so this is not a torn write: it is a bug or
        // corruption, and skipping it could forget a vote. Refuse to start.
        throw new Error(`consensus WAL record ${entry.seq} does not decode (${decoded.error.message}); the WAL is damaged`);
      }
      const record = decoded.value;
      if (record.kind === 'prepared') {
        prepared.push({ certificate: record.certificate, block: record.block });
        indexed.push({ seq: entry.seq, type: 'prepared', height: record.certificate.height });
      } else if (record.kind === 'started') {
        ranBefore = true;
        indexed.push(startedIndexEntry(entry.seq, entry.bytes));
      } else {
        restored.push(record.message);
        indexed.push(walIndexEntry(entry.seq, record.message, entry.bytes));
      }
    }
    if (!ranBefore) {
      // On disk before anything can leave: from now on a restart may follow votes this
      // node sent without logging them (see RestoredState.ranBefore).
      const bytes = encodeStartedRecord();
      indexed.push(startedIndexEntry(await store.wal.append([bytes]), bytes));
    }
    const tipRef = store.tip();
    let tip: { height: number; hash: Hash; timestamp: number; certificate: QuorumCertificate | null };
    if (tipRef.height === 0) {
      tip = { height: 0, hash: tipRef.hash, timestamp: options.genesis.genesisTime, certificate: null };
    } else {
      const block = await store.getBlock(tipRef.height);
      const certificate = await store.getCertificate(tipRef.height);
      if (block === undefined || certificate === undefined) throw new Error(`store tip ${tipRef.height} has no block or certificate`);
      tip = { height: tipRef.height, hash: tipRef.hash, timestamp: block.header.timestamp, certificate };
    }
    const state = await store.loadState();
    const node = new LedgerNode(options, restored, prepared, ranBefore, tip, state);
    node.walIndex.push(...indexed);
    await node.startIo();
    logger.info(
      { validator: node.self, height: tip.height, view: node.replica.view, walEntries: restored.length, ranBefore },
      'node started',
    );
    return node;
  }

  private async startIo(): Promise<void> {
    const { config, genesis, keyPair, logger } = this.options;
    this.network = await P2PNetwork.create({
      seed: keyPair.seed,
      listen: config.p2pListen,
      validators: genesis.validators.map((v) => ({ publicKey: v.publicKey, p2p: v.p2p })),
      self: this.self,
      // Noise binds the handshake to the chain: nodes of another chain cannot even connect.
      prologue: genesisHash(genesis),
      logger: logger.child({ module: 'net' }),
    });
    this.network.onConsensus((from, bytes) => this.onConsensusFrame(from, bytes));
    this.network.onTx((from, bytes) => this.gossip.offer(from, bytes));
    this.network.onPeerConnected((peer) => this.offerPendingTo(peer));
    this.network.serveSync((from, request) => this.serveSync(from, request));
    await this.network.start();

    // Nothing has committed yet: the executor is at the store tip.
    this.queries = new NodeQueries({
      store: this.options.store,
      genesis,
      mempool: this.mempool,
      network: this.network,
      self: this.self,
      committed: { height: this.executor.committedHeight, state: this.executor.committedState },
      evidence: () => this.evidence,
    });
    this.onCommit((committed) => this.queries.onCommitted(committed));

    const listen = parseHostPort(config.rpcListen);
    if (listen === undefined) throw new Error(`rpc listen address ${config.rpcListen} is not host:port`);
    this.rpc = new RpcServer(
      {
        host: listen.host,
        port: listen.port,
        maxBodyBytes: config.rpcMaxBodyBytes,
        maxConnections: config.rpcMaxConnections,
        maxBatch: config.rpcMaxBatch,
        requestTimeoutMs: config.rpcRequestTimeoutMs,
        authToken: config.rpcAuthToken,
        logger: logger.child({ module: 'rpc' }),
        observer: this.metrics,
        ...(config.metrics ? { metrics: this.metrics } : {}),
        ...(config.wsMaxConnections > 0
          ? {
              websocket: {
                maxConnections: config.wsMaxConnections,
                maxSubscriptions: config.wsMaxSubscriptions,
                maxMessageBytes: config.wsMaxMessageBytes,
                maxBufferedBytes: config.wsMaxBufferedBytes,
              },
              events: { subscribeCommits: (listener) => this.onCommit(listener) },
            }
          : {}),
      },
      this,
    );
    await this.rpc.start();

    const tickMs = this.options.tickMs ?? 20;
    this.ticker = setInterval(() => this.tick(), tickMs);
    this.tick();
  }

  /** Graceful stop: no new RPC, finish the turn in flight (and its commit), close the network and the store. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.gossip.stop();
    this.executions.stop();
    if (this.ticker !== undefined) clearInterval(this.ticker);
    await this.rpc?.stop().catch(() => {});
    await this.draining?.catch(() => {});
    await this.durable.catch(() => {});
    await this.tidying;
    await this.appended;
    for (const [, list] of this.waiters) for (const w of list) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.waiters.clear();
    await this.network?.stop().catch(() => {});
    await this.verifyWorker?.stop();
    await this.options.store.close();
    this.options.logger.info({ height: this.executor.committedHeight }, 'node stopped');
  }

  get rpcAddress(): { host: string; port: number } {
    const address = this.rpc.address;
    if (address === undefined) throw new Error('the RPC server is not listening');
    return address;
  }

  get failure(): Error | null {
    return this.fatal;
  }

  // ------------------------------------------------------------------------------------
  // Inputs

  private tick(): void {
    const now = this.clock();
    if (now - this.lastRegossipAt >= REGOSSIP_MS) {
      this.lastRegossipAt = now;
      this.regossip();
    }
    if (this.tickQueued) return; // a slow turn must not pile up ticks
    this.tickQueued = true;
    this.enqueue({ type: 'tick', now: this.clock() });
  }

  /**
   * Tx gossip goes once, to the peers connected at the time: a tx admitted while this
   * node was cut off (or just restarted, before its peers connected) would otherwise wait
   * here forever. So txs still pending a whole regossip period after they arrived are
   * offered to everyone again, oldest first; peers drop duplicates by hash before any
   * signature check. Younger txs were gossiped moments ago and are most likely on their way
   * into a block: sending them again (as this did, the oldest 2,000 of whatever was pending)
   * cost every peer up to 2,000 duplicate frames a second under load, each one encrypted,
   * sent, decrypted, decoded and hashed, and queued for admission with the real gossip.
   */
  private regossip(): void {
    const arrivedBefore = this.regossipMark;
    this.regossipMark = this.mempool.arrivals;
    for (const { tx } of this.mempool.pending(REGOSSIP_MAX, arrivedBefore)) this.network.broadcastTx(encodeTx(tx));
  }

  /**
   * Gossip goes only to the peers connected at the time, so a peer that was cut off or
   * restarting missed every tx admitted here meanwhile. It gets the pending ones as soon as
   * it is back: the next regossip can be up to REGOSSIP_MS away, longer than the default
   * view timeout, and a replica holding a tx its primary never saw times that primary out.
   */
  private offerPendingTo(peer: number): void {
    for (const { tx } of this.mempool.pending(REGOSSIP_MAX)) this.network.sendTx(peer, encodeTx(tx));
  }

  private onConsensusFrame(from: number, bytes: Uint8Array): void {
    const decoded = decodeConsensusMessage(bytes);
    if (!decoded.ok) {
      this.network.penalize(from, `undecodable consensus frame: ${decoded.error.message}`);
      return;
    }
    this.enqueue({ type: 'message', from, message: decoded.value });
  }

  private admitGossip(from: number, bytes: Uint8Array): void {
    const result = this.mempool.add(bytes);
    if (!result.ok) {
      // Another node admitted it against its own view of the state; races on nonces are
      // normal, but undecodable or badly signed gossip is the peer's fault.
      if (result.error.code === 'malformed' || result.error.code === 'bad-signature') this.network.penalize(from, `tx gossip: ${result.error.message}`);
      return;
    }
    if (!result.value.duplicate) this.markMempoolDirty();
  }

  private markMempoolDirty(): void {
    if (this.mempoolDirty) return;
    this.mempoolDirty = true;
    this.schedule();
  }

  private enqueue(event: ReplicaEvent): void {
    if (this.stopping || this.fatal !== null) return;
    this.inbox.push(event);
    this.schedule();
  }

  private schedule(): void {
    if (this.draining !== null || this.stopping) return;
    this.draining = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  // ------------------------------------------------------------------------------------
  // The loop

  /**
   * One turn, then the next is scheduled as a new macrotask: network, RPC and timers get
   * their turn in between, so no chain of events and effects can starve them.
   */
  private async drain(): Promise<void> {
    try {
      if ((this.inbox.length > 0 || this.mempoolDirty) && this.fatal === null) {
        if (this.mempoolDirty) {
          this.mempoolDirty = false;
          // Txs no block could take on the committed state (a nonce gap, a balance short)
          // are not pending work: counted, they would time out every honest primary.
          this.inbox.push({ type: 'mempool', pending: this.mempool.hasProposable() ? this.mempool.pendingCount() : 0 });
        }
        const events = this.inbox.splice(0);
        const effects: Effect[] = [];
        for (const event of events) {
          if (event.type === 'tick') this.tickQueued = false;
          for (const effect of this.replica.step(event)) effects.push(effect);
        }
        await this.carryOut(this.options.byzantine?.transform(effects, this.clock()) ?? effects);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.draining = null;
      if ((this.inbox.length > 0 || this.mempoolDirty) && !this.stopping && this.fatal === null) this.schedule();
    }
  }

  private fail(err: unknown): void {
    this.fatal = err instanceof Error ? err : new Error(String(err));
    this.options.logger.error({ err: this.fatal.message, stack: this.fatal.stack }, 'consensus halted: internal fault');
  }

  /**
   * Carries out one turn's effects. Records are written to the WAL without holding up the
   * loop: the next turns run while the write is in flight (and the WAL folds them into
   * one fdatasync), but every message leaves only once everything persisted up to its
   * turn is on disk. So a persisted message never leaves before it is durable, nothing
   * leaves before the records of the view it belongs to (RestoredState.ranBefore relies on
   * that), messages keep their order, and one slow fsync does not stall execution,
   * proposals and RPC.
   */
  private async carryOut(effects: readonly Effect[]): Promise<void> {
    const toPersist: ConsensusMessage[] = [];
    const certificates: { certificate: PreparedCertificate; block: Block }[] = [];
    for (const e of effects) {
      if (e.type === 'persist' || ((e.type === 'send' || e.type === 'broadcast') && e.persist)) toPersist.push(e.message);
      else if (e.type === 'persist-prepared') certificates.push({ certificate: e.certificate, block: e.block });
    }
    if (toPersist.length > 0 || certificates.length > 0) {
      const records = [...certificates.map((c) => encodePreparedRecord(c.certificate, c.block)), ...toPersist.map(encodeConsensusMessage)];
      this.durable = this.metrics
        .timeWal(() => this.options.store.wal.append(records))
        .then((first) => {
          certificates.forEach((c, i) => this.walIndex.push({ seq: first + i, type: 'prepared', height: c.certificate.height }));
          toPersist.forEach((m, i) => this.walIndex.push(walIndexEntry(first + certificates.length + i, m, records[certificates.length + i] as Uint8Array)));
        });
      // A failed WAL write halts consensus: nothing waiting on it is ever sent.
      this.durable.catch((err: unknown) => this.fail(err));
    }
    const durable = this.durable;
    for (const effect of effects) {
      switch (effect.type) {
        case 'send': {
          const bytes = encodeConsensusMessage(effect.message);
          const to = effect.to;
          durable.then(() => this.network.sendConsensus(to, bytes), () => {});
          break;
        }
        case 'broadcast': {
          const bytes = encodeConsensusMessage(effect.message);
          durable.then(() => this.network.broadcastConsensus(bytes), () => {});
          break;
        }
        case 'persist':
        case 'persist-prepared':
          break; // handed to the WAL above; sends wait for it
        case 'build-proposal':
          this.buildProposal(effect);
          break;
        case 'execute':
          this.metrics.proposalSeen(effect.height);
          this.executions.submit({ height: effect.height, block: effect.block, blockHash: effect.blockHash });
          break;
        case 'commit':
          this.commit(effect.block, effect.blockHash, effect.certificate);
          break;
        case 'fetch':
          void this.fetch(effect.fromHeight, effect.toHeight);
          break;
        case 'stable-checkpoint':
          this.tidyBelowCheckpoint(effect.height);
          break;
        case 'view-entered':
          this.metrics.viewChanged();
          this.options.logger.info({ view: effect.view, primary: effect.primary }, 'entered view');
          break;
        case 'misbehaviour':
          this.network.penalize(effect.peer, effect.reason);
          break;
        case 'evidence':
          if (this.evidence.length < MAX_EVIDENCE) this.evidence.push(effect.evidence);
          this.options.logger.warn(
            { validator: effect.evidence.validator, kind: effect.evidence.kind, view: effect.evidence.view, height: effect.evidence.height },
            'validator equivocated',
          );
          break;
      }
    }
  }

  /** Executes a proposal (its signatures checked, see ExecutionQueue) and tells the replica. */
  private execute(job: ExecutionJob): void {
    // Catch-up may have committed this height while the proposal waited for its checks.
    if (job.height <= this.executor.committedHeight || this.fatal !== null) return;
    let outcome: ReturnType<SpeculativeExecutor['execute']>;
    try {
      outcome = this.executor.execute(job.block, job.blockHash);
    } catch (err) {
      // Called from a queued slice, outside the loop's own guard: a bug in execution halts
      // consensus (as it does inside a turn) rather than killing the process.
      this.fail(err);
      return;
    }
    if (!outcome.ok) {
      this.options.logger.warn({ height: job.height, block: toHex(job.blockHash), code: outcome.error.code, reason: outcome.error.message }, 'proposal rejected');
    }
    this.enqueue({ type: 'executed', height: job.height, blockHash: job.blockHash, valid: outcome.ok });
  }

  private buildProposal(effect: Extract<Effect, { type: 'build-proposal' }>): void {
    const params = this.options.genesis.consensus;
    const exclude = this.executor.inFlightTxs(effect.parentHash);
    const built = this.executor.build(
      effect.parentHash,
      (parent) => this.mempool.selectForBlock(parent, { maxTxs: params.maxBlockTxs, maxBytes: params.maxBlockBytes }, exclude),
      { height: effect.height, view: effect.view, proposer: effect.proposer, timestamp: effect.timestamp },
    );
    const block = built !== null && built.block.txs.length > 0 ? built.block : null;
    if (block !== null) this.metrics.proposalSeen(effect.height);
    this.inbox.push({ type: 'proposal-built', height: effect.height, block });
  }

  /**
   * Commits in memory at once (executor, mempool) and queues the store append without
   * waiting for it: the append's fsync is then off the consensus path. Appends stay in
   * height order (the store serializes them); RPC waiters and commit listeners hear of a
   * block only once it is durable. A block committed here but not yet durable when the
   * process dies is simply fetched again from peers (it is certified).
   */
  private commit(block: Block, blockHash: Hash, certificate: QuorumCertificate): void {
    const outcome = this.executor.commit(block, blockHash, true);
    if (!outcome.ok) {
      // 2f+1 validators certified a block that does not execute here: our state is not
      // theirs. Appending would corrupt the store, continuing would be guessing: halt.
      throw new Error(`certified block ${block.header.height} does not execute here: ${outcome.error.message}`);
    }
    this.lastCommitAt = this.clock();
    this.backlogBudget.noteCommitted(block.txs.length, this.lastCommitAt);
    // Until the store has it, a committed tx is found here: the mempool forgets it at once,
    // and a client resubmitting it must hear "committed", not "bad nonce".
    block.txs.forEach((tx, index) => this.notYetDurable.set(toHex(hashTx(tx)), { height: block.header.height, index }));
    this.mempool.onCommitted(block.txs, outcome.value.state);
    this.mempoolDirty = true;
    const committed: CommittedBlock = { block, hash: blockHash, certificate, receipts: outcome.value.receipts, state: outcome.value.state };
    // The block reaches the store only after this replica's own votes so far are durable:
    // its COMMIT counted toward the certificate, so it must not be forgotten by a crash
    // after which the block is already stored here.
    const durable = this.durable;
    this.appended = durable.then(() => this.metrics.timeStore(() => this.options.store.append(block, certificate, outcome.value.writes))).then(
      () => this.onDurable(committed),
      (err: unknown) => this.fail(err),
    );
  }

  private onDurable(committed: CommittedBlock): void {
    const { block, certificate } = committed;
    for (const tx of block.txs) this.notYetDurable.delete(toHex(hashTx(tx)));
    this.metrics.committed(block.header.height, block.txs.length);
    block.txs.forEach((tx, index) => this.resolveWaiters(tx, block.header.height, index));
    for (const listener of this.commitListeners) {
      try {
        listener(committed);
      } catch (err) {
        this.options.logger.warn({ err: (err as Error).message }, 'a commit listener threw');
      }
    }
    this.options.logger.debug({ height: block.header.height, txs: block.txs.length, view: certificate.view }, 'committed');
  }

  private resolveWaiters(tx: Tx, height: number, index: number): void {
    if (this.waiters.size === 0) return;
    const hex = toHex(hashTx(tx));
    const list = this.waiters.get(hex);
    if (list === undefined) return;
    this.waiters.delete(hex);
    for (const w of list) {
      clearTimeout(w.timer);
      w.resolve({ height, index });
    }
  }

  /**
   * After a stable checkpoint, the WAL's records at or below it may go, but only for
   * blocks that are durable here: the store's appends are not synced one by one (the WAL
   * covers them), so the store is synced first and the WAL trimmed no further than that.
   * This runs beside the loop, never in a turn: a turn waiting on these syncs held up every
   * vote behind it (150-750 ms stalls at 100 tx/s). Checkpoints that stabilize meanwhile
   * fold into the next run.
   */
  private tidyBelowCheckpoint(height: number): void {
    this.tidyUpTo = Math.max(this.tidyUpTo, height);
    if (this.tidying !== null) return;
    const run = async (): Promise<void> => {
      while (this.tidyUpTo > this.tidiedUpTo && !this.stopping && this.fatal === null) {
        const target = this.tidyUpTo;
        const durableHeight = await this.options.store.syncToDisk();
        await this.compactWal(Math.min(target, durableHeight));
        this.tidiedUpTo = target;
      }
    };
    this.tidying = run()
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.tidying = null;
      });
  }

  /**
   * Drops WAL entries a restart can no longer need: votes at or below a stable checkpoint.
   * The latest VIEW-CHANGE, NEW-VIEW and started record always survive (re-appended above
   * the cut when they would fall below it): the first two say which view this replica
   * promised to be in, the last that it may have sent votes the WAL does not hold.
   */
  private async compactWal(stableHeight: number): Promise<void> {
    // Every append made so far must be in walIndex before we choose what to keep: an
    // append still in flight is not indexed yet, and cutting below the next sequence
    // number would drop it.
    for (let seen = this.durable; ; seen = this.durable) {
      await seen.catch(() => {});
      if (seen === this.durable) break;
    }
    const isVote = (e: WalIndexEntry): boolean =>
      e.type === 'pre-prepare' || e.type === 'prepare' || e.type === 'commit' || e.type === 'prepared';
    let cut = this.walIndex.findIndex((e) => isVote(e) && e.height > stableHeight);
    if (cut < 0) cut = this.walIndex.length;
    if (cut === 0) return;
    const carry: WalIndexEntry[] = [];
    for (const type of CARRIED_RECORDS) {
      const laterExists = this.walIndex.slice(cut).some((e) => e.type === type);
      const latest = this.walIndex.slice(0, cut).filter((e) => e.type === type).pop();
      if (!laterExists && latest !== undefined) carry.push(latest);
    }
    const store = this.options.store;
    if (carry.length > 0) {
      const first = await store.wal.append(carry.map((e) => e.record as Uint8Array));
      carry.forEach((e, i) => this.walIndex.push({ ...e, seq: first + i }));
    }
    const keepSeq = this.walIndex[cut]?.seq ?? store.wal.nextSequence;
    await store.wal.truncateBelow(keepSeq);
    this.walIndex.splice(0, cut);
  }

  // ------------------------------------------------------------------------------------
  // Catch-up

  /**
   * Fetches certified blocks [fromHeight, toHeight] from one peer, SYNC_BATCH per request,
   * one request ahead of the checks, and hands each to the replica. The replica asks for up to
   * MAX_SYNC_AHEAD heights at once and asks again only after a timeout, so fetching just
   * the first batch (as this did) held catch-up to 64 blocks per retry period: 28 blocks/s,
   * ~580 tx/s, measured on a node that missed 100,000 txs. A failed or empty answer ends
   * the fetch; the replica's next request goes to the next peer.
   */
  private async fetch(fromHeight: number, toHeight: number): Promise<void> {
    const peers = this.network.connectedPeers();
    if (peers.length === 0) return;
    const peer = peers[this.syncPeer++ % peers.length] as number;
    const request = (from: number): Promise<Uint8Array[] | undefined> =>
      this.network.requestSync(peer, { fromHeight: from, toHeight: Math.min(toHeight, from + SYNC_BATCH - 1) }, { timeoutMs: 10_000 }).catch((err: unknown) => {
        this.options.logger.debug({ peer, fromHeight: from, err: (err as Error).message }, 'sync request failed');
        return undefined;
      });
    let from = fromHeight;
    let next = request(from);
    while (!this.stopping) {
      const items = await next;
      if (items === undefined || items.length === 0) return;
      const fetched: CertifiedBlock[] = [];
      for (const bytes of items) {
        const item = decodeSyncItem(bytes);
        if (!item.ok) {
          this.network.penalize(peer, `sync: ${item.error}`);
          return;
        }
        fetched.push(item.value);
      }
      from += items.length;
      // The next batch travels while this one's certificates are checked: waiting for the
      // checks before asking left the main thread idle 22% of a catch-up.
      const more = from <= toHeight;
      if (more) next = request(from);
      await this.precheckCertificates(fetched);
      for (const item of fetched) this.enqueue({ type: 'synced', block: item.block, certificate: item.certificate });
      if (!more) return;
    }
  }

  /**
   * Checks the certificates' signatures on the verify worker while the main thread works
   * through earlier blocks; the core's own check then finds the verdicts (CheckedSignatures).
   * Nothing is trusted here: a signature the worker did not find valid is checked again.
   */
  private async precheckCertificates(items: readonly CertifiedBlock[]): Promise<void> {
    const validators = this.options.genesis.validators;
    const checks: (SignatureCheck & { payload: Uint8Array })[] = [];
    for (const { certificate: qc } of items) {
      const payload = encodeVotePayload({ view: qc.view, height: qc.height, blockHash: qc.blockHash });
      const message = signingBytes('commit', this.chainId, payload);
      for (const { validator, signature } of qc.signatures) {
        const publicKey = validators[validator]?.publicKey;
        if (publicKey !== undefined) checks.push({ publicKey, message, signature, payload });
      }
    }
    this.verifyWorker ??= new VerifyWorker();
    const verdicts = await this.verifyWorker.verify(checks);
    checks.forEach((c, i) => {
      if (verdicts[i] === true) this.checkedSignatures.add('commit', c.publicKey, c.payload, c.signature);
    });
  }

  private async serveSync(_from: number, request: { fromHeight: number; toHeight: number }): Promise<Uint8Array[]> {
    const store = this.options.store;
    const top = Math.min(request.toHeight, store.tip().height, request.fromHeight + SYNC_BATCH - 1);
    const rows = await store.getCertifiedBlockBytes(Math.max(1, request.fromHeight), top);
    return rows.map(({ block, certificate }) => encodeSyncItem(block, certificate));
  }

  // ------------------------------------------------------------------------------------
  // NodeApi (JSON-RPC)

  submitTx(bytes: Uint8Array): ReturnType<NodeApi['submitTx']> {
    const result = this.mempool.add(bytes, this.clientAdmissionBound());
    if (result.ok && !result.value.duplicate) {
      this.network.broadcastTx(bytes);
      this.markMempoolDirty();
    }
    return result.ok ? { ok: true, value: { hash: result.value.hash, duplicate: result.value.duplicate } } : result;
  }

  /**
   * The backlog bound for a client's tx, on the mempool's ready txs: a tx waiting for a
   * nonce nobody sent is no work, and counting those would let one client with gapped
   * nonces shut out all others. Gossip frames not yet checked are not counted: many are
   * txs a proposal already brought here, and counting them (1,000-1,500 frames queued at
   * 1,500 tx/s) refused clients of a network that was keeping up.
   */
  private clientAdmissionBound(): AdmissionBound {
    const now = this.clock();
    return {
      maxReady: this.backlogBudget.maxBacklog(now),
      reason: () =>
        `the network commits ${Math.round(this.backlogBudget.commitRate(now))} tx/s lately, and this node takes ` +
        `about ${BACKLOG_BUDGET.budgetMs} ms of that (at least ${BACKLOG_BUDGET.floorTxs} txs); retry later`,
    };
  }

  async txLocation(hash: Hash): Promise<{ height: number; index: number } | undefined> {
    return this.notYetDurable.get(toHex(hash)) ?? this.options.store.getTxLocation(hash);
  }

  async waitForCommit(hash: Hash, timeoutMs: number): Promise<{ height: number; index: number } | undefined> {
    if (this.stopping) return this.options.store.getTxLocation(hash);
    let total = 0;
    for (const list of this.waiters.values()) total += list.length;
    if (total >= MAX_WAITERS) return this.options.store.getTxLocation(hash);
    const hex = toHex(hash);
    // Register first, then look in the store: a commit landing in between is not missed.
    let waiter!: Waiter;
    const waited = new Promise<{ height: number; index: number } | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.dropWaiter(hex, waiter);
        resolve(undefined);
      }, timeoutMs);
      waiter = { resolve, timer };
      const list = this.waiters.get(hex) ?? [];
      list.push(waiter);
      this.waiters.set(hex, list);
    });
    const known = await this.options.store.getTxLocation(hash);
    if (known !== undefined) {
      clearTimeout(waiter.timer);
      this.dropWaiter(hex, waiter);
      return known;
    }
    return waited;
  }

  private dropWaiter(hex: string, waiter: Waiter): void {
    const list = this.waiters.get(hex);
    if (list === undefined) return;
    const rest = list.filter((w) => w !== waiter);
    if (rest.length === 0) this.waiters.delete(hex);
    else this.waiters.set(hex, rest);
  }

  status(): NodeStatus {
    const s = this.replica.status();
    const tip = this.options.store.tip();
    return {
      nodeId: this.network.peerId,
      chainId: this.chainId,
      validatorIndex: this.self,
      latestHeight: tip.height,
      latestBlockHash: tip.hash,
      latestBlockTime: this.executor.committedTimestamp,
      view: s.view,
      catchingUp: s.catchingUp,
      peers: this.network.connectedPeers().length,
    };
  }

  health(): NodeHealth {
    const reasons: string[] = [];
    if (this.fatal !== null) reasons.push(`consensus halted: ${this.fatal.message}`);
    if (this.stopping) reasons.push('stopping');
    return { ok: reasons.length === 0, reasons };
  }

  get chain(): ChainQueries {
    return this.queries;
  }

  /** Calls `listener` after every block is appended to the store, in height order. Returns an unsubscribe function. */
  onCommit(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  get recordedEvidence(): readonly Evidence[] {
    return this.evidence;
  }
}

/** The WAL records compaction never drops: the latest of each kind is carried above the cut. */
const CARRIED_RECORDS = ['view-change', 'new-view', 'started'] as const;

/** What compaction needs to know of a WAL entry; the carried kinds keep their bytes to re-append. */
interface WalIndexEntry {
  readonly seq: number;
  readonly type: ConsensusMessage['type'] | 'prepared' | 'started';
  readonly height: number;
  readonly record?: Uint8Array;
}

function walIndexEntry(seq: number, m: ConsensusMessage, record: Uint8Array): WalIndexEntry {
  switch (m.type) {
    case 'pre-prepare':
    case 'prepare':
    case 'commit':
      return { seq, type: m.type, height: m.height };
    case 'view-change':
    case 'new-view':
      return { seq, type: m.type, height: Number.MAX_SAFE_INTEGER, record };
    default:
      return { seq, type: m.type, height: Number.MAX_SAFE_INTEGER };
  }
}

function startedIndexEntry(seq: number, record: Uint8Array): WalIndexEntry {
  return { seq, type: 'started', height: Number.MAX_SAFE_INTEGER, record };
}
