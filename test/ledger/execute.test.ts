import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS, type Block, type BlockHeader, type Tx } from '../../src/codec/types.js';
import { addressOf } from '../../src/crypto/address.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.js';
import type { Verifier } from '../../src/crypto/domain.js';
import type { Hash } from '../../src/crypto/hash.js';
import type { BlockError, TxErrorCode } from '../../src/ledger/errors.js';
import {
  applyTx,
  buildBlock,
  checkHeaderLinks,
  executeBlock,
  validateTxStateless,
  type ExecutionContext,
} from '../../src/ledger/execute.js';
import { merkleRoot } from '../../src/ledger/merkle.js';
import { accountKey, recordKey, type LedgerState } from '../../src/ledger/state.js';
import { hashTx, signTx, txSize } from '../../src/ledger/tx.js';
import { makeTestnet, testKeyPair } from '../helpers/fixtures.js';

// Accounts 0..4 may transact (0 is the admin); account 5 is funded but frozen.
const tn = makeTestnet({ validators: 4, accounts: 5, frozenAccounts: 1, balance: 1_000n });
const ADMIN = 0;
const FROZEN = 5;
const stranger = addressOf(testKeyPair('execute', 'stranger', 0).publicKey);
const at = { height: 1, index: 0 };

function totalBalance(state: LedgerState): bigint {
  let sum = 0n;
  for (const [, a] of state.accounts()) sum += a.balance;
  return sum;
}

function statelessCode(tx: Tx): TxErrorCode | 'ok' {
  const r = validateTxStateless(tx, tn.chainId, tn.verifier);
  return r.ok ? 'ok' : r.error.code;
}

function applyCode(state: LedgerState, tx: Tx): TxErrorCode | 'ok' {
  const r = applyTx(state, tx, at);
  return r.ok ? 'ok' : r.error.code;
}

function applyAll(state: LedgerState, txs: readonly Tx[]): LedgerState {
  return txs.reduce((s, tx, index) => {
    const r = applyTx(s, tx, { height: 1, index });
    if (!r.ok) throw new Error(`tx ${index}: ${r.error.message}`);
    return r.value.state;
  }, state);
}

/** A block over `txs` with honest roots, as buildBlock would make it from exactly these txs. */
function honestBlock(parent: LedgerState, txs: readonly Tx[], overrides: Partial<BlockHeader> = {}): Block {
  const fields = tn.blockFields();
  const header: BlockHeader = {
    ...fields,
    txCount: txs.length,
    txRoot: merkleRoot(txs.map(hashTx)),
    stateRoot: applyAll(parent, txs).root,
    ...overrides,
  };
  return { header, txs };
}

function blockError(r: ReturnType<typeof executeBlock>): BlockError {
  if (r.ok) throw new Error('expected the block to be rejected');
  return r.error;
}

