import { describe, expect, it } from 'vitest';
import { encodeBlockHeader } from '../../src/codec/block.js';
import type { BlockHeader, QuorumCertificate } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import { makeVerifier, type Verifier } from '../../src/crypto/domain.js';
import { sha256 } from '../../src/crypto/hash.js';
import { bodyMatchesHeader, computeTxRoot, hashBlockHeader, verifyQuorumCertificate } from '../../src/ledger/block.js';
import type { CertificateErrorCode } from '../../src/ledger/errors.js';
import { buildBlock } from '../../src/ledger/execute.js';
import { merkleRoot } from '../../src/ledger/merkle.js';
import { hashTx } from '../../src/ledger/tx.js';
import { makeTestnet } from '../helpers/fixtures.js';

const tn = makeTestnet({ validators: 4, accounts: 3 });
const keys = tn.validatorKeys.map((k) => k.publicKey);
const built = buildBlock(tn.state(), [tn.signTransfer(0, 1, 5n, 0n), tn.signTransfer(1, 2, 5n, 0n)], tn.blockFields(), tn.ctx);
const header = built.block.header;

describe('hashBlockHeader', () => {
  it('is sha256 of the header encoding, cached per header object', () => {
    const h = hashBlockHeader(header);
    expect(h).toEqual(sha256(encodeBlockHeader(header)));
    expect(hashBlockHeader(header)).toBe(h);
    expect(hashBlockHeader({ ...header })).toEqual(h);
  });

  it('changes with every header field', () => {
    const variants: BlockHeader[] = [
      header,
      { ...header, chainId: 'x' },
      { ...header, height: 2 },
      { ...header, parentHash: new Uint8Array(32) },
      { ...header, view: 1 },
      { ...header, proposer: 1 },
      { ...header, timestamp: header.timestamp + 1 },
      { ...header, txCount: 3 },
      { ...header, txRoot: new Uint8Array(32) },
      { ...header, stateRoot: new Uint8Array(32) },
    ];
    expect(new Set(variants.map((v) => toHex(hashBlockHeader(v)))).size).toBe(variants.length);
  });
});

describe('computeTxRoot', () => {
  it('is the Merkle root of the tx hashes in order', () => {
    const txs = built.block.txs;
    expect(computeTxRoot(txs)).toEqual(merkleRoot(txs.map(hashTx)));
    expect(computeTxRoot(txs)).toEqual(header.txRoot);
    expect(computeTxRoot([...txs].reverse())).not.toEqual(header.txRoot);
    expect(computeTxRoot([])).toEqual(merkleRoot([]));
  });
});

describe('bodyMatchesHeader', () => {
  it('accepts the txs the header commits to, every time it is asked', () => {
    expect(bodyMatchesHeader(built.block)).toBe(true);
    expect(bodyMatchesHeader(built.block)).toBe(true);
    expect(bodyMatchesHeader({ ...built.block })).toBe(true);
  });

  it('refuses reordered, missing or extra txs, a wrong count and a wrong root, however often asked', () => {
    const [a, b] = built.block.txs;
    const extra = tn.signTransfer(2, 0, 1n, 0n);
    const variants = [
      { header, txs: [b!, a!] },
      { header, txs: [a!] },
      { header: { ...header, txCount: 1 }, txs: [a!] },
      { header, txs: [a!, b!, extra] },
      { header: { ...header, txCount: 3 }, txs: built.block.txs },
      { header: { ...header, txRoot: new Uint8Array(32) }, txs: built.block.txs },
    ];
    for (const block of variants) {
      expect(bodyMatchesHeader(block)).toBe(false);
      expect(bodyMatchesHeader(block)).toBe(false);
    }
  });
});

