/**
 * One chaos run against real processes: four validators behind the fault proxy (one of
 * them possibly Byzantine), steady signed load, and faults drawn from one seeded PRNG, one
 * at a time with recovery in between. At the end the network quiesces, the nodes stop, and
 * the honest stores are checked: every acknowledged tx exactly once on every honest chain,
 * the chains identical, `ledgerctl verify` clean. Liveness is checked along the way: after
 * each fault the network must commit again and the node catch up within a bound, and the
 * longest stretch without a commit under load is measured.
 *
 * The seed decides the schedule (which faults, on whom, for how long, and whether and how
 * a validator is Byzantine); the processes' timing is real, so a seed replays the schedule,
 * not every interleaving.
 */
import { BYZANTINE_MODES, type ByzantineMode } from '../../src/node/byzantine.js';
import { Prng } from '../sim/prng.js';
import { checkTxs, compareChains, scanChain, verifyHome, type ChainScan } from './check.js';
import { describeFault, drawFault, runFault, type Fault, type FaultKind } from './faults.js';
import { LoadGenerator } from './load.js';
import { ChaosNetwork, CHAIN_ID, sleep, type NodeStatus } from './network.js';

export type ByzantineChoice = ByzantineMode | 'none' | 'auto';
export const BYZANTINE_CHOICES: readonly ByzantineChoice[] = [...BYZANTINE_MODES, 'none', 'auto'];

export interface ChaosOptions {
  readonly seed: number;
  readonly durationS: number;
  /** 'auto' (default): the seed decides whether one validator is Byzantine, and how. */
  readonly byzantine?: ByzantineChoice;
  /** Fault kinds to run, in order (targets and durations still drawn); default: drawn until the time is up. */
  readonly plan?: readonly FaultKind[];
  /** Txs started per second. Default 30. */
  readonly rate?: number;
  /** Client accounts. Default 40. */
  readonly accounts?: number;
  /** Genesis view timeout. Default 1000 ms. */
  readonly viewTimeoutMs?: number;
  /** A stretch without a commit under load longer than this fails the run. Default 30 s. */
  readonly maxStallMs?: number;
  /** Time for the network to commit again, and the faulted node to catch up, after a fault. Default 60 s. */
  readonly recoveryTimeoutMs?: number;
  /** Caps every fault's duration and the gap after it (short runs). */
  readonly maxFaultMs?: number;
  /** Keep the run's directory (it is kept anyway when the run fails). */
  readonly keep?: boolean;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface FaultRecord {
  readonly description: string;
  /** From the fault's end to the network's next commit. */
  readonly recommitMs: number;
  /** From the fault's end until the faulted node had caught up. */
  readonly catchUpMs: number;
}

export interface ChaosReport {
  readonly ok: boolean;
  readonly seed: number;
  readonly durationS: number;
  readonly byzantine: { readonly node: number; readonly mode: ByzantineMode } | undefined;
  readonly faults: readonly FaultRecord[];
  readonly acked: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly longestStallMs: number;
  readonly honestChains: 'identical' | 'diverged' | 'unchecked';
  readonly verify: 'ok' | 'failed' | 'unchecked';
  readonly height: number;
  readonly failures: readonly string[];
  /** Everything else worth knowing (load counters, proxy counters, per-fault times). */
  readonly details: readonly string[];
  readonly dir: string;
  /** The one-line summary. */
  readonly summary: string;
  /** The command that replays this run's schedule. */
  readonly replay: string;
}

/**
 * Resolves 'auto' from the seed (its own PRNG stream, so the fault schedule is unaffected).
 * The Byzantine validator is node 0, the primary of view 0: faults only ever hit the
 * Byzantine node in such a run, so views move only when it fails, and a Byzantine node
 * that is not primary at the start would never lead a view (equivocation needs that).
 */
export function resolveByzantine(seed: number, choice: ByzantineChoice): { node: number; mode: ByzantineMode } | undefined {
  const prng = new Prng(seed ^ 0x5eed);
  if (choice === 'none') return undefined;
  if (choice !== 'auto') return { node: 0, mode: choice };
  if (prng.chance(0.5)) return undefined;
  return { node: 0, mode: prng.pick(BYZANTINE_MODES) };
}

export function replayCommand(seed: number, durationS: number, byzantine: ByzantineChoice, plan?: readonly FaultKind[]): string {
  const parts = ['npm run chaos --', `--seed ${seed}`, `--duration ${durationS}`, `--byzantine ${byzantine}`];
  if (plan !== undefined) parts.push(`--plan ${plan.join(',')}`);
  return parts.join(' ');
}

const N = 4;
/** A running node that answers no RPC for this long is stuck. */
const UNRESPONSIVE_MS = 20_000;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const seed = options.seed;
  const choice = options.byzantine ?? 'auto';
  const byzantine = resolveByzantine(seed, choice);
  const prng = new Prng(seed);
  const proxyPrng = new Prng(seed + 1);
  const loadPrng = new Prng(seed + 2);
  const maxStallMs = options.maxStallMs ?? 30_000;
  const recoveryTimeoutMs = options.recoveryTimeoutMs ?? 60_000;
  const failures: string[] = [];
  const details: string[] = [];
  const faults: FaultRecord[] = [];
  const replay = replayCommand(seed, options.durationS, byzantine?.mode ?? 'none', options.plan);

