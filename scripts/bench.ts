/**
 * `npm run bench`: the honest end-to-end benchmark.
 *
 * Starts a fresh N-validator network of real `ledger-node` processes in a temp dir,
 * pre-signs the whole load before the clock starts (many accounts, so nonces never
 * serialize), then submits open-loop at a target rate (JSON-RPC batches over keep-alive
 * connections, spread over all nodes) and measures submit -> commit latency from a block
 * subscription on node 0. Prints one JSON line:
 *
 *   {validators, rate, duration_s, committed, tps, p50_ms, p99_ms, max_rss_mb,
 *    cpu_s_per_node, verify_per_s, ceiling_tps, ratio}
 *
 * where verify_per_s is this machine's Ed25519 verify rate on one core, ceiling_tps =
 * cores x verify_per_s / N (every validator verifies every tx once) and ratio = tps /
 * ceiling_tps. Figures are printed, never asserted.
 *
 *   npm run bench -- [--validators 4] [--rate 1000] [--duration 20] [--accounts 2000]
 *                    [--warmup 5] [--latencies FILE]
 *   npm run bench -- --sweep [--duration 60] [--plot latency.svg]
 *   npm run bench -- --catchup [--txs 100000] [--rate 1000]   (the load the lagger misses;
 *                                        startup_s, the restart until RPC answers, is
 *                                        included in seconds and also printed apart)
 *   npm run bench -- --soak --txs 1000000 --rate 1000   (RSS across the run, disk per tx)
 *   npm run bench -- --smoke            (a few seconds; what npm test runs)
 *   KEEP_BENCH_DIR=1 npm run bench ...  (leaves the network's homes behind for inspection)
 *   BENCH_LOG_DIR=DIR npm run bench ... (nodes log at info level to DIR/nodeI.log, and each
 *                                        block node 0 announces goes to DIR/blocks.log with
 *                                        its arrival time: view changes and block sizes)
 *   npm run bench -- --profile DIR      (each node writes a V8 CPU profile into DIR on exit;
 *                                        summarize with `node scripts/profile-top.mjs DIR`)
 *
 * The measured window is steady state: the same stream of load starts --warmup seconds
 * earlier (5 by default; printed as warmup_s), ramping linearly from 0 to the rate, and
 * those txs are not counted. A fresh node's first seconds run cold code (the JIT has not
 * compiled the hot paths yet) and its latency says nothing about a node that has been up
 * for a minute. The ramp matters above ~1,000 tx/s: offered in full to cold nodes, the
 * warm-up built a backlog of ~2.7 s that took the first ~8 s of the window to drain
 * (seen with --latencies). --warmup 0 measures a cold start anyway. The sweep warms up
 * once, before its first rate; the soak warms up like a single run (its --txs are the
 * measured ones). --latencies writes each measured tx's submit time and
 * latency (ms, one "submitted latency" pair a line), to see when a tail happened, not
 * only how long it was.
 *
 * Above what the network can commit, nodes refuse client txs with "mempool full" (-32011)
 * rather than let the backlog grow without end. The load generator sends a refused tx
 * again with exponential backoff (250 ms to 4 s, 8 tries), as a real client would, so
 * `refused` counts the txs that were refused at least once, and their latency runs from
 * the first send; `rejected` counts those that never got in.
 */
import '../src/polyfill.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism } from 'node:os';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { appendFileSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { runLedgerctl } from '../src/cli/ledgerctl.js';
import { encodeTx } from '../src/codec/tx.js';
import { addressOf, generateKeyPair, parseKeyFile, signRaw, toHex, verifyRaw, type KeyPair } from '../src/crypto/index.js';
import { sha256 } from '../src/crypto/hash.js';
import { signTx } from '../src/ledger/tx.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nodeBin = join(root, 'bin', 'ledger-node.js');

interface Network {
  readonly dir: string;
  readonly n: number;
  readonly basePort: number;
  readonly chainId: string;
  readonly accounts: KeyPair[];
  readonly nodes: (ChildProcess | undefined)[];
  /** When set, nodes run under `--cpu-prof` and write their profiles here. */
  readonly profileDir?: string;
}

