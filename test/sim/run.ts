/**
 * One seeded simulation run, VOPR style. The seed draws everything: the chain parameters,
 * which validators are Byzantine and how, the network's delays and losses, clock skews,
 * crashes, partitions and client load. A safety phase runs with all faults on; then the
 * liveness phase heals the network, restarts every crashed node, has clients resubmit what
 * was not confirmed, and demands that every honest node commit every valid tx within a
 * bounded virtual time. The first violation stops the run, with the command to reproduce it.
 */
import { faultTolerance } from '../../src/consensus/types.js';
import { STRATEGIES, isStrategy, type StrategyName } from './byzantine.js';
import { DEFAULT_CHAIN_PARAMS, type ChainParams } from './chain.js';
import { livenessBoundMs, ViolationError, type Violation } from './checker.js';
import { Clients } from './clients.js';
import { Cluster, type ByzantineSpec } from './cluster.js';
import type { CryptoMode } from './keys.js';
import type { NetworkProfile } from './network.js';
import type { SimNode } from './node.js';
import { Prng } from './prng.js';
import { Transcript } from './transcript.js';

/** 'none': all honest; 'mixed': each Byzantine node draws its own strategy; 'random': the seed picks. */
export type StrategyChoice = StrategyName | 'none' | 'mixed' | 'random';
export const STRATEGY_CHOICES: readonly StrategyChoice[] = ['none', ...STRATEGIES, 'mixed', 'random'];

export function isStrategyChoice(s: string): s is StrategyChoice {
  return s === 'none' || s === 'mixed' || s === 'random' || isStrategy(s);
}

export interface RunOptions {
  readonly seed: number;
  readonly n?: number;
  readonly strategy?: StrategyChoice;
  /** How many validators are Byzantine (default: f, or 0 for 'none'). */
  readonly byzantine?: number;
  readonly crypto?: CryptoMode;
  readonly wire?: boolean;
  /** Length of the safety phase (default: drawn from the seed, 4-20 s). */
  readonly safetyMs?: number;
  /** The liveness bound (default: livenessBoundMs of the drawn maxViewTimeoutMs, at least 60 s). */
  readonly livenessMs?: number;
  /** Shorter virtual durations and lighter load (the vitest campaigns); same faults. */
  readonly quick?: boolean;
  /** Keep a transcript (and, with `echo`, print it as it is made). */
  readonly transcript?: boolean;
  readonly echo?: (line: string) => void;
}

export interface RunResult {
  readonly seed: number;
  readonly n: number;
  /** Strategy per Byzantine validator, e.g. ["r2:equivocate"]. */
  readonly byzantine: readonly string[];
  readonly ok: boolean;
  readonly violation?: Violation;
  /** The command that reproduces this run. */
  readonly command: string;
  readonly virtualMs: number;
  /** Virtual ms from the start of the liveness phase until every honest node had every tx. */
  readonly convergeMs: number | undefined;
  readonly height: number;
  readonly txs: number;
  readonly viewChanges: number;
  readonly maxView: number;
  readonly fetches: number;
  readonly evidence: number;
  readonly crashes: number;
  readonly steps: number;
  readonly realMs: number;
  readonly transcript?: Transcript;
  /** A one-line description of the drawn schedule. */
  readonly schedule: string;
}

export function reproduceCommand(o: RunOptions): string {
  const parts = [`npm run sim -- --seed ${o.seed}`];
  if (o.strategy !== undefined && o.strategy !== 'random') parts.push(`--strategy ${o.strategy}`);
  parts.push(`--n ${o.n ?? 4}`);
  if (o.byzantine !== undefined) parts.push(`--byzantine ${o.byzantine}`);
  if (o.crypto === 'real') parts.push('--real-crypto');
  if (o.quick === true) parts.push('--quick');
  if (o.wire === true) parts.push('--wire');
  if (o.safetyMs !== undefined) parts.push(`--safety-ms ${o.safetyMs}`);
  if (o.livenessMs !== undefined) parts.push(`--liveness-ms ${o.livenessMs}`);
  return parts.join(' ');
}

interface Schedule {
  readonly chain: ChainParams;
  readonly byzantine: ByzantineSpec[];
  readonly network: NetworkProfile;
  readonly skews: number[];
  readonly safetyMs: number;
  readonly crashPerSec: number;
  /** Rate of crashing several honest nodes at once (2 to all of them), restarted together. */
  readonly massCrashPerSec: number;
  /**
   * Probability that the first commit of a height crashes every honest node at once: the
   * others have sent COMMIT but not yet committed, the moment a restart must not forget.
   */
  readonly crashOnCommit: number;
  readonly partitionPerSec: number;
  readonly profileChangePerSec: number;
  readonly txPerSec: number;
  readonly invalidTxRate: number;
  readonly tickMs: number;
  readonly execDelayMs: number;
}