  const network = await ChaosNetwork.create({
    n: N,
    accounts: options.accounts ?? 40,
    viewTimeoutMs: options.viewTimeoutMs ?? 1_000,
    random: () => proxyPrng.float(),
    ...(byzantine !== undefined ? { byzantine } : {}),
  });
  log(`chaos: seed=${seed} dir=${network.dir} byzantine=${byzantine === undefined ? 'none' : `${byzantine.mode}@node${byzantine.node}`}`);
  const honest = network.honest();
  const load = new LoadGenerator({
    chainId: CHAIN_ID,
    accounts: network.accounts,
    rate: options.rate ?? 30,
    // Not a node that is down, paused or cut off: clients of those would only wait out
    // their timeouts, and the load would dry up without the network being at fault.
    targets: () => honest.filter((i) => network.state[i] === 'running' && !network.isIsolated(i)),
    rpcUrl: (i) => network.rpcUrl(i),
    prng: loadPrng,
    commitTimeoutMs: 10_000,
  });
  const monitor = new Monitor(network, honest, load);
  let scans: ChainScan[] = [];
  let honestChains: ChaosReport['honestChains'] = 'unchecked';
  let verify: ChaosReport['verify'] = 'unchecked';
  let lost = 0;
  let duplicated = 0;

  try {
    await Promise.all(Array.from({ length: N }, (_, i) => network.start(i)));
    log('all validators answer');
    monitor.start();
    load.start();
    // Warm up: the network commits before the first fault.
    await monitor.waitForCommitAfter(Date.now(), 30_000, 'the first commit');

    const deadline = Date.now() + options.durationS * 1_000;
    const plan = options.plan;
    for (let i = 0; plan !== undefined ? i < plan.length : Date.now() < deadline; i++) {
      if (monitor.failure !== undefined) break;
      const drawn = drawFault(prng, N, byzantine?.node, plan?.[i]);
      const cap = options.maxFaultMs ?? Number.POSITIVE_INFINITY;
      const fault: Fault = { ...drawn, durationMs: Math.min(drawn.durationMs, cap), gapMs: Math.min(drawn.gapMs, cap) };
      // restart-all takes the whole network down on purpose: that outage is not a stall.
      monitor.outage = fault.kind === 'restart-all';
      const target = await runFault(fault, { network, load, primary: () => monitor.primary() });
      monitor.outage = false;
      const description = describeFault(fault, target);
      const endedAt = Date.now();
      const heightAtEnd = monitor.maxHeight;
      const recommitMs = (await monitor.waitForCommitAfter(endedAt, recoveryTimeoutMs, `a commit after ${description}`)) - endedAt;
      // Every honest node, not only the one hit: a node that silently fell behind would make the next fault a second one.
      const caughtUp = await Promise.all(honest.map((i) => monitor.waitForNode(i, heightAtEnd, recoveryTimeoutMs, description)));
      const catchUpMs = Math.max(...caughtUp) - endedAt;
      faults.push({ description, recommitMs, catchUpMs });
      log(`fault ${faults.length}: ${description}: recommit ${recommitMs} ms, caught up ${catchUpMs} ms, height ${monitor.maxHeight}, acked ${load.acked.size}`);
      await sleep(fault.gapMs);
    }
    // Without a plan, keep the load on for whatever time the last fault left.
    if (plan === undefined && monitor.failure === undefined) await sleep(Math.max(0, deadline - Date.now()));
  } catch (err) {
    failures.push((err as Error).message);
  }
  if (monitor.failure !== undefined && !failures.includes(monitor.failure)) failures.push(monitor.failure);