interface RunResult {
  validators: number;
  rate: number;
  duration_s: number;
  committed: number;
  tps: number;
  p50_ms: number;
  p99_ms: number;
  max_rss_mb: number;
  cpu_s_per_node: number;
  verify_per_s: number;
  ceiling_tps: number;
  ratio: number;
  offered: number;
  /** Measured txs refused for good (an error other than backpressure, or still refused at the end). */
  rejected: number;
  /** Why txs (warm-up included) were rejected, by error; absent when none was. */
  rejected_why?: Record<string, number>;
  /** Batches sent again because the kept-alive connection they went out on was being closed (see StaleConnectionError). */
  resent_batches: number;
  /** Measured txs a node refused at least once with "mempool full" (-32011) and that were sent again. */
  refused: number;
  blocks: number;
  event_loop_p99_ms: number;
  /** Mean time of one synced WAL batch and of one store append on node 0 over the run. */
  wal_write_ms: number;
  store_write_ms: number;
  /**
   * WAL batches on node 0 slower than 250 ms. Every vote waits on one, so each such write
   * stalls commits for its length: a light-load p99 far above p50 with these nonzero is the
   * disk (this host's shared virtual disk stalls for up to ~1 s now and then), not the CPU.
   */
  wal_writes_over_250ms: number;
  /** View changes on node 0 over the run: each one is a stall, so a slow run should be read with it. */
  view_changes: number;
  /** Tx signature checks on node 0 per committed tx: 1 when each tx was verified exactly once and committed. */
  tx_verifies_per_commit: number;
  /** CPU seconds this load generator itself used (it shares the machine with the nodes). */
  client_cpu_s: number;
  /** Seconds of the same load offered (and not measured) before this run. */
  warmup_s?: number;
}

/** BENCH_LOG_DIR: where nodes log (at info level) and node 0's blocks are recorded. */
const LOG_DIR = process.env.BENCH_LOG_DIR;