function drawNetwork(prng: Prng): NetworkProfile {
  return {
    minDelayMs: prng.range(1, 20),
    meanExtraDelayMs: prng.pick([0, 2, 10, 30, 80]),
    lossRate: prng.pick([0, 0, 0.01, 0.05, 0.1, 0.25]),
    duplicateRate: prng.pick([0, 0, 0.01, 0.05, 0.2]),
  };
}

/**
 * The strategy a run uses. 'random' is drawn from a stream of its own (derived from the
 * seed), so that `--seed N` and `--seed N --strategy <what it drew>` are the same run, and
 * the printed command names the strategy and stays valid when strategies are added.
 */
export function resolveStrategy(o: Pick<RunOptions, 'seed' | 'strategy'>): Exclude<StrategyChoice, 'random'> {
  const choice = o.strategy ?? 'random';
  if (choice !== 'random') return choice;
  return new Prng(o.seed + 0x5f3759df).pick(STRATEGY_CHOICES.filter((s): s is Exclude<StrategyChoice, 'random'> => s !== 'random'));
}

function drawSchedule(prng: Prng, o: RunOptions): Schedule {
  const n = o.n ?? 4;
  const f = faultTolerance(n);
  const choice = resolveStrategy(o);
  const count = choice === 'none' ? 0 : Math.min(f, o.byzantine ?? f);
  const indexes = prng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, count).sort((a, b) => a - b);
  const byzantine = indexes.map((index) => ({
    index,
    strategy: choice === 'mixed' ? prng.pick(STRATEGIES) : (choice as StrategyName),
  }));
  const checkpointInterval = prng.pick([2, 4, 8, 16]);
  const viewTimeoutMs = prng.pick([300, 500, 1_000, 2_000]);
  const maxClockSkewMs = 1_000;
  const chain: ChainParams = {
    ...DEFAULT_CHAIN_PARAMS,
    n,
    crypto: o.crypto ?? 'fake',
    clients: prng.range(1, 8),
    maxBlockTxs: prng.pick([1, 3, 10, 50]),
    checkpointInterval,
    windowSize: checkpointInterval * prng.range(1, 4),
    viewTimeoutMs,
    maxViewTimeoutMs: viewTimeoutMs * prng.pick([4, 8, 16]),
    retransmitMs: prng.range(100, 400),
    maxClockSkewMs,
  };
  const network = drawNetwork(prng);
  const twins = byzantine.filter((b) => b.strategy === 'twins').length;
  // Pairwise skew stays below maxClockSkewMs, so honest proposals are never "from the future".
  const skews = Array.from({ length: n + twins }, () => prng.range(-Math.floor(maxClockSkewMs / 3), Math.floor(maxClockSkewMs / 3)));
  return {
    chain,
    byzantine,
    network,
    skews,
    safetyMs: o.safetyMs ?? (o.quick === true ? prng.range(1_500, 5_000) : prng.range(4_000, 20_000)),
    crashPerSec: prng.pick([0, 0, 0.1, 0.3, 1]),
    massCrashPerSec: prng.pick([0, 0, 0, 0.05, 0.2]),
    crashOnCommit: prng.pick([0, 0, 0, 0.02, 0.1]),
    partitionPerSec: prng.pick([0, 0, 0.1, 0.3, 1]),
    profileChangePerSec: prng.pick([0, 0.05, 0.2]),
    // Load the chain can carry: heights commit one after another, so few txs per block
    // means few txs per second.
    txPerSec: prng.pick((o.quick === true ? [2, 10, 30] : [2, 10, 30, 100]).filter((r) => r <= Math.max(2, chain.maxBlockTxs * 3))),
    invalidTxRate: prng.pick([0, 0.02, 0.1]),
    tickMs: prng.pick([10, 20, 50]),
    execDelayMs: prng.pick([0, 2, 10]),
  };
}

function describeSchedule(s: Schedule): string {
  const c = s.chain;
  const net = s.network;
  return [
    `n=${c.n} clients=${c.clients} block<=${c.maxBlockTxs} ckpt=${c.checkpointInterval} window=${c.windowSize}`,
    `timeout=${c.viewTimeoutMs}..${c.maxViewTimeoutMs}ms retransmit=${c.retransmitMs}ms tick=${s.tickMs}ms`,
    `net=${net.minDelayMs}+exp(${net.meanExtraDelayMs})ms loss=${net.lossRate} dup=${net.duplicateRate}`,
    `crash/s=${s.crashPerSec} mass-crash/s=${s.massCrashPerSec} crash-on-commit=${s.crashOnCommit} partition/s=${s.partitionPerSec} tx/s=${s.txPerSec} safety=${s.safetyMs}ms`,
  ].join(' ');
}