describe('validateTxStateless', () => {
  it('accepts well-formed signed txs of every kind', () => {
    expect(statelessCode(tn.signTransfer(1, 2, 5n, 0n))).toBe('ok');
    expect(statelessCode(tn.signPut(1, 'k', utf8('v'), 0n))).toBe('ok');
    expect(statelessCode(tn.signPut(1, 'k'.repeat(LIMITS.dataKey), new Uint8Array(LIMITS.dataValue), 0n))).toBe('ok');
    expect(statelessCode(tn.signGrant(ADMIN, stranger, 0n))).toBe('ok');
    expect(statelessCode(tn.signRevoke(ADMIN, 1, 0n))).toBe('ok');
  });

  it('wrong-chain: a tx signed for another chain', () => {
    const key = tn.accountKeys[1]!;
    const tx = signTx({ chainId: 'other-chain', sender: key.publicKey, nonce: 0n, body: { kind: 'transfer', to: tn.addresses[2]!, amount: 1n } }, key);
    expect(statelessCode(tx)).toBe('wrong-chain');
  });

  it.each<[string, () => Tx]>([
    ['a zero transfer', () => tn.signTransfer(1, 2, 0n, 0n)],
    ['a transfer to oneself', () => tn.signTransfer(1, 1, 1n, 0n)],
    ['a transfer to a non-address', () => ({ ...tn.signTransfer(1, 2, 1n, 0n), body: { kind: 'transfer', to: 'not-an-address', amount: 1n } })],
    ['an empty data key', () => tn.signBody(1, { kind: 'put', key: '', value: utf8('v') }, 0n)],
    ['a data key above the limit', () => ({ ...tn.signPut(1, 'k', utf8('v'), 0n), body: { kind: 'put', key: 'k'.repeat(LIMITS.dataKey + 1), value: utf8('v') } })],
    ['a data key with a lone surrogate', () => ({ ...tn.signPut(1, 'k', utf8('v'), 0n), body: { kind: 'put', key: 'a\uD800', value: utf8('v') } })],
    ['a grant to a non-address', () => ({ ...tn.signGrant(ADMIN, 1, 0n), body: { kind: 'grant', account: 'ab'.repeat(19) } })],
    ['a revoke of an uppercase address', () => ({ ...tn.signRevoke(ADMIN, 1, 0n), body: { kind: 'revoke', account: tn.addresses[1]!.toUpperCase() } })],
    ['a short sender key', () => ({ ...tn.signTransfer(1, 2, 1n, 0n), sender: new Uint8Array(31) })],
    ['a short signature', () => ({ ...tn.signTransfer(1, 2, 1n, 0n), signature: new Uint8Array(63) })],
  ])('malformed: %s', (_name, make) => {
    expect(statelessCode(make())).toBe('malformed');
  });

  it('too-large: a put value above the limit', () => {
    const tx = { ...tn.signPut(1, 'k', utf8('v'), 0n), body: { kind: 'put' as const, key: 'k', value: new Uint8Array(LIMITS.dataValue + 1) } };
    expect(statelessCode(tx)).toBe('too-large');
  });

  it('bad-signature: a flipped bit, another key, or a changed body', () => {
    const tx = tn.signTransfer(1, 2, 5n, 0n);
    const flipped = Uint8Array.from(tx.signature);
    flipped[10]! ^= 1;
    expect(statelessCode({ ...tx, signature: flipped })).toBe('bad-signature');
    expect(statelessCode({ ...tx, signature: tn.signTransfer(2, 1, 5n, 0n).signature })).toBe('bad-signature');
    expect(statelessCode({ ...tx, body: { kind: 'transfer', to: tn.addresses[2]!, amount: 6n } })).toBe('bad-signature');
    expect(statelessCode({ ...tx, nonce: 1n })).toBe('bad-signature');
  });

  it('skips signature verification for a hash the alreadyVerified hook vouches for', () => {
    let calls = 0;
    const counting: Verifier = { verify: (...args) => (calls++, tn.verifier.verify(...args)) };
    const tx = tn.signTransfer(1, 2, 5n, 0n);
    expect(validateTxStateless(tx, tn.chainId, counting).ok).toBe(true);
    expect(calls).toBe(1);
    const known = toHex(hashTx(tx));
    expect(validateTxStateless(tx, tn.chainId, counting, (h) => toHex(h) === known).ok).toBe(true);
    expect(calls).toBe(1);
  });
});

