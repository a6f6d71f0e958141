/**
 * Steady client load for a chaos run: many accounts, each a client with at most one tx in
 * flight, sending signed transfers through `broadcast_tx_commit` at a global rate. A tx that
 * times out or whose node dies is resubmitted, the same bytes, to another node, until it is
 * acknowledged: this is what a careful client does, and it must never make a tx count
 * twice. Every acknowledged hash is recorded with the height and index the node answered.
 */
import { encodeTx } from '../../src/codec/tx.js';
import { addressOf, toHex, type KeyPair } from '../../src/crypto/index.js';
import { hashTx, signTx } from '../../src/ledger/tx.js';
import { rpcCall } from '../../src/rpc/client.js';
import type { Prng } from '../sim/prng.js';
import { sleep } from './network.js';

export interface AckedTx {
  readonly hash: string;
  readonly height: number;
  readonly index: number;
  /** The node that acknowledged it. */
  readonly node: number;
  readonly at: number;
}

export interface LoadStats {
  attempts: number;
  /** -32012: not committed within the wait; resubmitted. */
  commitTimeouts: number;
  /** The same, by the node that answered. */
  commitTimeoutsByNode: Record<number, number>;
  /** No answer (killed, paused, unreachable node); resubmitted elsewhere. */
  transportErrors: number;
  /** Refused by admission (-32010); should not happen to this load. */
  rejections: number;
  mempoolFull: number;
  /** Txs still unacknowledged when the load stopped (they may or may not have committed). */
  unacknowledged: number;
  /** The last few rejection messages, for the report. */
  rejectionSamples: string[];
}

export interface LoadOptions {
  readonly chainId: string;
  readonly accounts: readonly KeyPair[];
  /** Transactions started per second, over all accounts. */
  readonly rate: number;
  /** Nodes that may be asked right now (honest and not known to be down). */
  readonly targets: () => readonly number[];
  readonly rpcUrl: (node: number) => string;
  readonly prng: Prng;
  /** How long a node waits for the commit before answering -32012. */
  readonly commitTimeoutMs?: number;
}

const BASE64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

export class LoadGenerator {
  readonly acked = new Map<string, AckedTx>();
  /** Every tx hash this load ever signed (acknowledged or not). */
  readonly signed = new Set<string>();
  readonly stats: LoadStats = { attempts: 0, commitTimeouts: 0, commitTimeoutsByNode: {}, transportErrors: 0, rejections: 0, mempoolFull: 0, unacknowledged: 0, rejectionSamples: [] };
  /** Txs that have not been acknowledged yet (in flight or being resubmitted). */
  inFlight = 0;
  private rate: number;
  /** New txs are started. */
  private running = false;
  /** Unacknowledged txs are resubmitted (past `running`, while the load drains). */
  private retrying = false;
  private tokens = 0;
  private ticker: NodeJS.Timeout | undefined;
  private readonly clients: Promise<void>[] = [];
  private readonly idle: (() => void)[] = [];
  private readonly nonces: bigint[];

  constructor(private readonly options: LoadOptions) {
    this.rate = options.rate;
    this.nonces = options.accounts.map(() => 0n);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.retrying = true;
    let last = Date.now();
    this.ticker = setInterval(() => {
      const now = Date.now();
      this.tokens = Math.min(this.rate, this.tokens + ((now - last) * this.rate) / 1000);
      last = now;
      while (this.tokens >= 1 && this.idle.length > 0) {
        this.tokens -= 1;
        (this.idle.shift() as () => void)();
      }
    }, 20);
    this.options.accounts.forEach((_, i) => this.clients.push(this.client(i)));
  }

  setRate(rate: number): void {
    this.rate = Math.max(1, rate);
  }

  get baseRate(): number {
    return this.options.rate;
  }

  /**
   * Stops starting txs; keeps resubmitting the unacknowledged ones for up to `drainMs`
   * (as a careful client would), then stops and waits for every attempt in progress.
   */
  async stop(drainMs = 0): Promise<void> {
    this.running = false;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    for (const wake of this.idle.splice(0)) wake();
    const deadline = Date.now() + drainMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(100);
    this.retrying = false;
    await Promise.all(this.clients);
  }

  private async client(i: number): Promise<void> {
    const key = this.options.accounts[i] as KeyPair;
    const { prng } = this.options;
    while (this.running) {
      await new Promise<void>((r) => this.idle.push(r));
      if (!this.running) return;
      const nonce = this.nonces[i] as bigint;
      // Any other account (a transfer to oneself is malformed).
      const others = this.options.accounts.length > 1 ? this.options.accounts.filter((_, j) => j !== i) : this.options.accounts;
      const to = addressOf((prng.pick(others) as KeyPair).publicKey);
      const tx = signTx({ chainId: this.options.chainId, sender: key.publicKey, nonce, body: { kind: 'transfer', to, amount: BigInt(1 + prng.int(100)) } }, key);
      const hash = toHex(hashTx(tx));
      this.signed.add(hash);
      this.inFlight++;
      const acked = await this.submitUntilAcked(hash, BASE64(encodeTx(tx)));
      this.inFlight--;
      if (acked) this.nonces[i] = nonce + 1n;
      else {
        this.stats.unacknowledged++;
        return; // the load stopped; a later tx of this account would wait behind this one
      }
    }
  }

  /** Resubmits the same bytes until a node acknowledges the commit, or the load stops retrying. */
  private async submitUntilAcked(hash: string, tx: string): Promise<boolean> {
    const { prng } = this.options;
    const commitTimeoutMs = this.options.commitTimeoutMs ?? 15_000;
    let previous: number | undefined;
    while (this.retrying) {
      const targets = this.options.targets();
      if (targets.length === 0) {
        await sleep(200);
        continue;
      }
      // Another node than the one that just failed, when there is one.
      const choices = targets.length > 1 && previous !== undefined ? targets.filter((t) => t !== previous) : targets;
      const node = prng.pick(choices);
      previous = node;
      this.stats.attempts++;
      const r = await rpcCall(this.options.rpcUrl(node), 'broadcast_tx_commit', { tx, timeout_ms: commitTimeoutMs }, { timeoutMs: commitTimeoutMs + 5_000 });
      if (r.ok) {
        const v = r.value as { hash: string; height: number; index: number };
        if (v.hash !== hash) throw new Error(`node${node} acknowledged ${hash} as ${v.hash}`);
        this.acked.set(hash, { hash, height: v.height, index: v.index, node, at: Date.now() });
        return true;
      }
      const e = r.error;
      if (e.kind === 'rpc' && e.code === -32012) {
        this.stats.commitTimeouts++;
        this.stats.commitTimeoutsByNode[node] = (this.stats.commitTimeoutsByNode[node] ?? 0) + 1;
      }
      else if (e.kind === 'rpc' && e.code === -32011) {
        this.stats.mempoolFull++;
        await sleep(500);
      } else if (e.kind === 'rpc') {
        this.stats.rejections++;
        if (this.stats.rejectionSamples.length < 10) this.stats.rejectionSamples.push(`node${node}: ${e.code} ${e.message} ${JSON.stringify(e.data ?? null)}`);
        await sleep(500);
      } else {
        this.stats.transportErrors++;
        await sleep(100);
      }
    }
    return false;
  }
}