/** The fault process of the safety phase: crashes, restarts, partitions, network changes, client load. */
class Chaos {
  private active = true;

  constructor(
    private readonly cluster: Cluster,
    private readonly clients: Clients,
    private readonly prng: Prng,
    private readonly s: Schedule,
  ) {}

  start(): void {
    this.cluster.queue.after(100, () => this.faultTick());
    if (this.s.txPerSec > 0) this.scheduleTx();
  }

  stop(): void {
    this.active = false;
  }

  private scheduleTx(): void {
    this.cluster.queue.after(this.prng.exponential(1000 / this.s.txPerSec), () => {
      if (!this.active) return;
      this.clients.submitRandom(this.s.invalidTxRate);
      this.scheduleTx();
    });
  }

  private faultTick(): void {
    if (!this.active) return;
    const c = this.cluster;
    const p = 0.1; // this tick is a tenth of a second
    if (this.prng.chance(this.s.crashPerSec * p)) {
      const up = c.honestNodes().filter((x) => x.up);
      if (up.length > 0) {
        const victim = this.prng.pick(up);
        c.crash(victim);
        c.queue.after(this.prng.exponential(2_000), () => {
          if (this.active) c.restart(victim);
        });
      }
    }
    if (this.prng.chance(this.s.massCrashPerSec * p)) {
      const up = this.prng.shuffle(c.honestNodes().filter((x) => x.up));
      this.crashTogether(up.slice(0, this.prng.range(Math.min(2, up.length), up.length)));
    }
    if (this.prng.chance(this.s.partitionPerSec * p) && !c.net.partitioned) {
      this.partition();
      c.queue.after(this.prng.exponential(2_500), () => {
        if (this.active) c.heal();
      });
    }
    if (this.prng.chance(this.s.profileChangePerSec * p)) c.net.setProfile(drawNetwork(this.prng));
    c.queue.after(100, () => this.faultTick());
  }

  /**
   * The first commit of a height: maybe every honest node goes down before the others have
   * committed it too (they have sent COMMIT: the moment a restart must not forget). The node
   * that committed comes back last, so the others may change view without its word.
   */
  onCommit(committer: SimNode, first: boolean): void {
    if (!this.active || !first || !this.prng.chance(this.s.crashOnCommit)) return;
    // After the current event: the committing node's step has finished.
    this.cluster.queue.after(0, () => {
      if (!this.active) return;
      const victims = this.cluster.honestNodes().filter((x) => x.up);
      this.crashTogether(victims.filter((x) => x !== committer));
      if (!committer.up) return;
      this.cluster.crash(committer);
      this.cluster.queue.after(this.prng.range(1_000, 6_000), () => {
        if (this.active) this.cluster.restart(committer);
      });
    });
  }

  private crashTogether(victims: readonly SimNode[]): void {
    if (victims.length === 0) return;
    const c = this.cluster;
    for (const v of victims) c.crash(v);
    c.queue.after(this.prng.range(50, 1_000), () => {
      if (this.active) for (const v of victims) c.restart(v);
    });
  }

  private partition(): void {
    const c = this.cluster;
    const nodes = c.nodes;
    switch (this.prng.int(4)) {
      case 0: {
        // Isolate the primary of the view most honest replicas are in.
        const primary = c.currentPrimary();
        const inside = nodes.filter((x) => x.index === primary);
        c.partition([inside, nodes.filter((x) => x.index !== primary)]);
        break;
      }
      case 1: {
        const lone = this.prng.pick(nodes);
        c.partition([[lone], nodes.filter((x) => x !== lone)]);
        break;
      }
      case 2: {
        const shuffled = this.prng.shuffle([...nodes]);
        const cut = this.prng.range(1, shuffled.length - 1);
        c.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        break;
      }
      default: {
        // Some one-way links.
        for (let i = 0, k = this.prng.range(1, nodes.length); i < k; i++) {
          const a = this.prng.pick(nodes);
          const b = this.prng.pick(nodes);
          if (a !== b) c.net.blockLink(a.id, b.id);
        }
        c.log('NET one-way links cut');
      }
    }
  }
}

