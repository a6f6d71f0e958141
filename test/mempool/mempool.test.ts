import { describe, expect, it } from 'vitest';
import { encodeTx } from '../../src/codec/tx.js';
import { LIMITS, type Tx } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import { buildBlock, executeBlock, executionContext } from '../../src/ledger/execute.js';
import type { Address } from '../../src/crypto/address.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { hashTx, senderAddress, signTx } from '../../src/ledger/tx.js';
import type { AdmissionBound, Mempool } from '../../src/mempool/mempool.js';
import { Prng } from '../sim/prng.js';
import { makeTestnet, testKeyPair } from '../helpers/fixtures.js';
import { admit, applyAll, bytesOf, countingVerifier, makePool, rejection } from './helpers.js';

// Accounts 0..3 may transact (0 is the admin); account 4 is funded but frozen.
const tn = makeTestnet({ accounts: 4, frozenAccounts: 1, balance: 1_000n });
const ADMIN = 0;
const FROZEN = 4;
const stranger = testKeyPair('mempool', 'stranger', 0);

describe('Mempool.add: admission', () => {
  it('admits a valid tx and reports its hash, size and contents', () => {
    const pool = makePool(tn);
    const tx = tn.signTransfer(1, 2, 10n, 0n);
    const admitted = admit(pool, tx);
    expect(admitted.duplicate).toBe(false);
    expect(admitted.hash).toEqual(hashTx(tx));
    expect(admitted.hashHex).toBe(toHex(hashTx(tx)));
    expect(admitted.tx).toEqual(tx);
    expect(pool.size).toBe(1);
    expect(pool.bytes).toBe(encodeTx(tx).length);
    expect(pool.has(admitted.hash)).toBe(true);
    expect(pool.has(admitted.hashHex)).toBe(true);
    expect(pool.get(admitted.hashHex)).toEqual(tx);
    expect(pool.get(hashTx(tn.signTransfer(1, 2, 11n, 0n)))).toBeUndefined();
  });

  it('treats a resubmitted tx as a harmless duplicate, verified once and stored once', () => {
    const verifier = countingVerifier(tn.verifier);
    const pool = makePool(tn, { verifier });
    const tx = tn.signPut(1, 'k', Uint8Array.of(1), 0n);
    const first = admit(pool, tx);
    const again = admit(pool, tx);
    expect(again.duplicate).toBe(true);
    expect(again.hashHex).toBe(first.hashHex);
    expect(verifier.calls).toBe(1);
    expect(pool.size).toBe(1);
    expect(pool.bytes).toBe(bytesOf(tx).length);
  });

  it("refuses bytes that do not decode as 'malformed'", () => {
    const pool = makePool(tn);
    const good = bytesOf(tn.signTransfer(1, 2, 10n, 0n));
    expect(rejection(pool, new Uint8Array(0))).toBe('malformed');
    expect(rejection(pool, Uint8Array.of(9, 9, 9))).toBe('malformed');
    expect(rejection(pool, good.subarray(0, good.length - 1))).toBe('malformed');
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    expect(rejection(pool, trailing)).toBe('malformed');
    expect(pool.size).toBe(0);
  });

  it("refuses a tx that breaks the ledger's shape rules as 'malformed'", () => {
    const pool = makePool(tn);
    expect(rejection(pool, bytesOf(tn.signTransfer(1, 1, 10n, 0n)))).toBe('malformed'); // to itself
    expect(rejection(pool, bytesOf(tn.signPut(1, '', Uint8Array.of(1), 0n)))).toBe('malformed'); // empty key
  });

  it("refuses more than LIMITS.txBytes as 'too-large' before decoding", () => {
    const pool = makePool(tn);
    const r = pool.add(new Uint8Array(LIMITS.txBytes + 1));
    expect(!r.ok && r.error.code).toBe('too-large');
  });

  it("refuses a tx for another chain as 'wrong-chain'", () => {
    const pool = makePool(tn);
    const key = tn.accountKeys[1]!;
    const tx = signTx({ chainId: 'another-chain', sender: key.publicKey, nonce: 0n, body: { kind: 'put', key: 'k', value: Uint8Array.of(1) } }, key);
    expect(rejection(pool, bytesOf(tx))).toBe('wrong-chain');
  });

  it("refuses a used nonce and one beyond the window as 'bad-nonce'", () => {
    const committed = applyAll(tn.state(), [tn.signPut(1, 'a', Uint8Array.of(1), 0n), tn.signPut(1, 'b', Uint8Array.of(1), 1n)]);
    const pool = makePool(tn, { nonceWindow: 4 }, committed);
    expect(rejection(pool, bytesOf(tn.signPut(1, 'c', Uint8Array.of(1), 1n)))).toBe('bad-nonce'); // used
    expect(rejection(pool, bytesOf(tn.signPut(1, 'c', Uint8Array.of(1), 6n)))).toBe('bad-nonce'); // 2 + 4: too far
    expect(rejection(pool, bytesOf(tn.signPut(1, 'c', Uint8Array.of(1), 5n)))).toBe('ok'); // last in the window
    expect(rejection(pool, bytesOf(tn.signPut(1, 'c', Uint8Array.of(1), 2n)))).toBe('ok'); // the next one
  });

  it("refuses a sender who may not transact, and grant/revoke from a non-admin, as 'not-permitted'", () => {
    const pool = makePool(tn);
    expect(rejection(pool, bytesOf(tn.signTransfer(FROZEN, 1, 1n, 0n)))).toBe('not-permitted');
    expect(rejection(pool, bytesOf(tn.signPut(stranger, 'k', Uint8Array.of(1), 0n)))).toBe('not-permitted');
    expect(rejection(pool, bytesOf(tn.signGrant(1, FROZEN, 0n)))).toBe('not-permitted');
    expect(rejection(pool, bytesOf(tn.signRevoke(1, 2, 0n)))).toBe('not-permitted');
    expect(rejection(pool, bytesOf(tn.signGrant(ADMIN, FROZEN, 0n)))).toBe('ok');
  });

  it("refuses a transfer above the committed balance as 'insufficient-balance'", () => {
    const pool = makePool(tn);
    expect(rejection(pool, bytesOf(tn.signTransfer(1, 2, 1_001n, 0n)))).toBe('insufficient-balance');
    expect(rejection(pool, bytesOf(tn.signTransfer(1, 2, 1_000n, 0n)))).toBe('ok');
  });

  it("refuses a bad signature as 'bad-signature' and keeps nothing of it", () => {
    const pool = makePool(tn);
    const bytes = bytesOf(tn.signTransfer(1, 2, 10n, 0n));
    bytes[bytes.length - 1]! ^= 1;
    expect(rejection(pool, bytes)).toBe('bad-signature');
    expect(pool.size).toBe(0);
    // A tx whose signature is someone else's.
    const forged: Tx = { ...tn.signTransfer(1, 2, 10n, 0n), signature: tn.signTransfer(2, 1, 10n, 0n).signature };
    expect(rejection(pool, bytesOf(forged))).toBe('bad-signature');
  });

  it("keeps the first tx for a (sender, nonce): another one is 'duplicate-nonce'", () => {
    const pool = makePool(tn);
    const first = admit(pool, tn.signTransfer(1, 2, 10n, 0n));
    expect(rejection(pool, bytesOf(tn.signTransfer(1, 2, 11n, 0n)))).toBe('duplicate-nonce');
    expect(pool.size).toBe(1);
    expect(pool.has(first.hash)).toBe(true);
    // Another sender's nonce 0 is its own.
    expect(rejection(pool, bytesOf(tn.signTransfer(2, 1, 11n, 0n)))).toBe('ok');
  });

  it("refuses with 'mempool-full' at the tx-count bound and never drops what it holds", () => {
    const pool = makePool(tn, { maxTxs: 3 });
    const held = [0n, 1n, 2n].map((n) => admit(pool, tn.signPut(1, 'k', Uint8Array.of(Number(n)), n)));
    const r = pool.add(bytesOf(tn.signPut(2, 'k', Uint8Array.of(1), 0n)));
    expect(!r.ok && r.error.code).toBe('mempool-full');
    expect(pool.size).toBe(3);
    for (const a of held) expect(pool.has(a.hash)).toBe(true);
    // A duplicate of a held tx is still fine when full.
    expect(admit(pool, held[0]!.tx).duplicate).toBe(true);
  });

  it("refuses with 'mempool-full' at the byte bound, and admits again once a commit makes room", () => {
    const a = tn.signPut(1, 'k', new Uint8Array(100), 0n);
    const b = tn.signPut(2, 'k', new Uint8Array(100), 0n);
    const size = bytesOf(a).length;
    const pool = makePool(tn, { maxBytes: 2 * size - 1 });
    admit(pool, a);
    expect(rejection(pool, bytesOf(b))).toBe('mempool-full');
    expect(pool.bytes).toBe(size);
    pool.onCommitted([a], applyAll(tn.state(), [a]));
    expect(pool.bytes).toBe(0);
    expect(rejection(pool, bytesOf(b))).toBe('ok');
  });

  it('runs every cheap check before the signature: a refused tx costs no verification', () => {
    const verifier = countingVerifier(tn.verifier);
    const pool = makePool(tn, { verifier, maxTxs: 1 });
    const tamper = (tx: Tx): Uint8Array => {
      const bytes = bytesOf(tx);
      bytes[bytes.length - 1]! ^= 1;
      return bytes;
    };
    expect(rejection(pool, tamper(tn.signTransfer(FROZEN, 1, 1n, 0n)))).toBe('not-permitted');
    expect(rejection(pool, tamper(tn.signTransfer(1, 2, 1n, 99n)))).toBe('bad-nonce');
    expect(rejection(pool, tamper(tn.signTransfer(1, 2, 5_000n, 0n)))).toBe('insufficient-balance');
    expect(verifier.calls).toBe(0);
    admit(pool, tn.signPut(3, 'k', Uint8Array.of(1), 0n));
    expect(verifier.calls).toBe(1);
    expect(rejection(pool, tamper(tn.signTransfer(1, 2, 1n, 0n)))).toBe('mempool-full');
    expect(verifier.calls).toBe(1);
  });

  it('never throws on arbitrary bytes', () => {
    const pool = makePool(tn);
    const good = bytesOf(tn.signTransfer(1, 2, 10n, 0n));
    for (let i = 0; i < good.length; i++) {
      const bytes = new Uint8Array(good);
      bytes[i]! ^= 0x80;
      expect(() => pool.add(bytes)).not.toThrow();
    }
  });

  it('rejects nonsensical options', () => {
    expect(() => makePool(tn, { maxTxs: 0 })).toThrow(RangeError);
    expect(() => makePool(tn, { nonceWindow: 1.5 })).toThrow(RangeError);
  });
});