describe('applyTx', () => {
  const genesis = tn.state();

  it('transfers: moves the amount, bumps the nonce, leaves the input state alone', () => {
    const rootBefore = toHex(genesis.root);
    const r = applyTx(genesis, tn.signTransfer(1, 2, 300n, 0n), at);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.state.getAccount(tn.addresses[1]!)).toMatchObject({ balance: 700n, nonce: 1n });
    expect(r.value.state.getAccount(tn.addresses[2]!)).toMatchObject({ balance: 1_300n, nonce: 0n });
    expect(r.value.receipt).toMatchObject({ height: 1, index: 0, code: 'ok', kind: 'transfer', sender: tn.addresses[1] });
    expect(r.value.receipt.txHash).toEqual(hashTx(tn.signTransfer(1, 2, 300n, 0n)));
    expect(toHex(genesis.root)).toBe(rootBefore);
    expect(genesis.getAccount(tn.addresses[1]!)).toMatchObject({ balance: 1_000n, nonce: 0n });
  });

  it('a transfer to a new address creates an account that may not transact until granted', () => {
    const s1 = applyAll(genesis, [tn.signTransfer(1, stranger, 10n, 0n)]);
    expect(s1.getAccount(stranger)).toEqual({ balance: 10n, nonce: 0n, canTransact: false, isAdmin: false });
    const strangerKey = testKeyPair('execute', 'stranger', 0);
    const spend = tn.signTransfer(strangerKey, 1, 1n, 0n);
    expect(applyCode(s1, spend)).toBe('not-permitted');
    const s2 = applyAll(s1, [tn.signGrant(ADMIN, stranger, 0n)]);
    expect(s2.getAccount(stranger)?.canTransact).toBe(true);
    expect(applyCode(s2, spend)).toBe('ok');
  });

  it('bad-nonce: a gap, and a replay of an applied tx', () => {
    expect(applyCode(genesis, tn.signTransfer(1, 2, 1n, 1n))).toBe('bad-nonce');
    const tx = tn.signTransfer(1, 2, 1n, 0n);
    const s1 = applyAll(genesis, [tx]);
    expect(applyCode(s1, tx)).toBe('bad-nonce');
    expect(applyCode(s1, tn.signTransfer(1, 2, 1n, 1n))).toBe('ok');
  });

  it('not-permitted: a frozen sender, a non-admin grant or revoke, a revoked sender', () => {
    expect(applyCode(genesis, tn.signTransfer(FROZEN, 1, 1n, 0n))).toBe('not-permitted');
    expect(applyCode(genesis, tn.signGrant(1, FROZEN, 0n))).toBe('not-permitted');
    expect(applyCode(genesis, tn.signRevoke(1, 2, 0n))).toBe('not-permitted');
    const revoked = applyAll(genesis, [tn.signRevoke(ADMIN, 2, 0n)]);
    expect(revoked.getAccount(tn.addresses[2]!)).toMatchObject({ canTransact: false, balance: 1_000n });
    expect(applyCode(revoked, tn.signTransfer(2, 1, 1n, 0n))).toBe('not-permitted');
  });

  it('insufficient-balance: more than the sender holds, while exactly all of it is fine', () => {
    expect(applyCode(genesis, tn.signTransfer(1, 2, 1_001n, 0n))).toBe('insufficient-balance');
    const all = applyAll(genesis, [tn.signTransfer(1, 2, 1_000n, 0n)]);
    expect(all.getAccount(tn.addresses[1]!)).toMatchObject({ balance: 0n, nonce: 1n, canTransact: true });
  });

  it('grants and revokes; an admin may revoke itself and then cannot transact', () => {
    const s = applyAll(genesis, [tn.signGrant(ADMIN, FROZEN, 0n), tn.signRevoke(ADMIN, tn.addresses[ADMIN]!, 1n)]);
    expect(s.getAccount(tn.addresses[FROZEN]!)?.canTransact).toBe(true);
    expect(s.getAccount(tn.addresses[ADMIN]!)).toMatchObject({ canTransact: false, isAdmin: true, nonce: 2n });
    expect(applyCode(s, tn.signGrant(ADMIN, 1, 2n))).toBe('not-permitted');
    expect(applyCode(s, tn.signTransfer(FROZEN, 1, 1n, 0n))).toBe('ok');
  });

  it('revoking an address with no account stores nothing', () => {
    const s = applyAll(genesis, [tn.signRevoke(ADMIN, stranger, 0n)]);
    expect(s.getAccount(stranger)).toBeUndefined();
    expect(s.getAccount(tn.addresses[ADMIN]!)?.nonce).toBe(1n);
  });

  it('keeps a hand-made state from overflowing a u64 nonce or balance', () => {
    const max = (1n << 64n) - 1n;
    const spent = genesis.withAccount(tn.addresses[1]!, { balance: 10n, nonce: max, canTransact: true, isAdmin: false });
    expect(applyCode(spent, tn.signTransfer(1, 2, 1n, max))).toBe('bad-nonce');
    const rich = genesis.withAccount(tn.addresses[2]!, { balance: max, nonce: 0n, canTransact: true, isAdmin: false });
    expect(applyCode(rich, tn.signTransfer(1, 2, 1n, 0n))).toBe('malformed');
    expect(applyCode(rich, tn.signTransfer(2, 1, 1n, 0n))).toBe('ok');
  });

  it('puts and deletes data records under the sender', () => {
    const s1 = applyAll(genesis, [tn.signPut(1, 'greeting', utf8('hello'), 0n), tn.signPut(1, 'other', utf8('x'), 1n)]);
    expect(s1.getRecord(tn.addresses[1]!, 'greeting')).toEqual(utf8('hello'));
    expect(s1.getRecord(tn.addresses[2]!, 'greeting')).toBeUndefined();
    expect(s1.getAccount(tn.addresses[1]!)?.nonce).toBe(2n);
    const s2 = applyAll(s1, [tn.signPut(1, 'greeting', utf8('bye'), 2n)]);
    expect(s2.getRecord(tn.addresses[1]!, 'greeting')).toEqual(utf8('bye'));
    const s3 = applyAll(s2, [tn.signPut(1, 'greeting', new Uint8Array(0), 3n)]);
    expect(s3.getRecord(tn.addresses[1]!, 'greeting')).toBeUndefined();
    // Deleting removes the entry from the tree rather than storing an empty value.
    expect(s3.tree.size).toBe(s2.tree.size - 1);
    expect(s3.tree.get(recordKey(tn.addresses[1]!, 'greeting'))).toBeUndefined();
  });
});

