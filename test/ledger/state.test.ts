import { describe, expect, it } from 'vitest';
import { addressOf } from '../../src/crypto/address.js';
import { toHex, utf8 } from '../../src/crypto/bytes.js';
import { EMPTY_ACCOUNT, encodeAccount } from '../../src/ledger/account.js';
import { verifyStateProof } from '../../src/ledger/smt.js';
import { accountKey, LedgerState, recordKey } from '../../src/ledger/state.js';
import { SparseMerkleTree } from '../../src/ledger/smt.js';
import { testKeyPair } from '../helpers/fixtures.js';

const alice = addressOf(testKeyPair('state', 'account', 0).publicKey);
const bob = addressOf(testKeyPair('state', 'account', 1).publicKey);
const funded = { balance: 100n, nonce: 2n, canTransact: true, isAdmin: false };

describe('state keys', () => {
  it('are 0x01 || address for accounts and 0x02 || owner || utf-8 key for records', () => {
    expect(toHex(accountKey(alice))).toBe(`01${alice}`);
    expect(toHex(recordKey(alice, 'héllo'))).toBe(`02${alice}${toHex(utf8('héllo'))}`);
    expect(() => accountKey('nope')).toThrow(TypeError);
  });
});

describe('LedgerState', () => {
  it('reads an absent account as undefined, or as the empty account', () => {
    const s = LedgerState.empty();
    expect(s.getAccount(alice)).toBeUndefined();
    expect(s.account(alice)).toEqual(EMPTY_ACCOUNT);
    expect(s.getRecord(alice, 'k')).toBeUndefined();
  });

  it('is immutable: with* returns a new state and leaves the old one as it was', () => {
    const s0 = LedgerState.empty();
    const s1 = s0.withAccount(alice, funded);
    const s2 = s1.withRecord(alice, 'k', utf8('v'));
    expect(s0.getAccount(alice)).toBeUndefined();
    expect(s1.getAccount(alice)).toEqual(funded);
    expect(s1.getRecord(alice, 'k')).toBeUndefined();
    expect(s2.getRecord(alice, 'k')).toEqual(utf8('v'));
    expect(s2.getRecord(bob, 'k')).toBeUndefined();
    expect(new Set([s0, s1, s2].map((s) => toHex(s.root))).size).toBe(3);
  });

  it('stores no empty account and no empty record: writing one deletes the entry', () => {
    const base = LedgerState.empty().withAccount(bob, funded);
    const withAlice = base.withAccount(alice, funded).withRecord(alice, 'k', utf8('v'));
    const cleared = withAlice.withAccount(alice, EMPTY_ACCOUNT).withRecord(alice, 'k', new Uint8Array(0));
    expect(cleared.root).toEqual(base.root);
    expect(cleared.tree.size).toBe(1);
    expect(LedgerState.empty().withAccount(alice, EMPTY_ACCOUNT).root).toEqual(LedgerState.empty().root);
  });

  it('does not depend on the order of writes', () => {
    const a = LedgerState.empty().withAccount(alice, funded).withAccount(bob, funded).withRecord(bob, 'x', utf8('1'));
    const b = LedgerState.empty().withRecord(bob, 'x', utf8('1')).withAccount(bob, funded).withAccount(alice, funded);
    expect(a.root).toEqual(b.root);
  });

  it('applies raw writes, null deleting', () => {
    const s = LedgerState.empty().withAccount(alice, funded);
    const next = s.withWrites([
      [accountKey(alice), null],
      [accountKey(bob), encodeAccount(funded)],
    ]);
    expect(next.getAccount(alice)).toBeUndefined();
    expect(next.getAccount(bob)).toEqual(funded);
  });

  it('lists its accounts and skips records', () => {
    const s = LedgerState.empty().withAccount(alice, funded).withAccount(bob, { ...funded, balance: 7n }).withRecord(alice, 'k', utf8('v'));
    expect(new Map(s.accounts())).toEqual(
      new Map([
        [alice, funded],
        [bob, { ...funded, balance: 7n }],
      ]),
    );
  });

  it('refuses to read a corrupt account entry', () => {
    const s = LedgerState.fromTree(SparseMerkleTree.empty().set(accountKey(alice), Uint8Array.of(1, 2, 3)));
    expect(() => s.getAccount(alice)).toThrow(/does not decode/);
  });
});

describe('state proofs', () => {
  const s = LedgerState.empty()
    .withAccount(alice, funded)
    .withAccount(bob, { ...funded, isAdmin: true })
    .withRecord(alice, 'doc', utf8('content'));

  it('proves an account against the root alone', () => {
    const read = s.proveAccount(alice);
    expect(read.decoded).toEqual(funded);
    expect(read.root).toEqual(s.root);
    expect(verifyStateProof(s.root, read.key, read.value, read.proof)).toBe(true);
    // The same proof does not vouch for another value or another root.
    expect(verifyStateProof(s.root, read.key, encodeAccount({ ...funded, balance: 101n }), read.proof)).toBe(false);
    expect(verifyStateProof(s.root, read.key, undefined, read.proof)).toBe(false);
    expect(verifyStateProof(LedgerState.empty().withAccount(alice, funded).root, read.key, read.value, read.proof)).toBe(false);
  });

  it('proves the absence of an account and of a record', () => {
    const nobody = addressOf(testKeyPair('state', 'account', 9).publicKey);
    const account = s.proveAccount(nobody);
    expect(account.value).toBeUndefined();
    expect(account.decoded).toBeUndefined();
    expect(verifyStateProof(s.root, account.key, undefined, account.proof)).toBe(true);
    const record = s.proveRecord(bob, 'doc');
    expect(record.value).toBeUndefined();
    expect(verifyStateProof(s.root, record.key, undefined, record.proof)).toBe(true);
  });

  it('proves a record', () => {
    const read = s.proveRecord(alice, 'doc');
    expect(read.value).toEqual(utf8('content'));
    expect(read.key).toEqual(recordKey(alice, 'doc'));
    expect(verifyStateProof(s.root, read.key, read.value, read.proof)).toBe(true);
    expect(verifyStateProof(s.root, read.key, utf8('forged'), read.proof)).toBe(false);
  });
});
