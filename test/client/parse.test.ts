/**
 * The client's parsers against the server's own JSON builders (src/rpc/json.ts,
 * src/rpc/events.ts): what the server writes, the client reads back exactly; what a
 * broken or hostile node writes is refused with the field named, and never throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as parse from '../../src/client/parse.js';
import { encodeBlockHeader, encodeQuorumCertificate } from '../../src/codec/block.js';
import { encodeTx } from '../../src/codec/tx.js';
import { toHex } from '../../src/crypto/bytes.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { genesisHash, genesisToJsonValue } from '../../src/ledger/genesis.js';
import { hashTx, senderAddress } from '../../src/ledger/tx.js';
import { blockEvent, txEvent } from '../../src/rpc/events.js';
import { blockResultToJson, committedTxToJson, evidenceToJson, txToJson } from '../../src/rpc/json.js';
import { arbBlock, arbHash, arbPrepare, arbQuorumCertificate, arbTx } from '../codec/arbitraries.js';
import { makeTestnet } from '../helpers/fixtures.js';

const wire = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

const PARSERS = Object.entries(parse).filter(([name]) => name.startsWith('parse')) as [string, (json: unknown) => { ok: boolean }][];

describe('client parsers read what the server writes', () => {
  it('a block: header, certificate and txs come back byte for byte', () => {
    fc.assert(
      fc.property(arbBlock(4), arbQuorumCertificate, (block, certificate) => {
        const json = wire(blockResultToJson({ hash: hashBlockHeader(block.header), header: block.header, certificate, block }));
        const back = parse.parseBlockResult(json);
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(toHex(encodeBlockHeader(back.value.header))).toBe(toHex(encodeBlockHeader(block.header)));
        expect(toHex(back.value.hash)).toBe(toHex(hashBlockHeader(block.header)));
        expect(toHex(encodeQuorumCertificate(back.value.certificate))).toBe(toHex(encodeQuorumCertificate(certificate)));
        expect(back.value.block.txs.map((t) => toHex(encodeTx(t)))).toEqual(block.txs.map((t) => toHex(encodeTx(t))));
      }),
      { numRuns: 50 },
    );
  });

  it('a committed tx: its hash is computed from its bytes, amounts and nonces are bigints', () => {
    fc.assert(
      fc.property(arbTx, fc.nat(1000), fc.nat(100), (tx, height, index) => {
        const back = parse.parseCommittedTx(wire(committedTxToJson({ tx, hash: hashTx(tx), height: height + 1, index })));
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(toHex(back.value.hash)).toBe(toHex(hashTx(tx)));
        expect(back.value.tx.nonce).toBe(tx.nonce);
        expect(back.value.tx.body).toEqual(tx.body);
        expect(senderAddress(back.value.tx)).toBe(senderAddress(tx));
        expect([back.value.height, back.value.index]).toEqual([height + 1, index]);
      }),
      { numRuns: 100 },
    );
  });

  it('a tx whose claimed hash is not the hash of its bytes is refused', () => {
    fc.assert(
      fc.property(arbTx, arbHash, (tx, other) => {
        const json = wire({ ...txToJson(tx), hash: toHex(other), height: 1, index: 0, code: 'ok' });
        const back = parse.parseCommittedTx(json);
        expect(back.ok).toBe(toHex(other) === toHex(hashTx(tx)));
        if (!back.ok) expect(back.error).toContain('result.hash');
      }),
    );
  });

  it('subscription events', () => {
    const net = makeTestnet({ validators: 4 });
    const tx = net.signTransfer(0, 1, 5n, 0n);
    const header = { ...net.blockFields(), txCount: 1, txRoot: new Uint8Array(32), stateRoot: new Uint8Array(32).fill(7) };
    const certificate = net.certify(header);
    const receipt = { txHash: hashTx(tx), height: 1, index: 0, sender: senderAddress(tx), kind: 'transfer' as const };
    const event = { block: { header, txs: [tx] }, hash: hashBlockHeader(header), certificate, receipts: [receipt] } as unknown as Parameters<typeof blockEvent>[0];
    const b = parse.parseBlockEvent(wire(blockEvent(event)));
    expect(b.ok && b.value.height === 1 && toHex(b.value.hash) === toHex(hashBlockHeader(header))).toBe(true);
    expect(b.ok && b.value.txs.map(toHex)).toEqual([toHex(hashTx(tx))]);
    expect(b.ok && b.value.certificate.signers).toEqual([0, 1, 2]);
    const t = parse.parseTxEvent(wire(txEvent(receipt as Parameters<typeof txEvent>[0], toHex(hashTx(tx)), toHex(hashBlockHeader(header)))));
    expect(t.ok && t.value.sender === senderAddress(tx) && t.value.kind === 'transfer' && t.value.index === 0).toBe(true);
    expect(parse.parseTxEvent(wire(blockEvent(event))).ok).toBe(false);
  });

  it('genesis: parsed and its hash checked', () => {
    const net = makeTestnet();
    const json = wire({ genesis_hash: toHex(genesisHash(net.genesis)), genesis: genesisToJsonValue(net.genesis) });
    const back = parse.parseGenesisResult(json);
    expect(back.ok && toHex(back.value.genesisHash)).toBe(toHex(net.genesisHash));
    const lied = wire({ genesis_hash: toHex(new Uint8Array(32)), genesis: genesisToJsonValue(net.genesis) });
    const refused = parse.parseGenesisResult(lied);
    expect(!refused.ok && refused.error).toContain('genesis_hash');
  });

  it('evidence: both messages of an equivocation', () => {
    fc.assert(
      fc.property(arbPrepare, arbHash, (first, other) => {
        const second = { ...first, blockHash: other };
        const json = wire({ count: 1, evidence: [evidenceToJson({ validator: first.validator, kind: 'prepare', view: first.view, height: first.height, first, second })] });
        const back = parse.parseEvidence(json);
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(back.value[0]!.kind).toBe('prepare');
        expect(toHex(back.value[0]!.second.blockHash!)).toBe(toHex(other));
        expect(toHex(back.value[0]!.first.signature!)).toBe(toHex(first.signature));
      }),
      { numRuns: 50 },
    );
  });

  it('account amounts are u64 decimal strings: beyond 2^64-1, negatives and non-decimals are refused', () => {
    const base = { address: 'ab'.repeat(20), height: 3, balance: '18446744073709551615', nonce: '0', pending_nonce: '1', can_transact: true, is_admin: false };
    const good = parse.parseAccount(base);
    expect(good.ok && good.value.balance).toBe((1n << 64n) - 1n);
    for (const balance of ['18446744073709551616', '-1', '1e3', '0x10', '01', '', 12]) {
      const r = parse.parseAccount({ ...base, balance });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toBe('result.balance: not a u64 decimal string');
    }
  });
});

describe('client parsers refuse malformed answers, naming the field, without throwing', () => {
  it('names the field', () => {
    const block = { hash: '00'.repeat(32), header: { chain_id: 'x', height: 1, parent_hash: 'zz' }, certificate: {}, txs: [] };
    const r = parse.parseBlockResult(block);
    expect(!r.ok && r.error).toContain('header.parent_hash');
    const s = parse.parseStatus({ node_id: 'n', chain_id: 'c', validator_index: null, latest_height: -1 });
    expect(!s.ok && s.error).toBe('result.latest_height: not an integer from 0 to 9007199254740991');
  });

  it('returns an error for any JSON value, for every parser', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        for (const [name, p] of PARSERS) {
          let result: { ok: boolean } | undefined;
          expect(() => (result = p(json)), name).not.toThrow();
          expect(typeof result?.ok, name).toBe('boolean');
        }
      }),
      { numRuns: 200 },
    );
  });
});
