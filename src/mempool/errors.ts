import type { TxErrorCode } from '../ledger/errors.js';

/**
 * Why the mempool refused a tx. The ledger's TxErrorCode is reused wherever the meaning is
 * the same as in block execution; two codes are the mempool's own:
 *
 * | code                   | when                                                                 | retry?             |
 * |------------------------|----------------------------------------------------------------------|--------------------|
 * | `malformed`            | the bytes do not decode as a tx, or its fields break a ledger rule   | never (same bytes) |
 * | `too-large`            | the encoding is above LIMITS.txBytes (checked before decoding)       | never              |
 * | `wrong-chain`          | the tx names another chain id                                        | never              |
 * | `bad-nonce`            | nonce below the committed account nonce (used already), or at/above nonce + nonceWindow (too far ahead) | when lower nonces commit (ahead) / never (used) |
 * | `not-permitted`        | the sender may not transact, or a grant/revoke from a non-admin      | after a grant      |
 * | `insufficient-balance` | a transfer above the sender's committed balance                      | after funding      |
 * | `bad-signature`        | the signature does not verify for the sender key                     | never              |
 * | `duplicate-nonce`      | another tx from the same sender with the same nonce is pending       | after it commits (then the nonce is used) |
 * | `mempool-full`         | the pool is at its tx-count or byte bound, or at the caller's tighter bound (the node's backlog budget for client txs) | later: backpressure |
 *
 * Resubmitting a tx that is already pending is not an error (`add` reports `duplicate`).
 * `duplicate-nonce` keeps the first tx seen for a (sender, nonce): without fees there is no
 * price to rank a replacement by, and letting the latest win would let two versions chase
 * each other around the gossip network forever.
 */
export type MempoolErrorCode = TxErrorCode | 'duplicate-nonce' | 'mempool-full';

export interface MempoolError {
  readonly code: MempoolErrorCode;
  readonly message: string;
}

export function mempoolError(code: MempoolErrorCode, message: string): MempoolError {
  return { code, message };
}
