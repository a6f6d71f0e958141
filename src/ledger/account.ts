import { decodeWith } from '../codec/reader.js';
import type { CodecError, Result } from '../codec/result.js';
import { Writer } from '../codec/writer.js';

/**
 * One account's state. An address with no entry in the state tree is the empty account
 * (no balance, nonce 0, cannot transact), and the ledger never stores an empty account:
 * the state root then depends only on what accounts hold, not on how they got there.
 */
export interface Account {
  /** u64. */
  readonly balance: bigint;
  /** The nonce the account's next tx must carry (u64): how many txs it has sent. */
  readonly nonce: bigint;
  readonly canTransact: boolean;
  readonly isAdmin: boolean;
}

export const EMPTY_ACCOUNT: Account = Object.freeze({ balance: 0n, nonce: 0n, canTransact: false, isAdmin: false });

/** Encoded size of an account: two u64s and two bools. */
export const ACCOUNT_BYTES = 18;

export function isEmptyAccount(a: Account): boolean {
  return a.balance === 0n && a.nonce === 0n && !a.canTransact && !a.isAdmin;
}

/** `u64 balance || u64 nonce || bool canTransact || bool isAdmin`, big-endian as the codec writes. */
export function encodeAccount(account: Account): Uint8Array {
  const w = new Writer(ACCOUNT_BYTES);
  w.u64n(account.balance);
  w.u64n(account.nonce);
  w.bool(account.canTransact);
  w.bool(account.isAdmin);
  return w.finish();
}

export function decodeAccount(bytes: Uint8Array): Result<Account, CodecError> {
  return decodeWith(bytes, (r) => {
    const balance = r.u64n();
    const nonce = r.u64n();
    const canTransact = r.bool();
    const isAdmin = r.bool();
    return { balance, nonce, canTransact, isAdmin };
  });
}
