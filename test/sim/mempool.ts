/**
 * A node's pending txs, kept per sender in nonce order so that building a block on any
 * parent state yields exactly the txs that can apply there: each sender's run of
 * consecutive nonces from its account nonce in that state, senders taken in turn. Txs
 * already in the parent's ancestors are skipped for free (their nonces are below the
 * parent state's), and a tx whose predecessor is missing waits without costing anything.
 */
import type { Tx } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/index.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { hashTx, senderAddress } from '../../src/ledger/tx.js';

export class Mempool {
  private readonly byHash = new Map<string, Tx>();
  /** Tx hash -> how many in-flight blocks hold it (see SimNode.inFlight). */
  private readonly inFlight = new Map<string, number>();
  /** Txs both here and in some in-flight block. */
  private inBoth = 0;
  /** sender address -> nonce -> tx (the admission check refuses a second tx for one nonce). */
  private readonly bySender = new Map<string, Map<bigint, Tx>>();

  get size(): number {
    return this.byHash.size;
  }

  /** Txs here that no in-flight block holds: what the replica is told is pending. */
  get pending(): number {
    return this.byHash.size - this.inBoth;
  }

  /** A block is in flight: its txs are no longer pending. */
  markInFlight(hashes: readonly string[]): void {
    for (const h of hashes) {
      const n = this.inFlight.get(h) ?? 0;
      this.inFlight.set(h, n + 1);
      if (n === 0 && this.byHash.has(h)) this.inBoth++;
    }
  }

  /** A block is no longer in flight (committed or abandoned). */
  unmarkInFlight(hashes: readonly string[]): void {
    for (const h of hashes) {
      const n = this.inFlight.get(h);
      if (n === undefined) continue;
      if (n > 1) {
        this.inFlight.set(h, n - 1);
        continue;
      }
      this.inFlight.delete(h);
      if (this.byHash.has(h)) this.inBoth--;
    }
  }

  clearInFlight(): void {
    this.inFlight.clear();
    this.inBoth = 0;
  }

  has(hashHex: string): boolean {
    return this.byHash.has(hashHex);
  }

  hashes(): IterableIterator<string> {
    return this.byHash.keys();
  }

  values(): IterableIterator<Tx> {
    return this.byHash.values();
  }

  /** Adds a tx; false if it is here already or another tx holds its sender's nonce. */
  add(hashHex: string, tx: Tx): boolean {
    if (this.byHash.has(hashHex)) return false;
    const sender = senderAddress(tx);
    let nonces = this.bySender.get(sender);
    if (nonces === undefined) {
      nonces = new Map();
      this.bySender.set(sender, nonces);
    }
    if (nonces.has(tx.nonce)) return false;
    nonces.set(tx.nonce, tx);
    this.byHash.set(hashHex, tx);
    if (this.inFlight.has(hashHex)) this.inBoth++;
    return true;
  }

  delete(hashHex: string): void {
    const tx = this.byHash.get(hashHex);
    if (tx === undefined) return;
    this.byHash.delete(hashHex);
    if (this.inFlight.has(hashHex)) this.inBoth--;
    const sender = senderAddress(tx);
    const nonces = this.bySender.get(sender);
    nonces?.delete(tx.nonce);
    if (nonces?.size === 0) this.bySender.delete(sender);
  }

  /** Drops `sender`'s txs with a nonce below `nonce` (they can never apply again). */
  dropBelow(sender: string, nonce: bigint): void {
    const nonces = this.bySender.get(sender);
    if (nonces === undefined) return;
    for (const [n, tx] of nonces) if (n < nonce) this.delete(toHex(hashTx(tx)));
  }

  clear(): void {
    this.byHash.clear();
    this.bySender.clear();
    this.clearInFlight();
  }

  /** The txs that apply on `state`, in an order that applies: senders round-robin, nonces ascending. */
  *candidates(state: LedgerState): Generator<Tx> {
    const runs: { nonces: Map<bigint, Tx>; next: bigint }[] = [];
    for (const [sender, nonces] of this.bySender) runs.push({ nonces, next: state.account(sender).nonce });
    let live = runs;
    while (live.length > 0) {
      const still: typeof runs = [];
      for (const run of live) {
        const tx = run.nonces.get(run.next);
        if (tx === undefined) continue;
        run.next++;
        yield tx;
        still.push(run);
      }
      live = still;
    }
  }
}
