/**
 * Scripted runs for scenario tests, in the spirit of etcd raft's interaction tests: a calm,
 * deterministic cluster that a test drives step by step ("submit 5 txs", "crash r0", "run
 * until every replica is at height 3") while a transcript records what happened.
 */
import type { ConsensusMessage } from '../../src/codec/types.js';
import type { StrategyName } from './byzantine.js';
import { DEFAULT_CHAIN_PARAMS, type ChainParams } from './chain.js';
import { Clients } from './clients.js';
import { Cluster } from './cluster.js';
import type { NetworkProfile } from './network.js';
import type { SimNode } from './node.js';
import { Prng } from './prng.js';
import { Transcript } from './transcript.js';

export interface ScenarioOptions {
  readonly seed?: number;
  readonly chain?: Partial<ChainParams>;
  readonly byzantine?: readonly { readonly index: number; readonly strategy: StrategyName }[];
  readonly network?: NetworkProfile;
  readonly tickMs?: number;
  /** Clock skew per node id (default all 0). */
  readonly skews?: readonly number[];
  /** Message types kept out of the transcript (default: status beacons). */
  readonly quiet?: readonly ConsensusMessage['type'][];
  readonly echo?: (line: string) => void;
}

export const SCRIPT_NETWORK: NetworkProfile = { minDelayMs: 5, meanExtraDelayMs: 0, lossRate: 0, duplicateRate: 0 };

export class Scenario {
  readonly cluster: Cluster;
  readonly transcript: Transcript;
  readonly clients: Clients;

  constructor(o: ScenarioOptions = {}) {
    const prng = new Prng(o.seed ?? 1);
    this.transcript = new Transcript(o.echo);
    const chain: ChainParams = { ...DEFAULT_CHAIN_PARAMS, clients: 4, maxBlockTxs: 10, viewTimeoutMs: 500, maxViewTimeoutMs: 4_000, ...o.chain };
    this.cluster = new Cluster(prng, {
      chain,
      byzantine: o.byzantine ?? [],
      tickMs: o.tickMs ?? 10,
      skews: o.skews ?? [],
      network: o.network ?? SCRIPT_NETWORK,
      wire: false,
      execDelayMs: 0,
      fetchBatch: 64,
      transcript: this.transcript,
      quiet: new Set(o.quiet ?? ['status']),
    });
    this.clients = new Clients(this.cluster, prng);
    this.cluster.start();
  }

  node(name: string): SimNode {
    const node = this.cluster.nodes.find((x) => x.name === name);
    if (node === undefined) throw new RangeError(`no node ${name}`);
    return node;
  }

  get now(): number {
    return this.cluster.now;
  }

  /** `count` valid txs, from clients in turn, each handed to `to` (default: every node). */
  submit(count: number, to?: readonly string[]): void {
    const targets = to === undefined ? this.cluster.nodes : to.map((name) => this.node(name));
    for (let i = 0; i < count; i++) this.cluster.submit(this.clients.next(i % this.clients.count), true, targets);
    this.cluster.log(`CLIENT ${count} txs -> ${to === undefined ? 'all' : to.join(',')}`);
  }

  /** Runs until `done` holds; throws (failing the test) if it does not within `withinMs`. */
  runUntil(what: string, done: () => boolean, withinMs = 30_000): void {
    if (!this.cluster.runUntil(done, this.now + withinMs)) {
      throw new Error(`scenario: "${what}" did not happen within ${withinMs}ms; heights ${this.describe()}`);
    }
  }

  runFor(ms: number): void {
    this.cluster.runUntilTime(this.now + ms);
  }

  /** Every named node (default: all honest nodes that are up) reached `height`. */
  runUntilHeight(height: number, names?: readonly string[], withinMs?: number): void {
    const nodes = () => (names === undefined ? this.cluster.honestNodes().filter((x) => x.up) : names.map((n) => this.node(n)));
    this.runUntil(`height ${height} on ${names?.join(',') ?? 'all'}`, () => nodes().every((x) => x.height >= height), withinMs);
  }

  /** Every valid tx submitted so far is committed on every honest node. */
  runUntilConverged(withinMs?: number): void {
    this.runUntil('all txs committed everywhere', () => this.cluster.converged(), withinMs);
  }

  crash(name: string): void {
    this.cluster.crash(this.node(name));
  }

  restart(name: string): void {
    this.cluster.restart(this.node(name));
  }

  partition(...groups: readonly (readonly string[])[]): void {
    this.cluster.partition(groups.map((g) => g.map((name) => this.node(name))));
  }

  heal(): void {
    this.cluster.heal();
  }

  describe(): string {
    return this.cluster.nodes.map((x) => `${x.name}=${x.height}${x.up ? '' : '(down)'}@v${x.replica?.view ?? '-'}`).join(' ');
  }

  /** Transcript lines containing every part. */
  lines(...parts: string[]): string[] {
    return this.transcript.grep(...parts);
  }
}