  // Whatever happened above, stop and look at the stores: they say what went wrong (a fork, a node left behind).
  // Clients keep resubmitting what is not acknowledged yet for a while (unless the run already failed).
  await load.stop(failures.length === 0 ? 60_000 : 0);
  monitor.stop();
  const started = network.state.some((st) => st !== 'down');
  try {
    if (failures.length === 0) {
      const quiet = await quiesce(network, honest, 90_000);
      log(`quiesced at height ${quiet.height}`);
    }
  } catch (err) {
    failures.push((err as Error).message);
  }
  try {
    if (started) {
      const evidence = await Promise.all(
        honest.map(async (i) => {
          const r = await network.call(i, 'evidence');
          return `node${i} ${r.ok ? (r.value as { count: number }).count : '?'}`;
        }),
      );
      details.push(`equivocation evidence held: ${evidence.join(', ')}`);
    }
    log('stopping the validators');
    await Promise.all(Array.from({ length: N }, (_, i) => network.stop(i)));

    scans = await Promise.all(honest.map((i) => scanChain(i, network.home(i))));
    const comparison = compareChains(scans);
    honestChains = comparison.identical ? 'identical' : 'diverged';
    failures.push(...comparison.differences);
    const txCheck = checkTxs(load.acked, load.signed, scans);
    lost = txCheck.lost.length;
    duplicated = txCheck.duplicated.length;
    if (lost > 0) failures.push(`${lost} acknowledged txs missing, e.g. ${txCheck.lost.slice(0, 3).join(', ')}`);
    if (duplicated > 0) failures.push(`${duplicated} txs committed twice, e.g. ${txCheck.duplicated.slice(0, 3).join(', ')}`);
    if (txCheck.misplaced.length > 0) failures.push(`${txCheck.misplaced.length} txs not where their ack said: ${txCheck.misplaced.slice(0, 3).join('; ')}`);
    details.push(`committed but unacknowledged txs: ${txCheck.committedUnacked}`);

    log('chains scanned; verifying every home');
    const verified = await Promise.all(Array.from({ length: N }, async (_, i) => ({ i, result: await verifyHome(network.home(i)) })));
    verify = 'ok';
    for (const { i, result } of verified) {
      if (result.ok) continue;
      if (network.isByzantine(i)) details.push(`byzantine node${i} does not verify: ${result.output.trim()}`);
      else {
        verify = 'failed';
        failures.push(`node${i} fails ledgerctl verify: ${result.output.trim()}`);
      }
    }
  } catch (err) {
    failures.push((err as Error).message);
  }

  const stats = load.stats;
  details.push(
    `load: acked ${load.acked.size} of ${load.signed.size} signed; attempts ${stats.attempts}, commit timeouts ${stats.commitTimeouts}, ` +
      `transport errors ${stats.transportErrors}, rejections ${stats.rejections}, mempool full ${stats.mempoolFull}, unacknowledged at stop ${stats.unacknowledged}`,
  );
  if (stats.commitTimeouts > 0) details.push(`commit timeouts by node: ${JSON.stringify(stats.commitTimeoutsByNode)}`);
  for (const sample of stats.rejectionSamples) details.push(`rejection: ${sample}`);
  const p = network.proxy.stats;
  details.push(`proxy: accepted ${p.accepted}, unidentified ${p.unidentified}, refused/cut ${p.refused}, dropped chunks ${p.droppedChunks}`);
  details.push(`longest stall ${monitor.longestStallMs} ms (at ${monitor.longestStallAt}), starts per node ${network.starts.join('/')}`);
  for (const f of faults) details.push(`fault: ${f.description}: recommit ${f.recommitMs} ms, caught up ${f.catchUpMs} ms`);
  if (monitor.longestStallMs > maxStallMs) failures.push(`the longest stall under load was ${monitor.longestStallMs} ms (bound ${maxStallMs} ms)`);
  for (const unclean of network.uncleanStops) failures.push(`a graceful stop failed: ${unclean}`);

  const ok = failures.length === 0;
  const summary =
    `chaos: seed=${seed} duration=${options.durationS}s faults=${faults.length} acked=${load.acked.size} lost=${lost} duplicated=${duplicated} ` +
    `longest_stall=${monitor.longestStallMs}ms honest_chains=${honestChains} verify=${verify}`;
  await network.destroy(options.keep === true || !ok);
  return {
    ok,
    seed,
    durationS: options.durationS,
    byzantine,
    faults,
    acked: load.acked.size,
    lost,
    duplicated,
    longestStallMs: monitor.longestStallMs,
    honestChains,
    verify,
    height: scans[0]?.tipHeight ?? monitor.maxHeight,
    failures,
    details,
    dir: network.dir,
    summary,
    replay,
  };
}

