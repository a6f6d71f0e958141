import type { Address } from '../crypto/address.js';
import { bytesEqual, toHex } from '../crypto/bytes.js';
import { encodeAccount, isEmptyAccount, type Account } from './account.js';
import { accountKey, recordKey, type LedgerState } from './state.js';

/** State keys (hex) that a block changed, with their new values; null means deleted. */
export type StateWrites = Map<string, Uint8Array | null>;

/**
 * The state a block executes against: reads fall through to the parent state, writes stay
 * in maps until `commit` folds them into the tree at once. A hot account touched by many
 * txs of a block is then decoded once and written to the tree once, and the tree's root is
 * computed once per block rather than once per tx.
 */
export class StateOverlay {
  private readonly accounts = new Map<Address, Account>();
  private readonly records = new Map<string, { readonly key: Uint8Array; readonly value: Uint8Array }>();

  constructor(readonly base: LedgerState) {}

  account(address: Address): Account {
    return this.accounts.get(address) ?? this.base.account(address);
  }

  setAccount(address: Address, account: Account): void {
    this.accounts.set(address, account);
  }

  /** An empty value deletes the record (see state.ts). */
  setRecord(owner: Address, dataKey: string, value: Uint8Array): void {
    const key = recordKey(owner, dataKey);
    this.records.set(toHex(key), { key, value });
  }

  /** The new state and exactly the entries that differ from the base. */
  commit(): { state: LedgerState; writes: StateWrites } {
    const writes: StateWrites = new Map();
    const changes: [Uint8Array, Uint8Array | null][] = [];
    const note = (key: Uint8Array, value: Uint8Array | null): void => {
      const before = this.base.tree.get(key);
      const same = value === null ? before === undefined : before !== undefined && bytesEqual(before, value);
      if (same) return;
      writes.set(toHex(key), value);
      changes.push([key, value]);
    };
    for (const [address, account] of this.accounts) {
      note(accountKey(address), isEmptyAccount(account) ? null : encodeAccount(account));
    }
    for (const { key, value } of this.records.values()) note(key, value.length === 0 ? null : value);
    return { state: changes.length === 0 ? this.base : this.base.withWrites(changes), writes };
  }
}
