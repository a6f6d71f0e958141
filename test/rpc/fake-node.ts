/**
 * A NodeApi for the RPC tests: a real Mempool for admission, and commits that the test
 * makes happen (`commit`), so every path of the RPC methods runs against real verdicts.
 */
import type { Result } from '../../src/codec/result.js';
import type { Tx } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { Hash } from '../../src/crypto/hash.js';
import { applyTx } from '../../src/ledger/execute.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { hashTx } from '../../src/ledger/tx.js';
import type { MempoolError } from '../../src/mempool/errors.js';
import { Mempool } from '../../src/mempool/mempool.js';
import type { AccountView, NodeApi, NodeHealth, NodeStatus, TxLocation } from '../../src/rpc/api.js';
import type { Testnet } from '../helpers/fixtures.js';

export class FakeNode implements NodeApi {
  readonly mempool: Mempool;
  healthy = true;
  submissions = 0;
  private state: LedgerState;
  private height = 0;
  private readonly locations = new Map<string, TxLocation>();
  private readonly waiters = new Map<string, ((location: TxLocation) => void)[]>();

  constructor(
    private readonly tn: Testnet,
    options: { maxTxs?: number } = {},
  ) {
    this.state = tn.state();
    this.mempool = new Mempool({ chainId: tn.chainId, verifier: tn.verifier, maxTxs: options.maxTxs ?? 1000, maxBytes: 1 << 20, nonceWindow: 64 }, this.state);
  }

  submitTx(bytes: Uint8Array): Result<{ hash: Hash; duplicate: boolean }, MempoolError> {
    this.submissions++;
    const r = this.mempool.add(bytes);
    return r.ok ? { ok: true, value: { hash: r.value.hash, duplicate: r.value.duplicate } } : r;
  }

  /** Commits `txs` as the next block. */
  commit(txs: readonly Tx[]): void {
    this.height++;
    txs.forEach((tx, index) => {
      const r = applyTx(this.state, tx, { height: this.height, index });
      if (!r.ok) throw new Error(`FakeNode.commit: tx ${index}: ${r.error.message}`);
      this.state = r.value.state;
    });
    this.mempool.onCommitted(txs, this.state);
    txs.forEach((tx, index) => {
      const hex = toHex(hashTx(tx));
      const location = { height: this.height, index };
      this.locations.set(hex, location);
      for (const resolve of this.waiters.get(hex) ?? []) resolve(location);
      this.waiters.delete(hex);
    });
  }

  /** Commits whatever the mempool would put in the next block. */
  commitPending(): Tx[] {
    const txs = this.mempool.selectForBlock(this.state, { maxTxs: 1000, maxBytes: 1 << 20 });
    this.commit(txs);
    return txs;
  }

  waitForCommit(hash: Hash, timeoutMs: number): Promise<TxLocation | undefined> {
    const hex = toHex(hash);
    const known = this.locations.get(hex);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      const list = this.waiters.get(hex) ?? [];
      list.push((location) => {
        clearTimeout(timer);
        resolve(location);
      });
      this.waiters.set(hex, list);
    });
  }

  account(address: string): AccountView {
    const a = this.state.account(address);
    return {
      address,
      balance: a.balance,
      nonce: a.nonce,
      pendingNonce: this.mempool.nextNonce(address),
      canTransact: a.canTransact,
      isAdmin: a.isAdmin,
      height: this.height,
    };
  }

  async txLocation(hash: Hash): Promise<TxLocation | undefined> {
    return this.locations.get(toHex(hash));
  }

  status(): NodeStatus {
    return {
      nodeId: '12D3KooWFake',
      chainId: this.tn.chainId,
      validatorIndex: 2,
      latestHeight: this.height,
      latestBlockHash: this.tn.genesisHash,
      latestBlockTime: this.tn.genesis.genesisTime,
      view: 7,
      catchingUp: false,
      peers: 3,
    };
  }

  health(): NodeHealth {
    return this.healthy ? { ok: true, reasons: [] } : { ok: false, reasons: ['no peers'] };
  }
}