const rpcUrl = (net: Network, i: number): string => `http://127.0.0.1:${net.basePort + 10 * i + 1}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Keep-alive connections for the load and the scrapes. node:http costs the client a fraction
 * of fetch's CPU per call (undici's web streams): on a 2-core host, fetch took ~1.8 ms of
 * client CPU per submission, CPU the nodes under test then lacked. And fetch is never loaded:
 * its first call compiles undici, a 55 ms stall of this loop that showed as slow commits.
 *
 * `timeout` is what makes the agent heed the server's `Keep-Alive: timeout=5`: Node 20's
 * agent closes an idle connection 1 s before the server's hint only when it has a timeout
 * of its own to lower (keepSocketAlive). Without one it kept idle connections until the
 * server closed them, and a batch sent on one as it closed was reset (StaleConnectionError).
 */
const httpAgent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 60_000 });

/**
 * A request that failed on a kept-alive connection the server was closing as it went out
 * (its keep-alive timeout ended): the request never reached the handler, or its answer
 * was lost with the connection. Node's docs give the remedy: send it again.
 */
class StaleConnectionError extends Error {
  constructor(override readonly cause: Error) {
    super(`kept-alive connection reset: ${cause.message}`);
  }
}

function httpText(url: string, body?: string): Promise<string> {
  const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  return new Promise((resolveText, reject) => {
    const req = httpRequest(url, { method: body === undefined ? 'GET' : 'POST', agent: httpAgent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolveText(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(req.reusedSocket && err.code === 'ECONNRESET' ? new StaleConnectionError(err) : err));
    req.end(body);
  });
}

async function rpc(url: string, body: unknown): Promise<unknown> {
  return JSON.parse(await httpText(url, JSON.stringify(body)));
}

/** One node's Prometheus metrics, as name{labels} -> value (NaN-free lines only). */
async function scrapeMetrics(net: Network, i: number): Promise<Map<string, number>> {
  const text = await httpText(`${rpcUrl(net, i)}/metrics`);
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) values.set(line.slice(0, space), value);
  }
  return values;
}

/** The mean of a Prometheus histogram between two scrapes, in ms. */
function meanMs(before: Map<string, number>, after: Map<string, number>, name: string): number {
  const delta = (suffix: string): number => (after.get(`${name}_${suffix}`) ?? 0) - (before.get(`${name}_${suffix}`) ?? 0);
  const count = delta('count');
  return count === 0 ? Number.NaN : +((1000 * delta('sum')) / count).toFixed(2);
}

/** How many observations of a Prometheus histogram between two scrapes exceeded bucket bound `le` (as written in its label). */
function countAbove(before: Map<string, number>, after: Map<string, number>, name: string, le: string): number {
  const delta = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);
  return delta(`${name}_count`) - delta(`${name}_bucket{le="${le}"}`);
}

/** How much a Prometheus counter grew between two scrapes, summed over the series whose key starts with `prefix`. */
function counterDelta(before: Map<string, number>, after: Map<string, number>, prefix: string): number {
  let delta = 0;
  for (const [key, value] of after) if (key.startsWith(prefix)) delta += value - (before.get(key) ?? 0);
  return delta;
}

/** Ed25519 verifications per second on one core (the node's own engine). */
function measureVerifyRate(): number {
  const key = generateKeyPair();
  const message = new Uint8Array(160);
  const signature = signRaw(key, message);
  for (let i = 0; i < 500; i++) verifyRaw(key.publicKey, message, signature);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 1000) {
    for (let i = 0; i < 100; i++) verifyRaw(key.publicKey, message, signature);
    n += 100;
  }
  return Math.round(n / ((performance.now() - start) / 1000));
}

async function startNetwork(n: number, accounts: number, profileDir?: string): Promise<Network> {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-bench-'));
  // Below Linux's ephemeral range (32768+), so no outgoing connection holds a node's port.
  const basePort = 20_000 + 10 * Math.floor(Math.random() * 1_200);
  const out: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), cwd: dir };
  const code = await runLedgerctl(['testnet', 'init', '--validators', String(n), '--dir', dir, '--base-port', String(basePort), '--accounts', String(accounts), '--chain-id', 'bench'], io);
  if (code !== 0) throw new Error(`testnet init failed: ${out.join('')}`);
  const names = (await readdir(join(dir, 'accounts'))).sort();
  const keys = await Promise.all(names.map(async (name) => parseKeyFile(name, await readFile(join(dir, 'accounts', name), 'utf8'))));
  // A crash of this script must not leave validators running (and eating the CPU that
  // every later measurement on this machine would then be short of).
  process.once('exit', () => {
    for (const child of netRef.current?.nodes ?? []) child?.kill('SIGKILL');
  });
  const net: Network = { dir, n, basePort, chainId: 'bench', accounts: keys, nodes: new Array(n).fill(undefined), ...(profileDir === undefined ? {} : { profileDir: resolve(profileDir) }) };
  netRef.current = net;
  for (let i = 0; i < n; i++) startNode(net, i);
  await Promise.all(Array.from({ length: n }, (_, i) => waitHealthy(net, i)));
  return net;
}

function startNode(net: Network, i: number): void {
  const profile = net.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', net.profileDir];
  const out = LOG_DIR === undefined ? 'ignore' : openSync(join(LOG_DIR, `node${i}.log`), 'a');
  const child = spawn(process.execPath, [...profile, nodeBin, 'start', '--home', join(net.dir, `node${i}`), '--log-level', LOG_DIR === undefined ? 'warn' : 'info'], { stdio: ['ignore', out, 'pipe'] });
  // Kept for the report if the node dies: a benchmark must say why it could not run.
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (net.nodes[i] === child && !stopping) process.stderr.write(`bench: node${i} exited (${code ?? signal}) before the end:\n${tail}\n`);
  });
  net.nodes[i] = child;
}

async function waitHealthy(net: Network, i: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const reply = (await rpc(rpcUrl(net, i), { jsonrpc: '2.0', id: 1, method: 'health' })) as { result?: unknown };
      if (reply.result !== undefined) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`node${i} did not come up`);
}

let stopping = false;
const netRef: { current?: Network } = {};

async function stopNetwork(net: Network): Promise<void> {
  stopping = true;
  await Promise.all(
    net.nodes.map(async (child) => {
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      child.kill('SIGKILL');
    }),
  );
  if (process.env.KEEP_BENCH_DIR === undefined) await rm(net.dir, { recursive: true, force: true });
  else process.stderr.write(`kept ${net.dir}\n`);
}

/** Peak RSS (VmHWM) and CPU seconds (utime + stime) of a process, from /proc. */
function processStats(pid: number): { peakRssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { peakRssMb: hwm === null ? 0 : Number(hwm[1]) / 1024, cpuSeconds: ticks / 100 };
}

interface SignedLoad {
  readonly bodies: string[];
  readonly hashes: string[];
  /** Txs go round-robin over this many senders: tx i - senders is tx i's sender's previous nonce. */
  readonly senders: number;
}

/** Signs `count` transfers round-robin over the accounts, continuing each account's nonce. */
function signLoad(net: Network, count: number, nonces: Map<string, bigint>): SignedLoad {
  const sink = addressOf(generateKeyPair().publicKey);
  const bodies: string[] = [];
  const hashes: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = net.accounts[i % net.accounts.length] as KeyPair;
    const sender = toHex(key.publicKey);
    const nonce = nonces.get(sender) ?? 0n;
    nonces.set(sender, nonce + 1n);
    const bytes = encodeTx(signTx({ chainId: net.chainId, sender: key.publicKey, nonce, body: { kind: 'transfer', to: sink, amount: 1n } }, key));
    bodies.push(Buffer.from(bytes).toString('base64'));
    hashes.push(toHex(sha256(bytes)));
  }
  return { bodies, hashes, senders: net.accounts.length };
}

/** Follows committed blocks on one node; resolves commit times of tx hashes. */
class CommitTracker {
  readonly committedAt = new Map<string, number>();
  /** Blocks seen, with txs or not. */
  blocks = 0;
  private socket!: WebSocket;

  async open(url: string): Promise<void> {
    this.socket = new WebSocket(`${url.replace('http', 'ws')}/websocket`);
    await new Promise<void>((resolveOpen, reject) => {
      this.socket.once('open', () => resolveOpen());
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data) => {
      const now = performance.now();
      const message = JSON.parse(String(data)) as { method?: string; params?: { result?: { type?: string; txs?: string[] } } };
      const event = message.params?.result;
      if (message.method !== 'subscription' || event?.type !== 'block') return;
      this.blocks++;
      if (LOG_DIR !== undefined) appendFileSync(join(LOG_DIR, 'blocks.log'), `${now.toFixed(0)} ${JSON.stringify({ ...event, txs: event.txs?.length })}\n`);
      for (const hash of event.txs ?? []) this.committedAt.set(hash, now);
    });
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { query: { type: 'block' } } }));
  }

  close(): void {
    this.socket.close();
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** What the measured window is compared against at its start. */
interface Baseline {
  readonly at: number;
  readonly metrics: Promise<Map<string, number>>;
  readonly clientCpu: NodeJS.CpuUsage;
  readonly nodeCpu: number[];
  readonly blocks: number;
}

/** JSON-RPC's "mempool full" (backpressure): the tx may be fine, send it again later. */
const MEMPOOL_FULL = -32011;
/** A refused tx is sent again after 250 ms, then 500 ms, ... up to 4 s; after 8 refusals it is rejected (~16 s of waits). */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 4_000;
const RETRY_ATTEMPTS = 8;

/** Txs the warm-up offers: a linear ramp from 0 to `rate` tx/s over `warmup` seconds. */
function warmupTxCount(rate: number, warmup: number): number {
  return Math.floor((rate * warmup) / 2);
}

/** Txs offered by `elapsed` seconds into a run: the warm-up's ramp, then `rate` tx/s. */
function offeredBy(elapsed: number, rate: number, warmup: number): number {
  if (elapsed < warmup) return Math.floor((rate * elapsed * elapsed) / (2 * warmup));
  return warmupTxCount(rate, warmup) + Math.floor(rate * (elapsed - warmup));
}

/**
 * Submits `load` open-loop at `rate` tx/s and measures until everything committed (or a
 * drain timeout). The first `warmup` seconds ramp up to the rate (offeredBy); their txs
 * are offered like the rest but not measured: the measured window starts with the next
 * one, in the same stream of load.
 */
async function runLoad(
  net: Network,
  load: SignedLoad,
  rate: number,
  batchSize: number,
  verifyPerSecond: number,
  options: { readonly warmup?: number; readonly observe?: (committed: number) => void; readonly latencyFile?: string } = {},
): Promise<RunResult> {
  const { warmup = 0, observe, latencyFile } = options;
  const warmupTxs = warmupTxCount(rate, warmup);
  const tracker = new CommitTracker();
  await tracker.open(rpcUrl(net, 0));
  const observer = observe === undefined ? undefined : setInterval(() => observe(tracker.committedAt.size), 5_000);
  await sleep(200);
  const takeBaseline = (): Baseline => ({
    at: performance.now(),
    metrics: scrapeMetrics(net, 0), // prom-client resets its event-loop histogram on every scrape
    clientCpu: process.cpuUsage(),
    nodeCpu: net.nodes.map((c) => (c?.pid === undefined ? 0 : processStats(c.pid).cpuSeconds)),
    blocks: tracker.blocks,
  });
  let baseline: Baseline | undefined;
  const submittedAt = new Array<number>(load.bodies.length);
  const offered = load.bodies.length - warmupTxs;
  let sent = 0; // txs due so far: sent, or held behind their sender's previous tx
  let rejected = 0; // measured txs only
  let rejectedAll = 0;
  // Why txs never got in: the error that settled each one first (a sender's later txs then
  // fail behind it, counted as 'behind a rejected nonce'). Measured and warm-up txs alike.
  const rejectedWhy = new Map<string, number>();
  const noteWhy = (why: string, count = 1): void => void rejectedWhy.set(why, (rejectedWhy.get(why) ?? 0) + count);
  let resentBatches = 0;
  const refusedOnce = new Set<number>(); // measured txs refused (mempool full) at least once
  const refusals = new Map<number, number>(); // tx index -> times refused
  // One FIFO per retry (the k-th waits a fixed delay), so each stays sorted by due time.
  const retries: { index: number; due: number }[][] = Array.from({ length: RETRY_ATTEMPTS - 1 }, () => []);
  const retriesWaiting = (): number => retries.reduce((n, queue) => n + queue.length, 0);
  // Like a wallet, the client sends a sender's next nonce only once the node took the
  // previous one: sent while it waits to be retried, it would only wait in the mempool.
  const SETTLED_OK = 1;
  const SETTLED_FAILED = 2;
  const settledAs = new Uint8Array(load.bodies.length);
  const heldBehind = new Map<number, number>(); // unsettled tx -> its sender's next tx, held
  let released: number[] = []; // held txs whose previous tx was taken, to send now
  let nextNode = 0;
  const inFlight = new Set<Promise<void>>();
  const settle = (index: number, as: number): void => {
    settledAs[index] = as;
    if (as === SETTLED_FAILED) {
      rejectedAll++;
      if (index >= warmupTxs) rejected++;
    }
    const next = heldBehind.get(index);
    if (next === undefined) return;
    heldBehind.delete(index);
    // A sender's later nonces can never apply after one that never got in.
    if (as === SETTLED_FAILED) {
      noteWhy('behind a rejected nonce');
      settle(next, SETTLED_FAILED);
    } else released.push(next);
  };
  // A batch goes to the next node round-robin. A tx refused for backpressure (mempool full,
  // -32011) is sent again with exponential backoff, as a client should; its latency counts
  // from its first send.
  const send = (indices: readonly number[], resend = false): void => {
    const batch = indices.map((i) => ({ jsonrpc: '2.0', id: i, method: 'broadcast_tx_sync', params: { tx: load.bodies[i] } }));
    const request: Promise<void> = rpc(rpcUrl(net, nextNode++ % net.n), batch)
      .then((replies) => {
        for (const reply of replies as { id: number; error?: { code?: number; message?: string } }[]) {
          if (reply.error === undefined) settle(reply.id, SETTLED_OK);
          else if (reply.error.code !== MEMPOOL_FULL) {
            noteWhy(`${reply.error.code}: ${String(reply.error.message).slice(0, 60)}`);
            settle(reply.id, SETTLED_FAILED);
          } else {
            if (reply.id >= warmupTxs) refusedOnce.add(reply.id);
            const attempt = (refusals.get(reply.id) ?? 0) + 1;
            refusals.set(reply.id, attempt);
            if (attempt >= RETRY_ATTEMPTS) {
              noteWhy(`refused ${RETRY_ATTEMPTS} times`);
              settle(reply.id, SETTLED_FAILED);
            } else (retries[attempt - 1] as { index: number; due: number }[]).push({ index: reply.id, due: performance.now() + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempt - 1)) });
          }
        }
      })
      .catch((err: unknown) => {
        // Submitting is idempotent (a tx already taken comes back as a duplicate), so a batch
        // lost to a closing kept-alive connection goes again, once, on another connection.
        if (err instanceof StaleConnectionError && !resend) {
          resentBatches++;
          send(indices, true);
          return;
        }
        noteWhy(`request failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, indices.length);
        indices.forEach((i) => settle(i, SETTLED_FAILED));
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const sendInBatches = (indices: readonly number[]): void => {
    for (let i = 0; i < indices.length; i += batchSize) send(indices.slice(i, i + batchSize));
  };
  const start = performance.now();
  let submitEnd = Number.POSITIVE_INFINITY; // when the last new tx was due
  let lastRetryAt = 0;
  const settled = (): boolean => tracker.committedAt.size >= load.bodies.length - rejectedAll;
  for (;;) {
    const due = Math.min(load.bodies.length, offeredBy((performance.now() - start) / 1000, rate, warmup));
    while (sent < due) {
      const from = sent;
      // A batch never straddles the start of the measured window.
      const to = Math.min(due, sent + batchSize, from < warmupTxs ? warmupTxs : Number.POSITIVE_INFINITY);
      if (from >= warmupTxs && baseline === undefined) baseline = takeBaseline();
      const now = performance.now();
      const indices = [];
      for (let i = from; i < to; i++) {
        submittedAt[i] = now;
        const previous = i - load.senders;
        if (previous < 0 || settledAs[previous] === SETTLED_OK) indices.push(i);
        else if (settledAs[previous] === SETTLED_FAILED) {
          noteWhy('behind a rejected nonce');
          settle(i, SETTLED_FAILED);
        } else heldBehind.set(previous, i);
      }
      sent = to;
      if (indices.length > 0) send(indices);
    }
    const now = performance.now();
    const again: number[] = [];
    for (const queue of retries) {
      let ready = 0;
      while (ready < queue.length && (queue[ready] as { due: number }).due <= now) ready++;
      for (const r of queue.splice(0, ready)) again.push(r.index);
    }
    if (again.length > 0 || released.length > 0) lastRetryAt = now;
    sendInBatches(again);
    sendInBatches(released);
    released = [];
    if (sent === load.bodies.length) {
      if (submitEnd === Number.POSITIVE_INFINITY) submitEnd = now;
      const quiet = inFlight.size === 0 && retriesWaiting() === 0 && heldBehind.size === 0;
      if (quiet && settled()) break;
      // Wait for commits up to 15 s after the last send, and for refused txs up to 60 s.
      if (now >= Math.min(submitEnd + 60_000, Math.max(submitEnd, lastRetryAt) + 15_000)) {
        await Promise.all(inFlight);
        for (const queue of retries) queue.splice(0).forEach((r) => settle(r.index, SETTLED_FAILED));
        released.splice(0).forEach((i) => settle(i, SETTLED_FAILED));
        break;
      }
    }
    await sleep(5);
  }
  tracker.close();
  if (observer !== undefined) clearInterval(observer);
  observe?.(tracker.committedAt.size);
  const metrics = await scrapeMetrics(net, 0);
  const since = baseline ?? takeBaseline(); // an all-warm-up load measures nothing
  const metricsBefore = await since.metrics;

  const latencies: number[] = [];
  const lines: string[] = [];
  let lastCommit = since.at;
  load.hashes.forEach((hash, i) => {
    if (i < warmupTxs) return;
    const at = tracker.committedAt.get(hash);
    const submitted = submittedAt[i] as number;
    lines.push(`${(submitted - since.at).toFixed(1)} ${at === undefined ? 'uncommitted' : (at - submitted).toFixed(1)}`);
    if (at === undefined) return;
    latencies.push(at - submitted);
    if (at > lastCommit) lastCommit = at;
  });
  if (latencyFile !== undefined) await writeFile(latencyFile, `${lines.join('\n')}\n`);
  latencies.sort((a, b) => a - b);
  const stats = net.nodes.map((c) => (c?.pid === undefined ? { peakRssMb: 0, cpuSeconds: 0 } : processStats(c.pid)));
  const cores = availableParallelism();
  const ceiling = (cores * verifyPerSecond) / net.n;
  const elapsed = Math.max(lastCommit, submitEnd) - since.at;
  const tps = latencies.length / (elapsed / 1000);
  return {
    validators: net.n,
    rate,
    duration_s: +((submitEnd - since.at) / 1000).toFixed(1),
    committed: latencies.length,
    tps: Math.round(tps),
    p50_ms: +percentile(latencies, 0.5).toFixed(1),
    p99_ms: +percentile(latencies, 0.99).toFixed(1),
    max_rss_mb: Math.round(Math.max(...stats.map((s) => s.peakRssMb))),
    cpu_s_per_node: +(stats.reduce((sum, s, i) => sum + s.cpuSeconds - (since.nodeCpu[i] ?? 0), 0) / net.n).toFixed(1),
    verify_per_s: verifyPerSecond,
    ceiling_tps: Math.round(ceiling),
    ratio: +(tps / ceiling).toFixed(2),
    offered,
    rejected,
    ...(rejectedWhy.size === 0 ? {} : { rejected_why: Object.fromEntries(rejectedWhy) }),
    resent_batches: resentBatches,
    refused: refusedOnce.size,
    blocks: tracker.blocks - since.blocks,
    event_loop_p99_ms: +(1000 * (metrics.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN)).toFixed(1),
    wal_write_ms: meanMs(metricsBefore, metrics, 'ledger_wal_write_seconds'),
    store_write_ms: meanMs(metricsBefore, metrics, 'ledger_store_write_seconds'),
    wal_writes_over_250ms: countAbove(metricsBefore, metrics, 'ledger_wal_write_seconds', '0.25'),
    view_changes: counterDelta(metricsBefore, metrics, 'ledger_view_changes_total'),
    tx_verifies_per_commit: +(counterDelta(metricsBefore, metrics, 'ledger_signature_verifications_total{kind="tx"') / Math.max(1, latencies.length)).toFixed(2),
    client_cpu_s: +(((clientCpu) => (clientCpu.user + clientCpu.system) / 1e6)(process.cpuUsage(since.clientCpu))).toFixed(1),
  };
}