describe('Mempool: verdict cache', () => {
  it('vouches exactly for the admitted txs', () => {
    const pool = makePool(tn);
    const tx = tn.signTransfer(1, 2, 10n, 0n);
    admit(pool, tx);
    expect(pool.isVerified(hashTx(tx))).toBe(true);
    expect(pool.isVerified(hashTx(tn.signTransfer(1, 2, 10n, 1n)))).toBe(false);
    const bad = bytesOf(tn.signTransfer(2, 1, 10n, 0n));
    bad[bad.length - 1]! ^= 1;
    pool.add(bad);
    expect(pool.isVerified(new Uint8Array(32))).toBe(false);
    expect(pool.size).toBe(1);
  });

  it('lets block building and execution skip every signature check of admitted txs', () => {
    const pool = makePool(tn);
    const txs = [tn.signTransfer(1, 2, 10n, 0n), tn.signPut(2, 'k', Uint8Array.of(1), 0n), tn.signTransfer(1, 3, 5n, 1n)];
    for (const tx of txs) admit(pool, tx);
    const verifier = countingVerifier(tn.verifier);
    const ctx = executionContext(tn.genesis, verifier, { alreadyVerified: (h) => pool.isVerified(h), noteVerified: (h) => pool.noteVerified(h) });
    const parent = tn.state();
    const built = buildBlock(parent, pool.selectForBlock(parent, { maxTxs: 100, maxBytes: 1 << 20 }), tn.blockFields(), ctx);
    expect(built.rejected).toEqual([]);
    expect(built.block.txs).toHaveLength(3);
    const executed = executeBlock(parent, built.block, ctx);
    expect(executed.ok).toBe(true);
    expect(verifier.calls).toBe(0);
  });
});

