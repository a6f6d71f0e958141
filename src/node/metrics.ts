/**
 * The node's Prometheus metrics, served as GET /metrics on the RPC port (text exposition
 * format 0.0.4). Each node has its own Registry, so several nodes in one process (tests)
 * never share or collide. The driver calls the small hooks below at the points it already
 * passes through; gauges that mirror node state (height, view, mempool, peers, WebSocket
 * clients) are read from a probe when scraped, so they cost nothing between scrapes.
 *
 * Names (all prefixed `ledger_`):
 *
 * | metric                                   | type      | labels                 | meaning |
 * |------------------------------------------|-----------|------------------------|---------|
 * | ledger_height                            | gauge     |                        | highest committed height |
 * | ledger_view                              | gauge     |                        | the consensus view the replica is in |
 * | ledger_view_changes_total                | counter   |                        | views entered through a view change (NEW-VIEW) since start |
 * | ledger_blocks_committed_total            | counter   |                        | blocks committed (appended) since start; rate() = blocks/s |
 * | ledger_txs_committed_total               | counter   |                        | txs in those blocks; rate() = tx/s |
 * | ledger_commit_latency_seconds            | histogram |                        | per height: first proposal seen here (built, if this node proposed it, else handed to execution) to commit here |
 * | ledger_mempool_txs                       | gauge     |                        | txs waiting in the mempool |
 * | ledger_mempool_bytes                     | gauge     |                        | their encoded bytes |
 * | ledger_gossip_queue_frames               | gauge     |                        | tx gossip frames waiting for admission (checked off the read path) |
 * | ledger_execution_queue_blocks            | gauge     |                        | proposals waiting for their signature checks before execution |
 * | ledger_peers                             | gauge     |                        | connected validator peers |
 * | ledger_wal_write_seconds                 | histogram |                        | one synced consensus-WAL batch (group commit) |
 * | ledger_store_write_seconds               | histogram |                        | one block append (block, certificate, indexes, state in one batch) |
 * | ledger_signature_verifications_total     | counter   | kind, result           | Ed25519 verifications by signature kind (tx, prepare, ...) and result (valid, invalid) |
 * | ledger_rpc_requests_total                | counter   | transport, method, code| JSON-RPC calls by transport (http, ws), method and code (0 = success, else the JSON-RPC error code) |
 * | ledger_websocket_connections             | gauge     |                        | open WebSocket connections |
 * | ledger_websocket_subscriptions           | gauge     |                        | open subscriptions |
 * | ledger_websocket_slow_consumers_total    | counter   |                        | WebSocket clients cut for not reading |
 *
 * With `processMetrics`, prom-client's default process and Node.js metrics are added
 * (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, ...).
 *
 * Commit latency is measured where the driver can see it without trusting clocks of
 * other machines: from the first moment this node had a proposal for the height (it built
 * it, or received it and started executing it) to the moment the block was appended
 * here. It includes the PBFT rounds and any view change in between. Blocks fetched by
 * catch-up have no proposal here and are not observed.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SignatureKind, Verifier } from '../crypto/domain.js';
import type { MetricsEndpoint, RpcObserver, RpcTransport } from '../rpc/observe.js';

/** Node state read at scrape time. Each call must be cheap. */
export interface NodeProbe {
  height(): number;
  view(): number;
  mempool(): { readonly txs: number; readonly bytes: number };
  peers(): number;
  /** Work queued off the read path: gossip frames awaiting admission, proposals awaiting their checks. */
  backlog?(): { readonly gossip: number; readonly executions: number };
  websocket?(): { readonly connections: number; readonly subscriptions: number } | undefined;
}

export interface NodeMetricsOptions {
  readonly probe?: NodeProbe;
  /** Add prom-client's process metrics (CPU, memory, event loop). Default false. */
  readonly processMetrics?: boolean;
  /** A monotonic clock in ms (default performance.now); tests inject one. */
  readonly now?: () => number;
}

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const WRITE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Heights with a proposal but no commit yet; more than a pipeline window ever holds. */
const MAX_PENDING_HEIGHTS = 4096;