export function runSeed(o: RunOptions): RunResult {
  const started = performance.now();
  const prng = new Prng(o.seed);
  const s = drawSchedule(prng, o);
  const transcript = o.transcript === true || o.echo !== undefined ? new Transcript(o.echo) : undefined;
  let chaos: Chaos | undefined;
  const cluster = new Cluster(prng, {
    chain: s.chain,
    byzantine: s.byzantine,
    tickMs: s.tickMs,
    skews: s.skews,
    network: s.network,
    wire: o.wire === true,
    execDelayMs: s.execDelayMs,
    fetchBatch: 64,
    onCommit: (node, _height, first) => chaos?.onCommit(node, first),
    ...(transcript === undefined ? {} : { transcript }),
  });
  const clients = new Clients(cluster, prng);
  chaos = new Chaos(cluster, clients, prng, s);
  const livenessMs = o.livenessMs ?? livenessBoundMs(s.chain.maxViewTimeoutMs);
  let violation: Violation | undefined;
  let convergeMs: number | undefined;
  try {
    cluster.start();
    chaos.start();
    cluster.runUntilTime(s.safetyMs);
    // Liveness phase: faults stop, the network heals, everyone comes back, clients retry.
    chaos.stop();
    cluster.heal();
    // A healthy network: no loss, and delays well inside the smallest view timeout drawn
    // (the replicas' timeouts reset after each commit, so a network slower than the base
    // timeout would make every view after a commit fail: slow, but not what this phase tests).
    const p = cluster.net.currentProfile;
    cluster.net.setProfile({ minDelayMs: p.minDelayMs, meanExtraDelayMs: Math.min(p.meanExtraDelayMs, 10), lossRate: 0, duplicateRate: 0 });
    for (const node of cluster.nodes) cluster.restart(node);
    const resent = clients.resubmitUnconfirmed();
    cluster.log(`LIVENESS phase: ${resent} txs resubmitted`);
    const start = cluster.now;
    if (cluster.runUntil(() => cluster.converged(), start + livenessMs)) {
      convergeMs = cluster.now - start;
    } else {
      cluster.checker.fail('liveness', '', livenessReport(cluster, livenessMs), {
        unconfirmed: cluster.checker.unconfirmedCount,
        requiredHeight: cluster.checker.requiredHeight,
      });
    }
  } catch (e) {
    if (e instanceof ViolationError) violation = e.violation;
    else {
      violation = {
        kind: 'exception',
        time: cluster.now,
        node: '',
        message: `the simulator threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        context: {},
      };
    }
  }
  const result: RunResult = {
    seed: o.seed,
    n: s.chain.n,
    byzantine: s.byzantine.map((b) => `r${b.index}:${b.strategy}`),
    ok: violation === undefined,
    command: reproduceCommand({ ...o, strategy: resolveStrategy(o) }),
    virtualMs: cluster.now,
    convergeMs,
    height: cluster.maxHeight(),
    txs: cluster.checker.submittedCount,
    viewChanges: cluster.stats.viewChanges,
    maxView: cluster.stats.maxView,
    fetches: cluster.stats.fetches,
    evidence: cluster.stats.evidence,
    crashes: cluster.stats.crashes,
    steps: cluster.stats.steps,
    realMs: performance.now() - started,
    schedule: describeSchedule(s),
    ...(violation === undefined ? {} : { violation }),
    ...(transcript === undefined ? {} : { transcript }),
  };
  return result;
}

function livenessReport(cluster: Cluster, livenessMs: number): string {
  const nodes = cluster.nodes
    .filter((x: SimNode) => x.honest)
    .map((x) => `${x.name}: height ${x.height} view ${x.replica?.view ?? '-'}${x.replica?.isViewChanging === true ? ' (changing)' : ''} mempool ${x.mempool.size}`)
    .join('; ');
  return `not converged ${livenessMs}ms after faults stopped: ${cluster.checker.unconfirmedCount} txs unconfirmed, need height ${cluster.checker.requiredHeight}; ${nodes}`;
}

export function formatViolation(r: RunResult): string {
  const v = r.violation;
  if (v === undefined) return '';
  const ctx = Object.entries(v.context)
    .map(([k, val]) => `${k}=${val}`)
    .join(' ');
  return [
    `VIOLATION ${v.kind} at t=${v.time}ms${v.node === '' ? '' : ` on ${v.node}`}: ${v.message}`,
    ctx === '' ? undefined : `  context: ${ctx}`,
    `  byzantine: ${r.byzantine.length === 0 ? 'none' : r.byzantine.join(' ')}`,
    `  schedule: ${r.schedule}`,
    `  reproduce: ${r.command}`,
  ]
    .filter((l) => l !== undefined)
    .join('\n');
}