describe('Mempool: the verdict cache beyond pending txs', () => {
  it('does not verify again a tx that block execution verified first', () => {
    const verifier = countingVerifier(tn.verifier);
    const pool = makePool(tn, { verifier });
    const tx = tn.signTransfer(1, 2, 10n, 0n);
    // A proposal brought the tx before its gossip did: execution checked it and said so.
    const ctx = executionContext(tn.genesis, verifier, { alreadyVerified: (h) => pool.isVerified(h), noteVerified: (h) => pool.noteVerified(h) });
    const built = buildBlock(tn.state(), [tx], tn.blockFields(), executionContext(tn.genesis, tn.verifier));
    expect(executeBlock(tn.state(), built.block, ctx).ok).toBe(true);
    expect(verifier.calls).toBe(1);
    expect(pool.isVerified(hashTx(tx))).toBe(true);
    admit(pool, tx);
    expect(verifier.calls).toBe(1);
    expect(pool.size).toBe(1);
  });

  it('never vouches for a tx whose signature failed', () => {
    const verifier = countingVerifier(tn.verifier);
    const pool = makePool(tn, { verifier });
    const tx = tn.signTransfer(1, 2, 10n, 0n);
    const forged = { ...tx, signature: tx.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(rejection(pool, bytesOf(forged))).toBe('bad-signature');
    expect(pool.isVerified(hashTx(forged))).toBe(false);
    expect(rejection(pool, bytesOf(forged))).toBe('bad-signature');
    expect(verifier.calls).toBe(2);
  });

  it('is bounded: the oldest verdicts go first', () => {
    const pool = makePool(tn, { verdictCacheSize: 2 });
    const txs = [0n, 1n, 2n].map((nonce) => tn.signTransfer(1, 2, 1n, nonce));
    for (const tx of txs) pool.noteVerified(hashTx(tx));
    expect(txs.map((tx) => pool.isVerified(hashTx(tx)))).toEqual([false, true, true]);
  });

  it('refuses a cache size that is not a positive integer', () => {
    expect(() => makePool(tn, { verdictCacheSize: 0 })).toThrow(RangeError);
  });
});

describe('Mempool.onCommitted: eviction', () => {
  it('evicts the committed txs and keeps the rest', () => {
    const pool = makePool(tn);
    const a0 = tn.signPut(1, 'k', Uint8Array.of(1), 0n);
    const a1 = tn.signPut(1, 'k', Uint8Array.of(2), 1n);
    const b0 = tn.signTransfer(2, 3, 7n, 0n);
    for (const tx of [a0, a1, b0]) admit(pool, tx);
    const evicted = pool.onCommitted([a0, b0], applyAll(tn.state(), [a0, b0]));
    expect(evicted).toEqual({ committed: 2, invalidated: 0 });
    expect(pool.size).toBe(1);
    expect(pool.has(hashTx(a1))).toBe(true);
    expect(pool.bytes).toBe(bytesOf(a1).length);
    // The verdict outlives the entry: a late gossip copy of a0 costs no second verify.
    expect(pool.isVerified(hashTx(a0))).toBe(true);
  });

  it("evicts a pending tx whose nonce another block's tx used", () => {
    const pool = makePool(tn);
    const mine = tn.signTransfer(1, 2, 10n, 0n);
    const next = tn.signTransfer(1, 2, 10n, 1n);
    admit(pool, mine);
    admit(pool, next);
    // Another node's block carried a different tx with the same nonce.
    const theirs = tn.signTransfer(1, 3, 20n, 0n);
    expect(pool.onCommitted([theirs], applyAll(tn.state(), [theirs]))).toEqual({ committed: 0, invalidated: 1 });
    expect(pool.has(hashTx(mine))).toBe(false);
    expect(pool.has(hashTx(next))).toBe(true);
  });

  it('evicts every pending tx of a revoked sender, and leaves other senders alone', () => {
    const pool = makePool(tn);
    const revoke = tn.signRevoke(ADMIN, 2, 0n);
    const victims = [tn.signPut(2, 'k', Uint8Array.of(1), 0n), tn.signPut(2, 'k', Uint8Array.of(2), 1n)];
    const bystander = tn.signPut(3, 'k', Uint8Array.of(1), 0n);
    for (const tx of [revoke, ...victims, bystander]) admit(pool, tx);
    expect(pool.onCommitted([revoke], applyAll(tn.state(), [revoke]))).toEqual({ committed: 1, invalidated: 2 });
    expect(pool.size).toBe(1);
    expect(pool.has(hashTx(bystander))).toBe(true);
    // The revoked sender is refused from now on, against the new committed state.
    expect(rejection(pool, bytesOf(victims[0]!))).toBe('not-permitted');
  });

  it('checks admission against the newly committed state', () => {
    const pool = makePool(tn, { nonceWindow: 2 });
    const txs = [0n, 1n].map((n) => tn.signPut(1, 'k', Uint8Array.of(Number(n)), n));
    for (const tx of txs) admit(pool, tx);
    expect(rejection(pool, bytesOf(tn.signPut(1, 'k', Uint8Array.of(2), 2n)))).toBe('bad-nonce'); // outside the window
    pool.onCommitted(txs, applyAll(tn.state(), txs));
    expect(pool.size).toBe(0);
    expect(rejection(pool, bytesOf(txs[0]!))).toBe('bad-nonce'); // used now
    expect(rejection(pool, bytesOf(tn.signPut(1, 'k', Uint8Array.of(2), 2n)))).toBe('ok');
  });

  it('grants: a sender granted in a committed block may transact afterwards', () => {
    const pool = makePool(tn);
    const grant = tn.signGrant(ADMIN, FROZEN, 0n);
    admit(pool, grant);
    expect(rejection(pool, bytesOf(tn.signTransfer(FROZEN, 1, 1n, 0n)))).toBe('not-permitted');
    pool.onCommitted([grant], applyAll(tn.state(), [grant]));
    expect(rejection(pool, bytesOf(tn.signTransfer(FROZEN, 1, 1n, 0n)))).toBe('ok');
  });
});

describe('Mempool.add: a caller bound (the node backlog budget for its clients)', () => {
  const bound = (maxReady: number): AdmissionBound => ({ maxReady, reason: () => 'two txs in the test' });

  it("refuses a new tx at the bound with 'mempool-full' and the caller's reason, before its signature check", () => {
    const verifier = countingVerifier(tn.verifier);
    const pool = makePool(tn, { verifier });
    admit(pool, tn.signPut(1, 'k', Uint8Array.of(1), 0n));
    admit(pool, tn.signPut(2, 'k', Uint8Array.of(1), 0n));
    const refused = pool.add(bytesOf(tn.signPut(3, 'k', Uint8Array.of(1), 0n)), bound(2));
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe('mempool-full');
      expect(refused.error.message).toBe('2 txs are ready to commit, the most this node takes now: two txs in the test');
    }
    expect(verifier.calls).toBe(2);
    expect(pool.size).toBe(2);
    // Below the bound it admits; the bound is per call, the pool's own bounds are unchanged.
    expect(pool.add(bytesOf(tn.signPut(3, 'k', Uint8Array.of(1), 0n)), bound(3)).ok).toBe(true);
    expect(pool.add(bytesOf(tn.signPut(3, 'k', Uint8Array.of(2), 1n))).ok).toBe(true);
  });

  it('still answers a pending tx as a duplicate and a bad tx with its own code', () => {
    const pool = makePool(tn);
    const held = admit(pool, tn.signPut(1, 'k', Uint8Array.of(1), 0n));
    const again = pool.add(bytesOf(held.tx), bound(0));
    expect(again.ok && again.value.duplicate).toBe(true);
    const used = pool.add(bytesOf(tn.signTransfer(FROZEN, 1, 1n, 0n)), bound(0));
    expect(!used.ok && used.error.code).toBe('not-permitted');
  });
});