function svgPlot(results: readonly RunResult[]): string {
  const width = 640;
  const height = 400;
  const pad = 50;
  const maxRate = Math.max(...results.map((r) => r.rate), 1);
  const maxLatency = Math.max(...results.map((r) => r.p99_ms).filter(Number.isFinite), 1);
  const x = (rate: number): number => pad + ((width - 2 * pad) * rate) / maxRate;
  const y = (ms: number): number => height - pad - ((height - 2 * pad) * ms) / maxLatency;
  const line = (key: 'p50_ms' | 'p99_ms', color: string): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${results.map((r) => `${x(r.rate).toFixed(1)},${y(r[key]).toFixed(1)}`).join(' ')}"/>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="black"/>`,
    `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="black"/>`,
    `<text x="${width / 2}" y="${height - 10}" text-anchor="middle">offered rate (tx/s), up to ${maxRate}</text>`,
    `<text x="12" y="${height / 2}" transform="rotate(-90 12 ${height / 2})" text-anchor="middle">latency (ms), up to ${maxLatency.toFixed(0)}</text>`,
    line('p50_ms', '#1f77b4'),
    line('p99_ms', '#d62728'),
    `<text x="${width - pad - 80}" y="${pad}" fill="#1f77b4">p50</text>`,
    `<text x="${width - pad - 40}" y="${pad}" fill="#d62728">p99</text>`,
    '</svg>',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      validators: { type: 'string', default: '4' },
      rate: { type: 'string', default: '1000' },
      duration: { type: 'string' }, // 20 s; 60 s per rate for --sweep
      accounts: { type: 'string', default: '2000' },
      batch: { type: 'string', default: '50' },
      sweep: { type: 'boolean', default: false },
      catchup: { type: 'boolean', default: false },
      txs: { type: 'string', default: '100000' },
      plot: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      profile: { type: 'string' },
      warmup: { type: 'string', default: '5' },
      latencies: { type: 'string' },
    },
  });
  const n = Number(values.validators);
  const batch = Number(values.batch);
  const warmup = values.smoke ? 1 : Number(values.warmup);
  if (!Number.isFinite(warmup) || warmup < 0) throw new Error(`--warmup must be a number of seconds >= 0, got ${values.warmup}`);
  const duration = values.smoke ? 3 : Number(values.duration ?? (values.sweep ? 60 : 20));
  if (!Number.isFinite(duration) || duration <= 0) throw new Error(`--duration must be a number of seconds > 0, got ${values.duration}`);
  const verifyPerSecond = measureVerifyRate();
  const accounts = values.smoke ? 50 : Number(values.accounts);
  const net = await startNetwork(n, accounts, values.profile);
  const nonces = new Map<string, bigint>();
  try {
    if (values.catchup) {
      await catchup(net, Number(values.txs), Number(values.rate), batch, verifyPerSecond, nonces);
    } else if (values.soak) {
      await soak(net, Number(values.txs), Number(values.rate), warmup, batch, verifyPerSecond, nonces);
    } else if (values.sweep) {
      const results: RunResult[] = [];
      const rates = [250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 3500, 4000, 5000];
      for (const rate of rates) {
        const rampSeconds = rate === rates[0] ? warmup : 0;
        const load = signLoad(net, warmupTxCount(rate, rampSeconds) + rate * duration, nonces);
        const result = { ...(await runLoad(net, load, rate, batch, verifyPerSecond, { warmup: rampSeconds })), ...(rampSeconds > 0 ? { warmup_s: warmup } : {}) };
        results.push(result);
        process.stdout.write(`${JSON.stringify(result)}\n`);
        const held = result.committed >= 0.95 * result.offered && result.p99_ms < 1000;
        if (!held) break;
      }
      const best = results.filter((r) => r.committed >= 0.95 * r.offered && r.p99_ms < 1000).pop();
      process.stdout.write(`${JSON.stringify({ sweep: true, highest_rate_held: best?.rate ?? 0, tps: best?.tps ?? 0, p99_ms: best?.p99_ms ?? null })}\n`);
      if (values.plot !== undefined) await writeFile(values.plot, svgPlot(results));
    } else {
      const rate = values.smoke ? 100 : Number(values.rate);
      const load = signLoad(net, warmupTxCount(rate, warmup) + rate * duration, nonces);
      const result = await runLoad(net, load, rate, batch, verifyPerSecond, { warmup, latencyFile: values.latencies });
      process.stdout.write(`${JSON.stringify({ ...result, warmup_s: warmup })}\n`);
    }
  } finally {
    await stopNetwork(net);
  }
}

