/**
 * Simulated clients: genesis accounts that sign transfers and data writes with consecutive
 * nonces and hand them to some nodes. Now and then one sends a tx with a broken signature,
 * which must never be committed. Every tx stays valid until committed (balances are vast),
 * so the liveness phase can demand that all of them land.
 */
import type { Tx, TxBody, UnsignedTx } from '../../src/codec/types.js';
import type { Cluster } from './cluster.js';
import type { SimNode } from './node.js';
import type { Prng } from './prng.js';

export class Clients {
  private readonly nonces: bigint[];
  /** Every valid tx signed so far, in order. */
  readonly sent: Tx[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly prng: Prng,
  ) {
    this.nonces = cluster.chain.keys.clients.map(() => 0n);
  }

  get count(): number {
    return this.nonces.length;
  }

  /** Signs client `c`'s next tx. */
  next(c: number): Tx {
    const keys = this.cluster.chain.keys;
    const nonce = this.nonces[c] as bigint;
    this.nonces[c] = nonce + 1n;
    const unsigned: UnsignedTx = { chainId: keys.chainId, sender: keys.clients[c] as Uint8Array, nonce, body: this.body(c) };
    const tx = keys.signTx(unsigned, c);
    this.sent.push(tx);
    return tx;
  }

  private body(c: number): TxBody {
    const keys = this.cluster.chain.keys;
    if (this.count > 1 && this.prng.chance(0.7)) {
      let to = this.prng.int(this.count - 1);
      if (to >= c) to++;
      return { kind: 'transfer', to: keys.clientAddresses[to] as string, amount: BigInt(1 + this.prng.int(1000)) };
    }
    return { kind: 'put', key: `k${this.prng.int(4)}`, value: this.prng.bytes(this.prng.int(24)) };
  }

  /** A tx whose signature does not verify (it reuses no nonce a valid tx needs: the signature alone is wrong). */
  forged(c: number): Tx {
    const keys = this.cluster.chain.keys;
    const unsigned: UnsignedTx = { chainId: keys.chainId, sender: keys.clients[c] as Uint8Array, nonce: this.nonces[c] as bigint, body: this.body(c) };
    const tx = keys.signTx(unsigned, c);
    const signature = Uint8Array.from(tx.signature);
    signature[0] = (signature[0] as number) ^ 0x01;
    return { ...tx, signature };
  }

  /** One client submits one tx to a random non-empty set of nodes (sometimes a bad one). */
  submitRandom(invalidRate: number): void {
    const c = this.prng.int(this.count);
    const targets = this.pickTargets();
    if (this.prng.chance(invalidRate)) this.cluster.submit(this.forged(c), false, targets);
    else this.cluster.submit(this.next(c), true, targets);
  }

  /** A client that never heard back resubmits: every unconfirmed valid tx, to every node. */
  resubmitUnconfirmed(): number {
    let n = 0;
    for (const tx of this.sent) {
      if (!this.cluster.checker.isUnconfirmedTx(tx)) continue;
      this.cluster.submit(tx, true, this.cluster.nodes);
      n++;
    }
    return n;
  }

  private pickTargets(): SimNode[] {
    const nodes = this.cluster.nodes;
    if (this.prng.chance(0.3)) return [...nodes];
    const out = nodes.filter(() => this.prng.chance(0.5));
    return out.length > 0 ? out : [this.prng.pick(nodes)];
  }
}
