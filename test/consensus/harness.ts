/**
 * A small, synchronous cluster for unit tests of the replica: one FIFO of events, no
 * randomness, messages delivered in order unless a test's filter drops or rewrites them.
 * The application is a stand-in (empty blocks whose state root is a hash chain), so these
 * tests exercise the protocol alone; the seeded simulator (test/sim) runs the real ledger.
 */
import { createHash } from 'node:crypto';
import { encodeBlockHeader } from '../../src/codec/block.js';
import type { Block, BlockHeader, ConsensusMessage, PreparedCertificate, QuorumCertificate } from '../../src/codec/types.js';
import { Replica } from '../../src/consensus/replica.js';
import type { ConsensusCrypto, Effect, Evidence, ReplicaConfig, ReplicaEvent } from '../../src/consensus/types.js';
import { bytesEqual, toHex, utf8 } from '../../src/crypto/bytes.js';
import type { Hash, PublicKey, SignatureKind } from '../../src/crypto/index.js';
import { computeTxRoot } from '../../src/ledger/block.js';

function sha(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export const CHAIN_ID = 'unit-test';
export const GENESIS_HASH = sha(utf8('genesis'));
const GENESIS_STATE = sha(utf8('state'));
const EMPTY_TX_ROOT = computeTxRoot([]);

/** Fake signatures: sha256(publicKey || kind || payload), twice. Tests sign only as the replica they speak for. */
export function fakeSign(publicKey: PublicKey, kind: SignatureKind, payload: Uint8Array): Uint8Array {
  const half = sha(publicKey, utf8(kind), payload);
  const sig = new Uint8Array(64);
  sig.set(half, 0);
  sig.set(half, 32);
  return sig;
}

export function hashHeader(header: BlockHeader): Hash {
  return sha(encodeBlockHeader(header));
}

export function cryptoFor(publicKey: PublicKey): ConsensusCrypto {
  return {
    sign: (kind, payload) => fakeSign(publicKey, kind, payload),
    verify: (pk, kind, payload, signature) => bytesEqual(fakeSign(pk, kind, payload), signature),
    hashHeader,
    bodyMatchesHeader: (block) => block.txs.length === block.header.txCount && bytesEqual(computeTxRoot(block.txs), block.header.txRoot),
  };
}

export function validatorKeys(n: number): PublicKey[] {
  return Array.from({ length: n }, (_, i) => sha(utf8(`validator-${i}`)));
}

/** The stand-in application: a block's state root is sha256(parent state root || height). */
export function nextStateRoot(parentState: Hash, height: number): Hash {
  return sha(parentState, utf8(String(height)));
}

export interface Sent {
  readonly from: number;
  readonly to: number;
  readonly message: ConsensusMessage;
}

export interface ClusterOptions {
  readonly n?: number;
  readonly windowSize?: number;
  readonly checkpointInterval?: number;
  readonly viewTimeoutMs?: number;
  readonly retransmitMs?: number;
  readonly maxProposalsInFlight?: number;
  readonly minPipelinedTxs?: number;
}

export class Cluster {
  readonly n: number;
  readonly keys: PublicKey[];
  readonly config: Omit<ReplicaConfig, 'self'>;
  readonly replicas: Replica[] = [];
  readonly wal: ConsensusMessage[][] = [];
  /** Prepared certificates each replica persisted (they survive a crash, like the WAL). */
  readonly prepared: { certificate: PreparedCertificate; block: Block }[][] = [];
  readonly chains: { block: Block; hash: Hash; certificate: QuorumCertificate }[][] = [];
  readonly evidence: { by: number; evidence: Evidence }[] = [];
  readonly sent: Sent[] = [];
  readonly crashed = new Set<number>();
  /**
   * What each replica ever signed as PRE-PREPARE or PREPARE, `${type}:${view}:${height}` ->
   * digest, across restarts: these are not persisted, and the harness checks that a
   * restarted replica never contradicts one anyway.
   */
  private readonly signedEver: Map<string, string>[] = [];
  /** Signature checks each replica made, by kind (across restarts). */
  readonly verifications: Map<SignatureKind, number>[] = [];
  /** Returns false to drop a message, or a replacement message. */
  filter: (s: Sent) => boolean | ConsensusMessage = () => true;
  /** Blocks (by hash hex) that the application declares invalid. */
  readonly invalid = new Set<string>();
  now = 0;
  private readonly queue: { to: number; event: ReplicaEvent }[] = [];
  private readonly pending: number[];
  private readonly states = new Map<string, Hash>();
  /** How many mempool txs each built block stands for (blocks themselves are empty). */
  private readonly batchSizes = new Map<string, number>();

  constructor(options: ClusterOptions = {}) {
    this.n = options.n ?? 4;
    this.keys = validatorKeys(this.n);
    this.config = {
      chainId: CHAIN_ID,
      genesisHash: GENESIS_HASH,
      validators: this.keys,
      checkpointInterval: options.checkpointInterval ?? 5,
      windowSize: options.windowSize ?? 4,
      viewTimeoutMs: options.viewTimeoutMs ?? 1000,
      maxViewTimeoutMs: 16_000,
      retransmitMs: options.retransmitMs ?? 200,
      maxClockSkewMs: 5000,
      checkInvariants: true,
      ...(options.maxProposalsInFlight === undefined ? {} : { maxProposalsInFlight: options.maxProposalsInFlight }),
      ...(options.minPipelinedTxs === undefined ? {} : { minPipelinedTxs: options.minPipelinedTxs }),
    };
    this.pending = new Array<number>(this.n).fill(0);
    this.states.set(toHex(GENESIS_HASH), GENESIS_STATE);
    for (let i = 0; i < this.n; i++) {
      this.verifications.push(new Map());
      this.wal.push([]);
      this.prepared.push([]);
      this.chains.push([]);
      this.signedEver.push(new Map());
      this.replicas.push(this.makeReplica(i, false));
    }
  }

  private makeReplica(i: number, ranBefore: boolean): Replica {
    const chain = this.chains[i] as Cluster['chains'][number];
    const tip = chain[chain.length - 1];
    const crypto = cryptoFor(this.keys[i] as PublicKey);
    const counted: ConsensusCrypto = {
      ...crypto,
      verify: (publicKey, kind, payload, signature) => {
        const counts = this.verifications[i] as Map<SignatureKind, number>;
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        return crypto.verify(publicKey, kind, payload, signature);
      },
    };
    return new Replica({ ...this.config, self: i }, counted, {
      committed: tip === undefined
        ? { height: 0, hash: GENESIS_HASH, timestamp: 0, certificate: null }
        : { height: tip.block.header.height, hash: tip.hash, timestamp: tip.block.header.timestamp, certificate: tip.certificate },
      wal: [...(this.wal[i] as ConsensusMessage[])],
      prepared: [...(this.prepared[i] ?? [])],
      ranBefore,
      now: this.now,
    });
  }

  replica(i: number): Replica {
    return this.replicas[i] as Replica;
  }

  chain(i: number): Cluster['chains'][number] {
    return this.chains[i] as Cluster['chains'][number];
  }

  /** Txs arrive in every replica's mempool. */
  submit(count: number): void {
    for (let i = 0; i < this.n; i++) {
      this.pending[i] = (this.pending[i] ?? 0) + count;
      this.queue.push({ to: i, event: { type: 'mempool', pending: this.pending[i] as number } });
    }
  }

  crash(i: number): void {
    this.crashed.add(i);
  }

  /** Restarts a crashed replica from its WAL and committed chain only. */
  restart(i: number): void {
    this.crashed.delete(i);
    this.replicas[i] = this.makeReplica(i, true);
    this.queue.push({ to: i, event: { type: 'tick', now: this.now } });
  }

  /** Queues a message as if `from` had sent it to `to` (for tests that play a Byzantine peer). */
  inject(from: number, to: number, message: ConsensusMessage): void {
    this.queue.push({ to, event: { type: 'message', from, message } });
  }

  /** Runs until no event is left (or the step budget runs out: a livelock is a failure). */
  run(maxSteps = 100_000): void {
    for (let steps = 0; this.queue.length > 0; steps++) {
      if (steps >= maxSteps) throw new Error('cluster did not quiesce');
      const { to, event } = this.queue.shift() as { to: number; event: ReplicaEvent };
      if (this.crashed.has(to)) continue;
      this.apply(to, this.replica(to).step(event));
    }
  }

  /** Advances time in steps, ticking every replica and running to quiescence after each. */
  advance(ms: number, stepMs = 50): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + stepMs);
      for (let i = 0; i < this.n; i++) this.queue.push({ to: i, event: { type: 'tick', now: this.now } });
      this.run();
    }
  }

  /** Throws if replica i signs a PRE-PREPARE or PREPARE that differs from one it signed in any earlier life. */
  private checkNeverContradicts(i: number, m: ConsensusMessage): void {
    if (m.type !== 'prepare' && m.type !== 'pre-prepare') return;
    const digest = toHex(m.type === 'prepare' ? m.blockHash : hashHeader(m.block.header));
    const key = `${m.type}:${m.view}:${m.height}`;
    const signed = this.signedEver[i] as Map<string, string>;
    const before = signed.get(key);
    if (before !== undefined && before !== digest) throw new Error(`replica ${i} signed two different ${m.type}s for view ${m.view}, height ${m.height}`);
    signed.set(key, digest);
  }

  private deliver(from: number, to: number, message: ConsensusMessage): void {
    const sent = { from, to, message };
    const verdict = this.filter(sent);
    if (verdict === false) return;
    const delivered = verdict === true ? message : verdict;
    this.sent.push({ from, to, message: delivered });
    this.queue.push({ to, event: { type: 'message', from, message: delivered } });
  }

  private apply(i: number, effects: Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
        case 'broadcast': {
          if (effect.persist) (this.wal[i] as ConsensusMessage[]).push(effect.message);
          if (mustPersist(effect.message) && !this.wal[i]?.some((m) => sameVote(m, effect.message))) {
            throw new Error(`replica ${i} sent a ${effect.message.type} it never persisted`);
          }
          this.checkNeverContradicts(i, effect.message);
          const targets = effect.type === 'send' ? [effect.to] : [...Array(this.n).keys()].filter((j) => j !== i);
          for (const to of targets) this.deliver(i, to, effect.message);
          break;
        }
        case 'persist':
          (this.wal[i] as ConsensusMessage[]).push(effect.message);
          break;
        case 'persist-prepared':
          this.prepared[i]?.push({ certificate: effect.certificate, block: effect.block });
          break;
        case 'build-proposal': {
          const take = Math.min(this.pending[i] ?? 0, 100);
          if (take === 0) {
            this.queue.push({ to: i, event: { type: 'proposal-built', height: effect.height, block: null } });
            break;
          }
          this.pending[i] = (this.pending[i] ?? 0) - take;
          const parentState = this.states.get(toHex(effect.parentHash));
          if (parentState === undefined) throw new Error(`replica ${i} built on an unexecuted parent`);
          const header: BlockHeader = {
            chainId: CHAIN_ID,
            height: effect.height,
            parentHash: effect.parentHash,
            view: effect.view,
            proposer: effect.proposer,
            timestamp: effect.timestamp,
            txCount: 0,
            txRoot: EMPTY_TX_ROOT,
            stateRoot: nextStateRoot(parentState, effect.height),
          };
          this.states.set(toHex(hashHeader(header)), header.stateRoot);
          this.batchSizes.set(toHex(hashHeader(header)), take);
          this.queue.push({ to: i, event: { type: 'proposal-built', height: effect.height, block: { header, txs: [] } } });
          this.queue.push({ to: i, event: { type: 'mempool', pending: this.pending[i] as number } });
          break;
        }
        case 'execute': {
          const parentState = this.states.get(toHex(effect.block.header.parentHash));
          const valid =
            parentState !== undefined &&
            !this.invalid.has(toHex(effect.blockHash)) &&
            bytesEqual(effect.block.header.stateRoot, nextStateRoot(parentState, effect.height));
          if (valid) this.states.set(toHex(effect.blockHash), effect.block.header.stateRoot);
          this.queue.push({ to: i, event: { type: 'executed', height: effect.height, blockHash: effect.blockHash, valid } });
          break;
        }
        case 'commit': {
          const chain = this.chain(i);
          const tip = chain[chain.length - 1];
          const expectedParent = tip?.hash ?? GENESIS_HASH;
          if (effect.block.header.height !== chain.length + 1 || !bytesEqual(effect.block.header.parentHash, expectedParent)) {
            throw new Error(`replica ${i} committed height ${effect.block.header.height} out of order`);
          }
          this.states.set(toHex(effect.blockHash), effect.block.header.stateRoot);
          chain.push({ block: effect.block, hash: effect.blockHash, certificate: effect.certificate });
          if (effect.block.header.proposer !== i) {
            // The committed txs leave this replica's mempool too (the proposer's left when it built).
            this.pending[i] = Math.max(0, (this.pending[i] ?? 0) - (this.batchSizes.get(toHex(effect.blockHash)) ?? 0));
            this.queue.push({ to: i, event: { type: 'mempool', pending: this.pending[i] as number } });
          }
          break;
        }
        case 'fetch': {
          const source = this.chains
            .map((c, j) => ({ c, j }))
            .filter(({ j }) => j !== i && !this.crashed.has(j))
            .sort((a, b) => b.c.length - a.c.length)[0];
          if (source === undefined) break;
          for (let h = effect.fromHeight; h <= Math.min(effect.toHeight, source.c.length); h++) {
            const entry = source.c[h - 1];
            if (entry === undefined) continue;
            this.queue.push({ to: i, event: { type: 'synced', block: entry.block, certificate: entry.certificate } });
          }
          break;
        }
        case 'evidence':
          this.evidence.push({ by: i, evidence: effect.evidence });
          break;
        case 'stable-checkpoint':
        case 'view-entered':
          break;
      }
    }
  }
}

/** Votes a replica must remember across a crash; PRE-PREPAREs and PREPAREs are instead never signed again in a view it was in. */
function mustPersist(m: ConsensusMessage): boolean {
  return m.type === 'commit' || m.type === 'view-change';
}

function sameVote(a: ConsensusMessage, b: ConsensusMessage): boolean {
  if (a.type === 'commit' && b.type === 'commit') {
    return a.view === b.view && a.height === b.height && bytesEqual(a.blockHash, b.blockHash);
  }
  if (a.type === 'view-change' && b.type === 'view-change') return a.newView === b.newView;
  return false;
}