/** Current resident set (VmRSS) of a process in MB, or 0 once it is gone. */
function currentRssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) / 1024;
  } catch {
    return 0;
  }
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await treeBytes(path) : (await stat(path)).size;
  }
  return total;
}

/**
 * Offers `txs` at `rate` and watches memory: every node's RSS is sampled every 5 s against
 * how many txs had committed, so a leak shows as growth from the first tenth of the run to
 * the last. Ends with node 0's disk use (LevelDB + WAL) against the encoded tx bytes.
 */
async function soak(net: Network, txs: number, rate: number, warmup: number, batch: number, verifyPerSecond: number, nonces: Map<string, bigint>): Promise<void> {
  const signStart = performance.now();
  // The warm-up's ramp comes first, as in a single run, so a cold start is not measured as
  // the soak's (its tail at 1,000 tx/s turned out to be mostly queueing during the run).
  const total = warmupTxCount(rate, warmup) + txs;
  const load = signLoad(net, total, nonces);
  process.stderr.write(`bench: signed ${total} txs in ${((performance.now() - signStart) / 1000).toFixed(0)} s\n`);
  const samples: { committed: number; rssMb: number }[] = [];
  const result = await runLoad(net, load, rate, batch, verifyPerSecond, { warmup, observe: (committed) => {
    const rssMb = Math.max(...net.nodes.map((c) => (c?.pid === undefined ? 0 : currentRssMb(c.pid))));
    samples.push({ committed, rssMb: Math.round(rssMb) });
    process.stderr.write(`bench: soak ${committed}/${total} committed, max node RSS ${Math.round(rssMb)} MB\n`);
  } });
  const decile = (from: number, to: number): number => {
    const window = samples.filter((s) => s.committed >= from * total && s.committed <= to * total);
    return window.length === 0 ? Number.NaN : Math.max(...window.map((s) => s.rssMb));
  };
  const txBytes = load.bodies.reduce((sum, b) => sum + Buffer.from(b, 'base64').length, 0);
  const home = join(net.dir, 'node0');
  const diskBytes = (await treeBytes(join(home, 'data'))) + (await treeBytes(join(home, 'wal')));
  process.stdout.write(
    `${JSON.stringify({
      soak: true,
      ...result,
      warmup_s: warmup,
      rss_mb_first_tenth: decile(0.05, 0.15),
      rss_mb_last_tenth: decile(0.9, 1),
      rss_mb_by_progress: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 10)) === 0).map((s) => [s.committed, s.rssMb]),
      tx_bytes: txBytes,
      disk_bytes: diskBytes,
      disk_ratio: +(diskBytes / txBytes).toFixed(2),
    })}\n`,
  );
}

