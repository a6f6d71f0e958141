/** Shared setup for the mempool tests. */
import { encodeTx } from '../../src/codec/tx.js';
import type { Tx } from '../../src/codec/types.js';
import type { Verifier } from '../../src/crypto/domain.js';
import { applyTx } from '../../src/ledger/execute.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { Mempool, type Admitted, type MempoolOptions } from '../../src/mempool/mempool.js';
import type { MempoolErrorCode } from '../../src/mempool/errors.js';
import type { Testnet } from '../helpers/fixtures.js';

/** A verifier that counts its calls, delegating to `inner`. */
export function countingVerifier(inner: Verifier): Verifier & { calls: number } {
  const v = {
    calls: 0,
    verify: (...args: Parameters<Verifier['verify']>): boolean => {
      v.calls++;
      return inner.verify(...args);
    },
  };
  return v;
}

export function makePool(tn: Testnet, options: Partial<MempoolOptions> = {}, state: LedgerState = tn.state()): Mempool {
  return new Mempool({ chainId: tn.chainId, verifier: tn.verifier, maxTxs: 1000, maxBytes: 1 << 20, nonceWindow: 64, ...options }, state);
}

/** Fresh bytes of `tx` (the codec's cached encoding is shared: never hand it out to be mutated). */
export function bytesOf(tx: Tx): Uint8Array {
  return new Uint8Array(encodeTx(tx));
}

export function admit(pool: Mempool, tx: Tx): Admitted {
  const r = pool.add(bytesOf(tx));
  if (!r.ok) throw new Error(`expected admission, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

export function rejection(pool: Mempool, bytes: Uint8Array): MempoolErrorCode | 'ok' {
  const r = pool.add(bytes);
  return r.ok ? 'ok' : r.error.code;
}

/** Applies `txs` in order on `state`; throws naming the first tx that does not apply. */
export function applyAll(state: LedgerState, txs: readonly Tx[], height = 1): LedgerState {
  return txs.reduce((s, tx, index) => {
    const r = applyTx(s, tx, { height, index });
    if (!r.ok) throw new Error(`tx ${index} does not apply: ${r.error.code}: ${r.error.message}`);
    return r.value.state;
  }, state);
}
