import { ADDRESS_BYTES, isAddress, type Address } from '../crypto/address.js';
import { fromHex, toHex, utf8 } from '../crypto/bytes.js';
import type { Hash } from '../crypto/hash.js';
import { decodeAccount, encodeAccount, isEmptyAccount, EMPTY_ACCOUNT, type Account } from './account.js';
import { SparseMerkleTree, type StateProof } from './smt.js';

/**
 * The application state: every account and data record, as entries of one sparse Merkle
 * tree whose root goes into each block header. Keys:
 *
 *   account      0x01 || 20-byte address
 *   data record  0x02 || 20-byte owner || utf-8 key
 *
 * The prefix keeps the two kinds apart, and a record key cannot collide with an account key
 * because account keys are exactly 21 bytes while record keys are longer (the data key is
 * never empty). Empty things are not stored: an empty account and a record with an empty
 * value are the same as absent ones, so the root is a function of what the state holds.
 */

export const ACCOUNT_PREFIX = 0x01;
export const RECORD_PREFIX = 0x02;

function addressBytes(address: Address): Uint8Array {
  if (!isAddress(address)) throw new TypeError(`not an address: ${JSON.stringify(address)}`);
  return fromHex(address);
}

export function accountKey(address: Address): Uint8Array {
  const key = new Uint8Array(1 + ADDRESS_BYTES);
  key[0] = ACCOUNT_PREFIX;
  key.set(addressBytes(address), 1);
  return key;
}

export function recordKey(owner: Address, key: string): Uint8Array {
  const keyBytes = utf8(key);
  const out = new Uint8Array(1 + ADDRESS_BYTES + keyBytes.length);
  out[0] = RECORD_PREFIX;
  out.set(addressBytes(owner), 1);
  out.set(keyBytes, 1 + ADDRESS_BYTES);
  return out;
}

/** A state read with the proof that it is (or is not) in the tree with a given root. */
export interface StateRead<T> {
  /** The state key that was read. */
  readonly key: Uint8Array;
  /** The raw stored bytes; undefined when absent (the proof then proves absence). */
  readonly value: Uint8Array | undefined;
  /** The decoded value, when present. */
  readonly decoded: T | undefined;
  readonly proof: StateProof;
  /** The root the proof is against: check it equals a certified header's stateRoot. */
  readonly root: Hash;
}

export class LedgerState {
  private constructor(readonly tree: SparseMerkleTree) {}

  static empty(): LedgerState {
    return new LedgerState(SparseMerkleTree.empty());
  }

  static fromTree(tree: SparseMerkleTree): LedgerState {
    return new LedgerState(tree);
  }

  get root(): Hash {
    return this.tree.root;
  }

  /** The stored account, or undefined when the address holds nothing (see `account`). */
  getAccount(address: Address): Account | undefined {
    return this.decodeStoredAccount(address, this.tree.get(accountKey(address)));
  }

  /** The account, with an absent one read as the empty account. */
  account(address: Address): Account {
    return this.getAccount(address) ?? EMPTY_ACCOUNT;
  }

  getRecord(owner: Address, key: string): Uint8Array | undefined {
    return this.tree.get(recordKey(owner, key));
  }

  /** Sets (or, for the empty account, removes) an account. */
  withAccount(address: Address, account: Account): LedgerState {
    const key = accountKey(address);
    return new LedgerState(isEmptyAccount(account) ? this.tree.delete(key) : this.tree.set(key, encodeAccount(account)));
  }

  /** Sets (or, for an empty value, removes) a data record. */
  withRecord(owner: Address, key: string, value: Uint8Array): LedgerState {
    const k = recordKey(owner, key);
    return new LedgerState(value.length === 0 ? this.tree.delete(k) : this.tree.set(k, value));
  }

  /** Applies raw writes (state key -> value, null deletes), such as an ExecutedBlock's. */
  withWrites(writes: Iterable<readonly [Uint8Array, Uint8Array | null]>): LedgerState {
    let tree = this.tree;
    for (const [key, value] of writes) tree = value === null ? tree.delete(key) : tree.set(key, value);
    return new LedgerState(tree);
  }

  proveAccount(address: Address): StateRead<Account> {
    const key = accountKey(address);
    const value = this.tree.get(key);
    return { key, value, decoded: this.decodeStoredAccount(address, value), proof: this.tree.prove(key), root: this.root };
  }

  proveRecord(owner: Address, dataKey: string): StateRead<Uint8Array> {
    const key = recordKey(owner, dataKey);
    const value = this.tree.get(key);
    return { key, value, decoded: value, proof: this.tree.prove(key), root: this.root };
  }

  /** Every stored account (order: the tree's). */
  *accounts(): Iterable<[Address, Account]> {
    for (const [key, value] of this.tree.entries()) {
      if (key.length !== 1 + ADDRESS_BYTES || key[0] !== ACCOUNT_PREFIX) continue;
      const address = toHex(key.subarray(1));
      yield [address, this.decodeStoredAccount(address, value) ?? EMPTY_ACCOUNT];
    }
  }

  private decodeStoredAccount(address: Address, value: Uint8Array | undefined): Account | undefined {
    if (value === undefined) return undefined;
    const decoded = decodeAccount(value);
    // Only the ledger writes account entries, so this is a corrupt store or a bug, not input.
    if (!decoded.ok) throw new Error(`state entry of account ${address} does not decode: ${decoded.error.message}`);
    return decoded.value;
  }
}