describe('executeBlock', () => {
  const genesis = tn.state();

  it('executes an honest block: receipts, new state, and exactly the changed entries as writes', () => {
    const txs = [tn.signTransfer(1, 2, 10n, 0n), tn.signTransfer(2, stranger, 5n, 0n), tn.signPut(3, 'k', utf8('v'), 0n), tn.signRevoke(ADMIN, stranger, 0n)];
    const block = honestBlock(genesis, txs);
    const r = executeBlock(genesis, block, tn.ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.state.root).toEqual(block.header.stateRoot);
    expect(r.value.receipts.map((x) => [x.index, x.code, x.height])).toEqual(txs.map((_, i) => [i, 'ok', 1]));
    expect(r.value.receipts.map((x) => toHex(x.txHash))).toEqual(txs.map((tx) => toHex(hashTx(tx))));
    const expectedKeys = [
      accountKey(tn.addresses[1]!),
      accountKey(tn.addresses[2]!),
      accountKey(stranger),
      accountKey(tn.addresses[3]!),
      accountKey(tn.addresses[ADMIN]!),
      recordKey(tn.addresses[3]!, 'k'),
    ].map(toHex);
    expect([...r.value.writes.keys()].sort()).toEqual(expectedKeys.sort());
    // The writes alone turn the parent into the new state (what the store relies on).
    const replayed = genesis.withWrites([...r.value.writes].map(([k, v]) => [fromHex(k), v] as const));
    expect(replayed.root).toEqual(r.value.state.root);
    expect(genesis.root).toEqual(tn.state().root);
  });

  it('is deterministic: the same block on equal states gives the same root and writes', () => {
    const txs = Array.from({ length: 20 }, (_, i) => tn.signTransfer(i % 5, (i + 1) % 5, BigInt(i + 1), BigInt(Math.floor(i / 5))));
    const block = honestBlock(genesis, txs);
    const a = executeBlock(tn.state(), block, tn.ctx);
    const b = executeBlock(tn.state(), block, tn.ctx);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.value.state.root).toEqual(b.value.state.root);
    expect([...a.value.writes]).toEqual([...b.value.writes]);
    expect(a.value.receipts).toEqual(b.value.receipts);
  });

  it('an empty block keeps the state root and writes nothing', () => {
    const r = executeBlock(genesis, honestBlock(genesis, []), tn.ctx);
    expect(r.ok && r.value.writes.size).toBe(0);
    expect(r.ok && r.value.state.root).toEqual(genesis.root);
  });

  it('invalid-tx: one bad tx in the middle rejects the block, naming it, and the parent is untouched', () => {
    const good = [tn.signTransfer(1, 2, 10n, 0n), tn.signTransfer(2, 3, 10n, 0n)];
    const bad = tn.signTransfer(4, 1, 5_000n, 0n); // more than account 4 holds
    const txs = [good[0]!, bad, good[1]!];
    const block: Block = { header: { ...honestBlock(genesis, good).header, txCount: 3, txRoot: merkleRoot(txs.map(hashTx)) }, txs };
    const rootBefore = toHex(genesis.root);
    const e = blockError(executeBlock(genesis, block, tn.ctx));
    expect(e.code).toBe('invalid-tx');
    if (e.code !== 'invalid-tx') return;
    expect(e.index).toBe(1);
    expect(e.txError.code).toBe('insufficient-balance');
    expect(toHex(genesis.root)).toBe(rootBefore);
    expect(genesis.getAccount(tn.addresses[1]!)).toMatchObject({ balance: 1_000n, nonce: 0n });
  });

  it('invalid-tx: a bad signature, a wrong chain, a malformed tx, a replayed nonce', () => {
    const tx = tn.signTransfer(1, 2, 10n, 0n);
    const sig = Uint8Array.from(tx.signature);
    sig[0]! ^= 0x80;
    const key = tn.accountKeys[1]!;
    const otherChain = signTx({ chainId: 'elsewhere', sender: key.publicKey, nonce: 0n, body: { kind: 'transfer', to: tn.addresses[2]!, amount: 1n } }, key);
    const cases: [Tx[], number, TxErrorCode][] = [
      [[{ ...tx, signature: sig }], 0, 'bad-signature'],
      [[tn.signTransfer(2, 3, 1n, 0n), otherChain], 1, 'wrong-chain'],
      [[tn.signTransfer(2, 2, 1n, 0n)], 0, 'malformed'],
      [[tx, tn.signTransfer(3, 1, 1n, 0n), tn.signTransfer(1, 2, 11n, 0n)], 2, 'bad-nonce'],
    ];
    for (const [txs, index, code] of cases) {
      const block: Block = { header: { ...honestBlock(genesis, []).header, txCount: txs.length, txRoot: merkleRoot(txs.map(hashTx)) }, txs };
      const e = blockError(executeBlock(genesis, block, tn.ctx));
      expect(e).toMatchObject({ code: 'invalid-tx', index, txError: { code } });
    }
  });

  it('rejects a replay of a committed tx in a later block', () => {
    const tx = tn.signTransfer(1, 2, 10n, 0n);
    const first = executeBlock(genesis, honestBlock(genesis, [tx]), tn.ctx);
    if (!first.ok) throw new Error(first.error.message);
    const replay: Block = { header: { ...honestBlock(genesis, [tx]).header, height: 2 }, txs: [tx] };
    expect(blockError(executeBlock(first.value.state, replay, tn.ctx))).toMatchObject({ code: 'invalid-tx', index: 0, txError: { code: 'bad-nonce' } });
  });

  it('uses the alreadyVerified hook instead of verifying again', () => {
    let calls = 0;
    const counting: Verifier = { verify: (...args) => (calls++, tn.verifier.verify(...args)) };
    const txs = [tn.signTransfer(1, 2, 10n, 0n), tn.signTransfer(2, 3, 10n, 0n), tn.signTransfer(3, 4, 10n, 0n)];
    const block = honestBlock(genesis, txs);
    expect(executeBlock(genesis, block, { ...tn.ctx, verifier: counting }).ok).toBe(true);
    expect(calls).toBe(3);
    const verified = new Set([toHex(hashTx(txs[0]!)), toHex(hashTx(txs[2]!))]);
    const ctx: ExecutionContext = { ...tn.ctx, verifier: counting, alreadyVerified: (h: Hash) => verified.has(toHex(h)) };
    expect(executeBlock(genesis, block, ctx).ok).toBe(true);
    expect(calls).toBe(4);
  });

  it.each<[string, (b: Block) => Block, Partial<ExecutionContext>, BlockError['code']]>([
    ['bad-chain', (b) => ({ ...b, header: { ...b.header, chainId: 'other' } }), {}, 'bad-chain'],
    ['bad-proposer', (b) => ({ ...b, header: { ...b.header, proposer: 4 } }), {}, 'bad-proposer'],
    ['bad-tx-count', (b) => ({ ...b, header: { ...b.header, txCount: 1 } }), {}, 'bad-tx-count'],
    ['bad-tx-root (reordered txs)', (b) => ({ ...b, txs: [b.txs[1]!, b.txs[0]!] }), {}, 'bad-tx-root'],
    ['bad-tx-root (wrong root)', (b) => ({ ...b, header: { ...b.header, txRoot: new Uint8Array(32) } }), {}, 'bad-tx-root'],
    ['bad-state-root', (b) => ({ ...b, header: { ...b.header, stateRoot: new Uint8Array(32) } }), {}, 'bad-state-root'],
    ['too-large (tx count)', (b) => b, { maxBlockTxs: 1 }, 'too-large'],
    ['too-large (bytes)', (b) => b, { maxBlockBytes: 100 }, 'too-large'],
  ])('%s', (_name, corrupt, ctxOverride, code) => {
    const block = honestBlock(genesis, [tn.signTransfer(1, 2, 10n, 0n), tn.signTransfer(3, 2, 10n, 0n)]);
    expect(executeBlock(genesis, block, tn.ctx).ok).toBe(true);
    expect(blockError(executeBlock(genesis, corrupt(block), { ...tn.ctx, ...ctxOverride })).code).toBe(code);
  });

  it('duplicate-tx: the same tx twice', () => {
    const tx = tn.signTransfer(1, 2, 10n, 0n);
    const txs = [tn.signTransfer(3, 2, 10n, 0n), tx, tx];
    const block: Block = { header: { ...honestBlock(genesis, []).header, txCount: 3, txRoot: merkleRoot(txs.map(hashTx)) }, txs };
    expect(blockError(executeBlock(genesis, block, tn.ctx))).toMatchObject({ code: 'duplicate-tx', index: 2, firstIndex: 1 });
  });
});