/** Waits until every honest node runs, has an empty mempool, and all show the same tip, for a few polls in a row. */
async function quiesce(network: ChaosNetwork, honest: readonly number[], timeoutMs: number): Promise<{ height: number }> {
  const deadline = Date.now() + timeoutMs;
  let stable = 0;
  let last = '';
  let seen: string[] = [];
  while (Date.now() < deadline) {
    const statuses = await Promise.all(honest.map((i) => network.status(i)));
    const pending = await Promise.all(
      honest.map(async (i) => {
        const r = await network.call(i, 'num_unconfirmed_txs');
        return r.ok ? (r.value as { count: number }).count : -1;
      }),
    );
    seen = statuses.map((s, k) => `node${honest[k]}: ${s === undefined ? 'no answer' : `${s.latest_height}/${s.latest_block_hash.slice(0, 8)} view ${s.view}`} mempool ${pending[k]}`);
    const tips = new Set(statuses.map((s) => (s === undefined ? 'none' : `${s.latest_height}/${s.latest_block_hash}`)));
    const key = [...tips].join();
    if (tips.size === 1 && !tips.has('none') && pending.every((c) => c === 0) && key === last) {
      if (++stable >= 3) return { height: (statuses[0] as NodeStatus).latest_height };
    } else stable = 0;
    last = key;
    await sleep(500);
  }
  throw new Error(`the honest nodes did not quiesce within ${timeoutMs} ms: ${seen.join('; ')}\n${await describePending(network, honest)}`);
}

/** For a run that does not quiesce: each pending tx, where it is known, and its sender's nonce everywhere. */
async function describePending(network: ChaosNetwork, honest: readonly number[]): Promise<string> {
  const lines: string[] = [];
  for (const i of honest) {
    const r = await network.call(i, 'unconfirmed_txs', { limit: 10 });
    if (!r.ok) continue;
    for (const tx of (r.value as { txs: { hash: string; sender_address: string; nonce: string }[] }).txs) {
      const where = await Promise.all(
        honest.map(async (j) => {
          const committed = await network.call(j, 'tx', { hash: tx.hash });
          const account = await network.call(j, 'account', { address: tx.sender_address });
          const a = account.ok ? (account.value as { nonce: string; pending_nonce: string }) : undefined;
          return `node${j}: ${committed.ok ? 'committed' : 'not committed'}, sender nonce ${a?.nonce ?? '?'} pending ${a?.pending_nonce ?? '?'}`;
        }),
      );
      lines.push(`pending at node${i}: tx ${tx.hash.slice(0, 12)} from ${tx.sender_address.slice(0, 8)} nonce ${tx.nonce}: ${where.join('; ')}`);
    }
  }
  return lines.join('\n');
}

/**
 * Watches the honest nodes: the highest committed height, the longest stretch without a
 * commit while txs wait, the primary, and nodes that die or halt on their own.
 */
class Monitor {
  maxHeight = 0;
  longestStallMs = 0;
  longestStallAt = '';
  failure: string | undefined;
  /** Set while every validator is down on purpose (restart-all). */
  outage = false;
  private lastProgressAt = Date.now();
  private readonly latest = new Map<number, NodeStatus>();
  private readonly heightSeenAt: { height: number; at: number }[] = [];
  private readonly answeredAt = new Map<number, number>();
  private readonly diagnosed = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private polls = 0;

  constructor(
    private readonly network: ChaosNetwork,
    private readonly honest: readonly number[],
    private readonly load: LoadGenerator,
  ) {}