/** Stops node n-1, commits `txs` without it, restarts it and measures how fast it catches up. */
async function catchup(net: Network, txs: number, rate: number, batch: number, verifyPerSecond: number, nonces: Map<string, bigint>): Promise<void> {
  const lagger = net.n - 1;
  const child = net.nodes[lagger] as ChildProcess;
  const exited = new Promise((r) => child.once('exit', r));
  net.nodes[lagger] = undefined; // stopped on purpose
  child.kill('SIGTERM');
  await exited;
  const load = signLoad(net, txs, nonces);
  const result = await runLoad({ ...net, n: net.n - 1, nodes: net.nodes.slice(0, lagger) }, load, rate, batch, verifyPerSecond);
  const status = (await rpc(rpcUrl(net, 0), { jsonrpc: '2.0', id: 1, method: 'status' })) as { result: { latest_height: number } };
  const target = status.result.latest_height;
  const start = performance.now();
  startNode(net, lagger);
  await waitHealthy(net, lagger);
  // Reported apart (the headline figure includes it): a restart's fixed cost, not catch-up's.
  const startup = (performance.now() - start) / 1000;
  for (;;) {
    const s = (await rpc(rpcUrl(net, lagger), { jsonrpc: '2.0', id: 1, method: 'status' })) as { result: { latest_height: number } };
    if (s.result.latest_height >= target) break;
    await sleep(50);
  }
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(
    `${JSON.stringify({ catchup: true, txs: result.committed, blocks: target, seconds: +seconds.toFixed(2), tx_per_s: Math.round(result.committed / seconds), startup_s: +startup.toFixed(2), peers_max_rss_mb: result.max_rss_mb, ...(result.rejected_why === undefined ? {} : { rejected_why: result.rejected_why }) })}\n`,
  );
}

await main();
