import { describe, expect, it } from 'vitest';
import { encodeTx } from '../../src/codec/tx.js';
import { decodeTx } from '../../src/codec/tx.js';
import { makeVerifier } from '../../src/crypto/domain.js';
import { sha256 } from '../../src/crypto/hash.js';
import { hashTx, senderAddress, signTx, txSize, verifyTxSignature } from '../../src/ledger/tx.js';
import { makeTestnet } from '../helpers/fixtures.js';

const tn = makeTestnet({ validators: 1, accounts: 3 });

describe('hashTx', () => {
  it('is sha256 of the encoding, cached per tx object, equal for equal txs', () => {
    const tx = tn.signTransfer(0, 1, 5n, 0n);
    const h = hashTx(tx);
    expect(h).toEqual(sha256(encodeTx(tx)));
    expect(hashTx(tx)).toBe(h); // the same object: no re-hash
    expect(hashTx({ ...tx })).toEqual(h);
    expect(txSize(tx)).toBe(encodeTx(tx).length);
    const decoded = decodeTx(encodeTx(tx));
    expect(decoded.ok && hashTx(decoded.value)).toEqual(h);
  });

  it('differs when anything differs, the signature included', () => {
    const tx = tn.signTransfer(0, 1, 5n, 0n);
    const hashes = [tx, tn.signTransfer(0, 1, 6n, 0n), tn.signTransfer(0, 1, 5n, 1n), tn.signTransfer(0, 2, 5n, 0n), { ...tx, signature: new Uint8Array(64) }].map((t) =>
      Buffer.from(hashTx(t)).toString('hex'),
    );
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe('signTx / verifyTxSignature', () => {
  it('signs for the sender, and the signature verifies only on its chain and for its content', () => {
    const key = tn.accountKeys[0]!;
    const tx = signTx({ chainId: tn.chainId, sender: key.publicKey, nonce: 0n, body: { kind: 'put', key: 'k', value: Uint8Array.of(1) } }, key);
    expect(senderAddress(tx)).toBe(tn.addresses[0]);
    expect(verifyTxSignature(tx, tn.verifier)).toBe(true);
    expect(verifyTxSignature(tx, makeVerifier('another-chain'))).toBe(false);
    expect(verifyTxSignature({ ...tx, body: { kind: 'put', key: 'k', value: Uint8Array.of(2) } }, tn.verifier)).toBe(false);
    expect(verifyTxSignature({ ...tx, sender: tn.accountKeys[1]!.publicKey }, tn.verifier)).toBe(false);
  });

  it('refuses to sign with a key that is not the sender', () => {
    const unsigned = { chainId: tn.chainId, sender: tn.accountKeys[0]!.publicKey, nonce: 0n, body: { kind: 'grant' as const, account: tn.addresses[1]! } };
    expect(() => signTx(unsigned, tn.accountKeys[1]!)).toThrow(RangeError);
  });
});