describe('Mempool.readyCount: pending txs that wait for no missing nonce', () => {
  it('counts each sender’s unbroken run from its committed nonce', () => {
    const pool = makePool(tn);
    admit(pool, tn.signPut(1, 'k', Uint8Array.of(2), 2n)); // waits for 0 and 1
    expect(pool.readyCount).toBe(0);
    const first = admit(pool, tn.signPut(1, 'k', Uint8Array.of(0), 0n));
    expect(pool.readyCount).toBe(1);
    admit(pool, tn.signPut(1, 'k', Uint8Array.of(1), 1n)); // closes the gap: 0, 1, 2
    expect(pool.readyCount).toBe(3);
    admit(pool, tn.signPut(2, 'k', Uint8Array.of(0), 0n));
    expect(pool.readyCount).toBe(4);
    pool.onCommitted([first.tx], applyAll(tn.state(), [first.tx]));
    expect(pool.readyCount).toBe(3);
  });

  it('drops a sender who lost the right to transact', () => {
    const pool = makePool(tn);
    admit(pool, tn.signPut(1, 'k', Uint8Array.of(0), 0n));
    admit(pool, tn.signPut(1, 'k', Uint8Array.of(1), 1n));
    const revoke = tn.signRevoke(ADMIN, 1, 0n);
    pool.onCommitted([revoke], applyAll(tn.state(), [revoke]));
    expect(pool.size).toBe(0);
    expect(pool.readyCount).toBe(0);
  });

  it('matches a recount from scratch over seeded random admissions and commits', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Prng(seed);
      const senders = [1, 2, 3];
      const pool = makePool(tn);
      let state = tn.state();
      for (let step = 0; step < 60; step++) {
        if (rng.u32() % 4 !== 0) {
          const sender = senders[rng.u32() % senders.length] as number;
          const next = state.account(tn.addresses[sender] as Address).nonce;
          const nonce = next + BigInt(rng.u32() % 5);
          pool.add(bytesOf(tn.signPut(sender, 'k', Uint8Array.of(step), nonce)));
        } else {
          // Commit a block: what a primary would select, or a tx the pool never saw.
          const block = rng.u32() % 3 === 0 ? [tn.signPut(senders[rng.u32() % senders.length] as number, 'x', Uint8Array.of(step), 0n)] : pool.selectForBlock(state, { maxTxs: 1 + (rng.u32() % 4), maxBytes: 1 << 20 });
          const applicable = block.filter((tx) => tx.nonce === state.account(senderAddress(tx)).nonce);
          state = applyAll(state, applicable.slice(0, 1));
          pool.onCommitted(applicable.slice(0, 1), state);
        }
        expect(pool.readyCount, `seed ${seed} step ${step}`).toBe(recountReady(pool, state));
      }
    }
  });
});