describe('verifyQuorumCertificate', () => {
  const blockHash = hashBlockHeader(header);
  const expected = { height: header.height, blockHash };
  const code = (qc: QuorumCertificate, verifier: Verifier = tn.verifier, validators = keys): CertificateErrorCode | 'ok' => {
    const r = verifyQuorumCertificate(qc, validators, verifier, expected);
    return r.ok ? 'ok' : r.error.code;
  };

  it('accepts a quorum (3 of 4) and all 4, from any signers', () => {
    expect(code(tn.certify(header))).toBe('ok');
    expect(code(tn.certify(header, [0, 1, 2, 3]))).toBe('ok');
    expect(code(tn.certify(header, [1, 2, 3]))).toBe('ok');
    expect(verifyQuorumCertificate(tn.certify(header), keys, tn.verifier).ok).toBe(true);
  });

  it('wrong-height and wrong-block: a certificate for something else', () => {
    const qc = tn.certify(header);
    expect(verifyQuorumCertificate(qc, keys, tn.verifier, { height: 2, blockHash })).toMatchObject({ ok: false, error: { code: 'wrong-height' } });
    expect(verifyQuorumCertificate(qc, keys, tn.verifier, { height: 1, blockHash: new Uint8Array(32) })).toMatchObject({ ok: false, error: { code: 'wrong-block' } });
    expect(code(tn.certify({ ...header, height: 2 }))).toBe('wrong-height');
    expect(code(tn.certify({ ...header, view: 3 }))).toBe('wrong-block');
  });

  it('unknown-validator: an index outside the set', () => {
    const qc = tn.certify(header);
    expect(code({ ...qc, signatures: [...qc.signatures, { validator: 4, signature: qc.signatures[0]!.signature }] })).toBe('unknown-validator');
    expect(code(qc, tn.verifier, keys.slice(0, 2))).toBe('unknown-validator');
  });

  it('duplicate-signer: one validator counted twice', () => {
    const qc = tn.certify(header, [0, 1]);
    const r = verifyQuorumCertificate({ ...qc, signatures: [...qc.signatures, qc.signatures[1]!] }, keys, tn.verifier, expected);
    expect(r).toMatchObject({ ok: false, error: { code: 'duplicate-signer', validator: 1 } });
  });

  it('bad-signature: a forged, misplaced, other-view or other-chain signature', () => {
    const qc = tn.certify(header, [0, 1, 2, 3]);
    const forged = Uint8Array.from(qc.signatures[2]!.signature);
    forged[5]! ^= 1;
    const withSig = (i: number, signature: Uint8Array): QuorumCertificate => ({
      ...qc,
      signatures: qc.signatures.map((s, j) => (j === i ? { ...s, signature } : s)),
    });
    expect(verifyQuorumCertificate(withSig(2, forged), keys, tn.verifier, expected)).toMatchObject({ ok: false, error: { code: 'bad-signature', validator: 2 } });
    expect(code(withSig(0, qc.signatures[1]!.signature))).toBe('bad-signature');
    // Signatures over view 0's payload, relabelled as a view-1 certificate.
    expect(code({ ...qc, view: 1 })).toBe('bad-signature');
    expect(code(qc, makeVerifier('another-chain'))).toBe('bad-signature');
  });

  it('no-quorum: 2 of 4, checked before any signature is verified', () => {
    let calls = 0;
    const counting: Verifier = { verify: (...args) => (calls++, tn.verifier.verify(...args)) };
    expect(code(tn.certify(header, [0, 3]), counting)).toBe('no-quorum');
    expect(code({ ...tn.certify(header), signatures: [] }, counting)).toBe('no-quorum');
    expect(calls).toBe(0);
  });

  it('needs n - f for a set that is not 3f + 1 (5 validators: 4)', () => {
    const five = makeTestnet({ validators: 5, accounts: 1 });
    const h = buildBlock(five.state(), [], five.blockFields(), five.ctx).block.header;
    const r3 = verifyQuorumCertificate(five.certify(h, [0, 1, 2]), five.validatorKeys.map((k) => k.publicKey), five.verifier);
    expect(r3.ok ? 'ok' : r3.error.code).toBe('no-quorum');
    expect(verifyQuorumCertificate(five.certify(h), five.validatorKeys.map((k) => k.publicKey), five.verifier).ok).toBe(true);
    expect(five.certify(h).signatures.length).toBe(4);
  });

  it('a single validator certifies alone', () => {
    const one = makeTestnet({ validators: 1, accounts: 1 });
    const h = buildBlock(one.state(), [], one.blockFields(), one.ctx).block.header;
    expect(verifyQuorumCertificate(one.certify(h), [one.validatorKeys[0]!.publicKey], one.verifier).ok).toBe(true);
  });
});