describe('checkHeaderLinks', () => {
  const header = honestBlock(tn.state(), []).header;
  const code = (h: BlockHeader, chainId = tn.chainId): string => {
    const r = checkHeaderLinks(h, tn.genesisLink, chainId);
    return r.ok ? 'ok' : r.error.code;
  };

  it('accepts block 1 on genesis, including an equal timestamp', () => {
    expect(code(header)).toBe('ok');
    expect(code({ ...header, timestamp: tn.genesis.genesisTime })).toBe('ok');
  });

  it('names each broken link', () => {
    expect(code(header, 'other')).toBe('bad-chain');
    expect(code({ ...header, height: 2 })).toBe('bad-height');
    expect(code({ ...header, height: 0 })).toBe('bad-height');
    expect(code({ ...header, parentHash: new Uint8Array(32) })).toBe('bad-parent');
    expect(code({ ...header, timestamp: tn.genesis.genesisTime - 1 })).toBe('bad-timestamp');
  });
});

describe('buildBlock', () => {
  const genesis = tn.state();

  it('leaves out invalid candidates, reports why, and builds a block executeBlock accepts with the same result', () => {
    const candidates = [
      tn.signTransfer(1, 2, 10n, 0n),
      tn.signTransfer(1, 2, 10n, 5n), // nonce gap
      tn.signTransfer(FROZEN, 2, 10n, 0n), // frozen
      tn.signTransfer(2, 3, 10n, 0n),
      { ...tn.signTransfer(3, 4, 10n, 0n), nonce: 1n }, // signature no longer matches
      tn.signTransfer(4, 4, 10n, 0n), // to self
      tn.signTransfer(1, 2, 10n, 0n), // duplicate of the first: its nonce is used
      tn.signTransfer(1, stranger, 990n, 1n),
      tn.signTransfer(1, 2, 1n, 2n), // balance now 0
    ];
    const built = buildBlock(genesis, candidates, tn.blockFields(), tn.ctx);
    expect(built.block.txs).toEqual([candidates[0], candidates[3], candidates[7]]);
    expect(built.rejected.map((r) => [candidates.indexOf(r.tx), r.error.code])).toEqual([
      [1, 'bad-nonce'],
      [2, 'not-permitted'],
      [4, 'bad-signature'],
      [5, 'malformed'],
      [6, 'bad-nonce'],
      [8, 'insufficient-balance'],
    ]);
    expect(built.block.header).toMatchObject({ ...tn.blockFields(), txCount: 3 });
    const again = executeBlock(genesis, built.block, tn.ctx);
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    expect(again.value.state.root).toEqual(built.executed.state.root);
    expect(built.block.header.stateRoot).toEqual(built.executed.state.root);
    expect([...again.value.writes]).toEqual([...built.executed.writes]);
    expect(again.value.receipts).toEqual(built.executed.receipts);
  });

  it('stops at maxBlockTxs and maxBlockBytes without pulling further candidates', () => {
    const txs = Array.from({ length: 10 }, (_, i) => tn.signTransfer(1, 2, 1n, BigInt(i)));
    let pulled = 0;
    function* feed(): Generator<Tx> {
      for (const tx of txs) {
        pulled++;
        yield tx;
      }
    }
    const byCount = buildBlock(genesis, feed(), tn.blockFields(), { ...tn.ctx, maxBlockTxs: 4 });
    expect(byCount.block.txs.length).toBe(4);
    expect(pulled).toBe(4);
    const perTx = txSize(txs[0]!);
    const byBytes = buildBlock(genesis, txs, tn.blockFields(), { ...tn.ctx, maxBlockBytes: perTx * 3 + perTx - 1 });
    expect(byBytes.block.txs.length).toBe(3);
    expect(byBytes.rejected).toEqual([]);
    expect(executeBlock(genesis, byBytes.block, { ...tn.ctx, maxBlockBytes: perTx * 3 }).ok).toBe(true);
  });

  it('builds an empty block from no candidates', () => {
    const built = buildBlock(genesis, [], tn.blockFields(), tn.ctx);
    expect(built.block.header.txCount).toBe(0);
    expect(built.block.header.stateRoot).toEqual(genesis.root);
    expect(executeBlock(genesis, built.block, tn.ctx).ok).toBe(true);
  });
});