  start(): void {
    this.lastProgressAt = Date.now();
    this.timer = setInterval(() => void this.poll(), 200);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.polls++;
      const now = Date.now();
      const statuses = await Promise.all(this.honest.map(async (i) => [i, await this.network.status(i, 1_000)] as const));
      for (const [i, s] of statuses) {
        if (s !== undefined) this.latest.set(i, s);
        if (s !== undefined || this.network.state[i] !== 'running') this.answeredAt.set(i, now);
      }
      await this.checkResponsive(now);
      const top = Math.max(this.maxHeight, ...statuses.map(([, s]) => s?.latest_height ?? 0));
      if (top > this.maxHeight) {
        this.maxHeight = top;
        this.heightSeenAt.push({ height: top, at: now });
        if (this.heightSeenAt.length > 10_000) this.heightSeenAt.splice(0, 5_000);
        this.lastProgressAt = now;
      } else if (this.load.inFlight === 0 || this.outage) {
        this.lastProgressAt = now; // nothing waits, or the whole network is down on purpose: not a stall
      }
      const stall = now - this.lastProgressAt;
      if (stall > this.longestStallMs) {
        this.longestStallMs = stall;
        this.longestStallAt = `${new Date(this.lastProgressAt).toISOString()} at height ${this.maxHeight}`;
      }
      for (const i of this.honest) {
        if (this.network.crashed(i) && this.failure === undefined) this.failure = `node${i} died on its own: ${await this.network.tail(i, 1_500)}`;
      }
      if (this.polls % 10 === 5) await this.checkForks();
      if (this.polls % 10 === 0) {
        for (const i of this.honest) {
          const h = await this.network.call(i, 'health', undefined, 1_000);
          if (h.ok && (h.value as { ok: boolean }).ok === false && this.failure === undefined) {
            this.failure = `node${i} is unhealthy: ${JSON.stringify((h.value as { reasons: string[] }).reasons)}`;
          }
        }
      }
    } finally {
      this.polling = false;
    }
  }

  /**
   * Two honest nodes with different blocks at one height is a fork: for each node's tip,
   * ask a node at least as high for its block hash at that height.
   */
  private async checkForks(): Promise<void> {
    const tips = [...this.latest].filter(([i]) => this.network.state[i] === 'running');
    for (const [i, s] of tips) {
      const higher = tips.find(([j, t]) => j !== i && t.latest_height >= s.latest_height && s.latest_height > 0);
      if (higher === undefined) continue;
      const [j] = higher;
      const r = await this.network.call(j, 'header', { height: s.latest_height }, 1_000);
      if (!r.ok) continue;
      const other = (r.value as { hash: string }).hash;
      if (other !== s.latest_block_hash && this.failure === undefined) {
        this.failure = `FORK: at height ${s.latest_height} node${i} committed ${s.latest_block_hash} but node${j} committed ${other}`;
      }
    }
  }

  /** A running node that has not answered `status` for a while is stuck: find out where, once. */
  private async checkResponsive(now: number): Promise<void> {
    for (const i of this.honest) {
      const since = this.answeredAt.get(i) ?? now;
      if (now - since < UNRESPONSIVE_MS || this.diagnosed.has(i) || this.network.state[i] !== 'running') continue;
      this.diagnosed.add(i);
      const where = await this.network.diagnose(i);
      this.failure ??= `node${i} has not answered RPC for ${now - since} ms while running: ${where}`;
    }
  }

  /** The primary of the highest view an honest node reports. */
  async primary(): Promise<number | undefined> {
    const statuses = await Promise.all(this.honest.map((i) => this.network.status(i, 1_000)));
    const views = statuses.filter((s): s is NodeStatus => s !== undefined).map((s) => s.view);
    return views.length === 0 ? undefined : Math.max(...views) % this.network.n;
  }

  /** Resolves with the time of the first commit seen after `since`; throws after timeoutMs. */
  async waitForCommitAfter(since: number, timeoutMs: number, what: string): Promise<number> {
    const deadline = since + timeoutMs;
    while (Date.now() < deadline) {
      if (this.failure !== undefined) throw new Error(this.failure);
      const seen = this.heightSeenAt.find((e) => e.at > since);
      if (seen !== undefined) return seen.at;
      await sleep(100);
    }
    throw new Error(`no recovery: no commit within ${timeoutMs} ms waiting for ${what} (height ${this.maxHeight}; ${this.describe()})`);
  }

  /** Resolves with the time node i reached `height`; throws after timeoutMs. */
  async waitForNode(i: number, height: number, timeoutMs: number, what: string): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.failure !== undefined) throw new Error(this.failure);
      const s = await this.network.status(i, 1_000);
      if (s !== undefined && s.latest_height >= height) return Date.now();
      await sleep(200);
    }
    throw new Error(`no recovery: node${i} did not catch up to height ${height} within ${timeoutMs} ms after ${what} (${this.describe()})`);
  }

  private describe(): string {
    return [...this.latest].map(([i, s]) => `node${i} ${s.latest_height} view ${s.view}${s.catching_up ? ' catching up' : ''} peers ${s.peers}`).join(', ');
  }
}
