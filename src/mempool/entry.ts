import type { Tx } from '../codec/types.js';
import type { Address } from '../crypto/address.js';
import type { Hash } from '../crypto/hash.js';

/** One pending tx with the facts about it that admission computed, so nothing is derived twice. */
export interface Entry {
  readonly tx: Tx;
  readonly hash: Hash;
  readonly hashHex: string;
  /** Encoded bytes. */
  readonly size: number;
  readonly sender: Address;
  readonly nonce: bigint;
  /** Arrival order: increases with every admitted tx. */
  readonly seq: number;
}

/** A sender's pending txs by nonce (at most nonceWindow of them). */
export type SenderQueue = Map<bigint, Entry>;