describe('conservation and agreement under random transfers', () => {
  it('total balance never changes, and every built block re-executes to the same root', () => {
    const net = makeTestnet({ validators: 1, accounts: 6, balance: 50n, seed: 'conservation' });
    const transfer = fc.record({ from: fc.nat(5), to: fc.nat(5), amount: fc.bigInt({ min: 1n, max: 60n }) });
    fc.assert(
      fc.property(fc.array(fc.array(transfer, { maxLength: 12 }), { minLength: 1, maxLength: 4 }), (blocks) => {
        let state = net.state();
        const supply = totalBalance(state);
        let link = net.genesisLink;
        for (const planned of blocks) {
          // Sign with the nonces the state expects; some still fail (self, overdraft) and are left out.
          const nonces = new Map<number, bigint>();
          const txs = planned.map(({ from, to, amount }) => {
            const nonce = nonces.get(from) ?? state.account(net.addresses[from]!).nonce;
            nonces.set(from, nonce + 1n);
            return net.signTransfer(from, to, amount, nonce);
          });
          const built = buildBlock(state, txs, net.blockFields(link), net.ctx);
          const executed = executeBlock(state, built.block, net.ctx);
          if (!executed.ok) return false;
          if (toHex(executed.value.state.root) !== toHex(built.block.header.stateRoot)) return false;
          state = executed.value.state;
          if (totalBalance(state) !== supply) return false;
          link = { height: link.height + 1, hash: new Uint8Array(32).fill(link.height + 1), timestamp: link.timestamp + 1 };
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });
});
