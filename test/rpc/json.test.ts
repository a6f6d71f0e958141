import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBlockHeader, encodeQuorumCertificate } from '../../src/codec/block.js';
import { decodeTx, encodeTx } from '../../src/codec/tx.js';
import { toHex } from '../../src/crypto/bytes.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { merkleProof, merkleRoot, verifyMerkleProof } from '../../src/ledger/merkle.js';
import { hashTx } from '../../src/ledger/tx.js';
import {
  certificateFromJson,
  certificateToJson,
  headerFromJson,
  headerToJson,
  messageToJson,
  txProofFromJson,
  txProofToJson,
  txToJson,
} from '../../src/rpc/json.js';
import { arbBlockHeader, arbConsensusMessage, arbHash, arbQuorumCertificate, arbTx } from '../codec/arbitraries.js';

/** Through the wire: what a client gets after JSON.stringify and JSON.parse. */
const wire = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

describe('rpc/json', () => {
  it('headers round-trip through JSON to the same bytes, so the client recomputes the block hash', () => {
    fc.assert(
      fc.property(arbBlockHeader, (h) => {
        const back = headerFromJson(wire(headerToJson(h)));
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(toHex(encodeBlockHeader(back.value))).toBe(toHex(encodeBlockHeader(h)));
        expect(toHex(hashBlockHeader(back.value))).toBe(toHex(hashBlockHeader(h)));
      }),
    );
  });

  it('certificates round-trip through JSON', () => {
    fc.assert(
      fc.property(arbQuorumCertificate, (qc) => {
        const back = certificateFromJson(wire(certificateToJson(qc)));
        expect(back.ok && toHex(encodeQuorumCertificate(back.value))).toBe(toHex(encodeQuorumCertificate(qc)));
      }),
    );
  });

  it('a tx carries its exact bytes (base64) and hash, and its fields decoded with u64s as strings', () => {
    fc.assert(
      fc.property(arbTx, (tx) => {
        const json = wire(txToJson(tx)) as ReturnType<typeof txToJson>;
        const decoded = decodeTx(new Uint8Array(Buffer.from(json.tx, 'base64')));
        expect(decoded.ok && toHex(encodeTx(decoded.value))).toBe(toHex(encodeTx(tx)));
        expect(json.hash).toBe(toHex(hashTx(tx)));
        expect(json.nonce).toBe(tx.nonce.toString());
        expect(json.body.kind).toBe(tx.body.kind);
        if (tx.body.kind === 'transfer' && json.body.kind === 'transfer') expect(json.body.amount).toBe(tx.body.amount.toString());
        if (tx.body.kind === 'put' && json.body.kind === 'put') expect(Buffer.from(json.body.value, 'base64').equals(tx.body.value)).toBe(true);
      }),
    );
  });

  it('tx proofs round-trip through JSON and still verify against the tx root', () => {
    fc.assert(
      fc.property(fc.array(arbHash, { minLength: 1, maxLength: 40 }), fc.nat(), (leaves, pick) => {
        const index = pick % leaves.length;
        const txRoot = merkleRoot(leaves);
        const back = txProofFromJson(wire(txProofToJson({ ...merkleProof(leaves, index), txRoot })));
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(toHex(back.value.txRoot)).toBe(toHex(txRoot));
        expect([back.value.index, back.value.total]).toEqual([index, leaves.length]);
        expect(verifyMerkleProof(txRoot, leaves[index]!, back.value)).toBe(true);
      }),
    );
  });

  it('every consensus message has a JSON form with hex hashes and signatures', () => {
    fc.assert(
      fc.property(arbConsensusMessage, (m) => {
        const json = wire(messageToJson(m)) as ReturnType<typeof messageToJson>;
        expect(json.type).toBe(m.type);
        expect(json.validator).toBe(m.validator);
        if (json.block_hash !== null) expect(json.block_hash).toMatch(/^[0-9a-f]{64}$/);
        if (json.signature !== null) expect(json.signature).toMatch(/^[0-9a-f]{128}$/);
      }),
    );
  });

  it('parsers refuse malformed input, naming the field, and never throw', () => {
    const header = headerToJson({
      chainId: 'c',
      height: 3,
      parentHash: new Uint8Array(32),
      view: 0,
      proposer: 1,
      timestamp: 5,
      txCount: 2,
      txRoot: new Uint8Array(32),
      stateRoot: new Uint8Array(32),
    });
    const cases: [unknown, string][] = [
      [null, 'header: not an object'],
      [[], 'header: not an object'],
      [{ ...header, height: -1 }, 'header.height'],
      [{ ...header, height: 1.5 }, 'header.height'],
      [{ ...header, view: '0' }, 'header.view'],
      [{ ...header, proposer: 256 }, 'header.proposer'],
      [{ ...header, tx_count: 20_001 }, 'header.tx_count'],
      [{ ...header, parent_hash: 'ab' }, 'header.parent_hash'],
      [{ ...header, tx_root: 'zz'.repeat(32) }, 'header.tx_root'],
      [{ ...header, state_root: undefined }, 'header.state_root'],
      [{ ...header, chain_id: 'x'.repeat(65) }, 'header.chain_id'],
    ];
    for (const [input, field] of cases) {
      const r = headerFromJson(input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(field);
    }
    const cert = { view: 1, height: 2, block_hash: '00'.repeat(32), signatures: [{ validator: 0, signature: '11'.repeat(64) }] };
    expect(certificateFromJson(cert).ok).toBe(true);
    const bad = certificateFromJson({ ...cert, signatures: [{ validator: 0, signature: '11' }] });
    expect(!bad.ok && bad.error).toContain('certificate.signatures[0].signature');
    const badValidator = certificateFromJson({ ...cert, signatures: [{ validator: -1, signature: '11'.repeat(64) }] });
    expect(!badValidator.ok && badValidator.error).toContain('certificate.signatures[0].validator');
    expect(certificateFromJson({ ...cert, signatures: 'x' }).ok).toBe(false);
    const proof = txProofFromJson({ tx_root: '00'.repeat(32), index: 0, total: 2, siblings: ['00'] });
    expect(!proof.ok && proof.error).toContain('proof.siblings[0]');
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(() => [headerFromJson(x), certificateFromJson(x), txProofFromJson(x)]).not.toThrow();
      }),
    );
  });
});