export class NodeMetrics implements RpcObserver, MetricsEndpoint {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly blocks: Counter;
  private readonly txs: Counter;
  private readonly viewChanges: Counter;
  private readonly commitLatency: Histogram;
  private readonly walWrite: Histogram;
  private readonly storeWrite: Histogram;
  private readonly verifications: Counter<'kind' | 'result'>;
  private readonly rpcRequests: Counter<'transport' | 'method' | 'code'>;
  private readonly slowConsumers: Counter;
  /**
   * Verifications counted since the last scrape, per (kind, result). prom-client hashes and
   * validates the labels on every `inc`, even through a bound child: that was 0.5% of a
   * node's busy time at 1,000 tx/s, for a count. So counts are plain numbers here and go
   * into the counter when it is collected, once per label set per scrape.
   */
  private readonly unreportedVerifications = new Map<string, { readonly labels: { kind: SignatureKind; result: 'valid' | 'invalid' }; count: number }>();
  /** height -> when this node first had a proposal for it. */
  private readonly firstSeen = new Map<number, number>();
  private committedHeight = 0;

  constructor(options: NodeMetricsOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    const registers = [this.registry];
    const probe = options.probe;
    /** A probe that fails (the node half started) leaves the gauge as it was rather than failing the scrape. */
    const read = (f: () => void): void => {
      try {
        f();
      } catch {
        // keep the last value
      }
    };

    new Gauge({ name: 'ledger_height', help: 'Highest committed height.', registers, collect() {
      if (probe !== undefined) read(() => this.set(probe.height()));
    } });
    new Gauge({ name: 'ledger_view', help: 'The consensus view the replica is in.', registers, collect() {
      if (probe !== undefined) read(() => this.set(probe.view()));
    } });
    new Gauge({ name: 'ledger_mempool_txs', help: 'Txs waiting in the mempool.', registers, collect() {
      if (probe !== undefined) read(() => this.set(probe.mempool().txs));
    } });
    new Gauge({ name: 'ledger_mempool_bytes', help: 'Encoded bytes of the txs waiting in the mempool.', registers, collect() {
      if (probe !== undefined) read(() => this.set(probe.mempool().bytes));
    } });
    new Gauge({ name: 'ledger_gossip_queue_frames', help: 'Tx gossip frames waiting for admission.', registers, collect() {
      if (probe?.backlog !== undefined) read(() => this.set(probe.backlog?.().gossip ?? 0));
    } });
    new Gauge({ name: 'ledger_execution_queue_blocks', help: 'Proposals waiting for their signature checks before execution.', registers, collect() {
      if (probe?.backlog !== undefined) read(() => this.set(probe.backlog?.().executions ?? 0));
    } });
    new Gauge({ name: 'ledger_peers', help: 'Connected validator peers.', registers, collect() {
      if (probe !== undefined) read(() => this.set(probe.peers()));
    } });
    new Gauge({ name: 'ledger_websocket_connections', help: 'Open WebSocket connections.', registers, collect() {
      if (probe?.websocket !== undefined) read(() => this.set(probe.websocket?.()?.connections ?? 0));
    } });
    new Gauge({ name: 'ledger_websocket_subscriptions', help: 'Open WebSocket subscriptions.', registers, collect() {
      if (probe?.websocket !== undefined) read(() => this.set(probe.websocket?.()?.subscriptions ?? 0));
    } });

    this.viewChanges = new Counter({ name: 'ledger_view_changes_total', help: 'Views entered through a view change since start.', registers });
    this.blocks = new Counter({ name: 'ledger_blocks_committed_total', help: 'Blocks committed since start.', registers });
    this.txs = new Counter({ name: 'ledger_txs_committed_total', help: 'Txs committed since start.', registers });
    this.commitLatency = new Histogram({
      name: 'ledger_commit_latency_seconds',
      help: 'Per height, from the first proposal this node had for it (built or received) to its commit here.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.walWrite = new Histogram({ name: 'ledger_wal_write_seconds', help: 'One synced consensus-WAL batch write.', buckets: WRITE_BUCKETS, registers });
    this.storeWrite = new Histogram({ name: 'ledger_store_write_seconds', help: 'One block append to the store.', buckets: WRITE_BUCKETS, registers });
    this.verifications = new Counter({
      name: 'ledger_signature_verifications_total',
      help: 'Ed25519 signature verifications by signature kind and result.',
      labelNames: ['kind', 'result'] as const,
      registers,
      collect: () => this.reportVerifications(),
    });
    this.rpcRequests = new Counter({
      name: 'ledger_rpc_requests_total',
      help: 'JSON-RPC calls by transport, method and code (0 = success, else the JSON-RPC error code).',
      labelNames: ['transport', 'method', 'code'] as const,
      registers,
    });
    this.slowConsumers = new Counter({ name: 'ledger_websocket_slow_consumers_total', help: 'WebSocket clients cut for not reading.', registers });
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  // ------------------------------------------------------------------------------------
  // MetricsEndpoint

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  // ------------------------------------------------------------------------------------
  // Hooks

  viewChanged(): void {
    this.viewChanges.inc();
  }

  /** This node has a proposal for `height` (it built one, or is executing one it received). */
  proposalSeen(height: number): void {
    if (height <= this.committedHeight || this.firstSeen.has(height) || this.firstSeen.size >= MAX_PENDING_HEIGHTS) return;
    this.firstSeen.set(height, this.now());
  }

  /** A block was appended to the store. */
  committed(height: number, txCount: number): void {
    this.blocks.inc();
    this.txs.inc(txCount);
    const seen = this.firstSeen.get(height);
    if (seen !== undefined) this.commitLatency.observe((this.now() - seen) / 1000);
    if (height > this.committedHeight) this.committedHeight = height;
    for (const h of this.firstSeen.keys()) if (h <= this.committedHeight) this.firstSeen.delete(h);
  }

  /** Runs a WAL write and observes how long it took. */
  timeWal<T>(write: () => Promise<T>): Promise<T> {
    return this.timed(this.walWrite, write);
  }

  /** Runs a store append and observes how long it took. */
  timeStore<T>(write: () => Promise<T>): Promise<T> {
    return this.timed(this.storeWrite, write);
  }

  /** Counts one verification; returns its result so it can wrap a call in place. */
  verified(kind: SignatureKind, valid: boolean): boolean {
    const key = valid ? kind : `${kind}\u0000`;
    const entry = this.unreportedVerifications.get(key);
    if (entry !== undefined) entry.count++;
    else this.unreportedVerifications.set(key, { labels: { kind, result: valid ? 'valid' : 'invalid' }, count: 1 });
    return valid;
  }

  private reportVerifications(): void {
    for (const entry of this.unreportedVerifications.values()) {
      if (entry.count === 0) continue;
      this.verifications.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }

  /** `verifier`, counting every verification. */
  countingVerifier(verifier: Verifier): Verifier {
    return { verify: (publicKey, kind, payload, signature) => this.verified(kind, verifier.verify(publicKey, kind, payload, signature)) };
  }

  // RpcObserver

  rpcCall(transport: RpcTransport, method: string, code: number): void {
    this.rpcRequests.labels(transport, method, String(code)).inc();
  }

  slowConsumer(): void {
    this.slowConsumers.inc();
  }

  private async timed<T>(histogram: Histogram, write: () => Promise<T>): Promise<T> {
    const started = this.now();
    try {
      return await write();
    } finally {
      histogram.observe((this.now() - started) / 1000);
    }
  }
}
