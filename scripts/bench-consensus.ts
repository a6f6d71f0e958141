/**
 * `npm run bench:consensus`: the consensus core's own throughput, measured in the
 * deterministic simulator with REAL Ed25519 signatures: 4 replicas, 1,000-tx blocks, no
 * faults, a 1 ms network. The mempools are filled (and their tx signatures checked) before
 * the clock starts, so the figure covers what the core and its driver do per block:
 * proposing, executing on speculative state, signing and verifying every vote, committing.
 * Prints blocks/s and tx/s of wall-clock time, then one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_CHAIN_PARAMS } from '../test/sim/chain.js';
import { Clients } from '../test/sim/clients.js';
import { Cluster } from '../test/sim/cluster.js';
import { Prng } from '../test/sim/prng.js';

const REPLICAS = 4;
const BLOCK_TXS = 1_000;
const BLOCKS = Number(process.env['BENCH_BLOCKS'] ?? 30);
const CLIENTS = 200;

function main(): void {
  const prng = new Prng(1);
  const cluster = new Cluster(prng, {
    chain: {
      ...DEFAULT_CHAIN_PARAMS,
      n: REPLICAS,
      crypto: 'real',
      clients: CLIENTS,
      maxBlockTxs: BLOCK_TXS,
      checkpointInterval: 10,
      windowSize: 20,
      viewTimeoutMs: 10_000,
      maxViewTimeoutMs: 60_000,
    },
    byzantine: [],
    tickMs: 10,
    skews: [],
    network: { minDelayMs: 1, meanExtraDelayMs: 0, lossRate: 0, duplicateRate: 0 },
    wire: false,
    execDelayMs: 0,
    fetchBatch: 64,
  });
  const clients = new Clients(cluster, prng);
  const txs = Array.from({ length: BLOCKS * BLOCK_TXS }, (_, i) => clients.next(i % CLIENTS));
  cluster.start();
  cluster.preload(txs);

  const started = performance.now();
  const done = cluster.runUntil(() => cluster.converged(), 10 * 60_000);
  const seconds = (performance.now() - started) / 1000;
  if (!done) throw new Error(`not all txs committed: heights ${cluster.nodes.map((n) => n.height).join(',')}`);
  const height = cluster.minHonestHeight();
  const committedTxs = cluster.nodes[0]?.chain.reduce((sum, b) => sum + b.block.txs.length, 0) ?? 0;
  const result = {
    bench: 'consensus',
    replicas: REPLICAS,
    blockTxs: BLOCK_TXS,
    blocks: height,
    txs: committedTxs,
    wallSeconds: Number(seconds.toFixed(3)),
    virtualSeconds: Number((cluster.now / 1000).toFixed(3)),
    blocksPerSecond: Number((height / seconds).toFixed(2)),
    txPerSecond: Math.round(committedTxs / seconds),
    signatures: 'ed25519',
  };
  console.log(`replicas ${REPLICAS}, ${BLOCK_TXS}-tx blocks, real Ed25519, no faults`);
  console.log(`committed ${height} blocks (${committedTxs} txs) in ${seconds.toFixed(2)} s wall clock (${result.virtualSeconds} s virtual)`);
  console.log(`${result.blocksPerSecond} blocks/s, ${result.txPerSecond} tx/s`);
  console.log(JSON.stringify(result));
}

main();