/** readyCount the slow way: for every sender, count pending nonces from the committed one until a gap. */
function recountReady(pool: Mempool, state: LedgerState): number {
  const pending = pool.pending(Number.MAX_SAFE_INTEGER).map(({ tx }) => ({ sender: senderAddress(tx), nonce: tx.nonce }));
  let ready = 0;
  for (const sender of new Set(pending.map((p) => p.sender))) {
    const nonces = new Set(pending.filter((p) => p.sender === sender).map((p) => p.nonce));
    for (let n = state.account(sender).nonce; nonces.has(n); n++) ready++;
  }
  return ready;
}

describe('Mempool.pending: listings by arrival', () => {
  it('lists only the txs that arrived before a mark, oldest first', () => {
    const pool = makePool(tn);
    expect(pool.arrivals).toBe(0);
    const early = [admit(pool, tn.signPut(1, 'k', Uint8Array.of(0), 0n)), admit(pool, tn.signPut(2, 'k', Uint8Array.of(0), 0n))];
    const mark = pool.arrivals;
    admit(pool, tn.signPut(3, 'k', Uint8Array.of(0), 0n));
    expect(pool.arrivals).toBe(3);
    expect(pool.pending(10, mark).map((p) => p.hash)).toEqual(early.map((a) => a.hash));
    expect(pool.pending(1, mark).map((p) => p.hash)).toEqual([early[0]!.hash]);
    expect(pool.pending(10)).toHaveLength(3);
    // A rejected tx is no arrival; a committed one leaves the listing.
    expect(rejection(pool, bytesOf(tn.signPut(1, 'k', Uint8Array.of(9), 0n)))).toBe('duplicate-nonce');
    expect(pool.arrivals).toBe(3);
    pool.onCommitted([early[0]!.tx], applyAll(tn.state(), [early[0]!.tx]));
    expect(pool.pending(10, mark).map((p) => p.hash)).toEqual([early[1]!.hash]);
  });
});
