/**
 * The README cannot drift from the code: its RPC reference is what the generator makes of
 * the method table, and its tx test vectors are recomputed from the README's own text —
 * inputs read from the vector, every output (bytes, signature, hash) compared, and the
 * field-by-field layout concatenated back into the unsigned tx.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentSection, renderRpcReference, replaceSection } from '../../scripts/rpc-docs.js';
import { encodeTx, encodeUnsignedTx } from '../../src/codec/tx.js';
import type { TxBody, UnsignedTx } from '../../src/codec/types.js';
import { addressOf, fromHex, keyPairFromSeed, reference, sha256, signingBytes, toHex, utf8 } from '../../src/crypto/index.js';
import { hashTx, signTx } from '../../src/ledger/tx.js';
import { ROOT } from '../e2e/cluster.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README: RPC reference', () => {
  it('is exactly what scripts/gen-rpc-docs.ts generates from the method table (run `npm run docs:rpc`)', () => {
    expect(currentSection(README)).toBe(renderRpcReference());
  });

  it('documents every method, and the generator replaces only its section', () => {
    const section = renderRpcReference();
    for (const name of ['account', 'query', 'block', 'block_by_hash', 'commit', 'tx', 'tx_search', 'broadcast_tx_sync', 'subscribe', 'unsubscribe_all']) {
      expect(section).toContain(`#### \`${name}\``);
    }
    const replaced = replaceSection('before\n<!-- rpc-reference:start -->\nold\n<!-- rpc-reference:end -->\nafter\n', section);
    expect(replaced).toEqual({ ok: true, text: `before\n${section}\nafter\n` });
    expect(replaceSection('no markers', section).ok).toBe(false);
  });

  it('keeps the quickstart commands', () => {
    expect(README).toContain('```sh\nnpm install && npm run devnet\n```');
    expect(README).toContain('```sh\nnpm test\n```');
  });
});

interface Vector {
  readonly fields: ReadonlyMap<string, string>;
  /** The hex of each line of the field-by-field layout. */
  readonly layout: readonly string[];
}

/** The vectors between <!-- tx-vector:start --> and <!-- tx-vector:end -->: `name: value` lines and the layout lines. */
function vectors(text: string): Vector[] {
  const out: Vector[] = [];
  const re = /<!-- tx-vector:start -->([\s\S]*?)<!-- tx-vector:end -->/g;
  for (const match of text.matchAll(re)) {
    const fields = new Map<string, string>();
    const layout: string[] = [];
    let inLayout = false;
    for (const line of (match[1] as string).split('\n')) {
      if (line.startsWith('unsigned tx, field by field:')) {
        inLayout = true;
        continue;
      }
      if (inLayout && line.startsWith('  ')) {
        // Hex groups up to the description, which is set off by two or more spaces.
        const [bytes] = line.trim().split(/\s{2,}/);
        layout.push((bytes as string).replace(/ /g, ''));
        continue;
      }
      inLayout = false;
      const field = /^([a-z ]+):\s+(.*)$/.exec(line);
      if (field !== null) fields.set(field[1] as string, (field[2] as string).trim());
    }
    out.push({ fields, layout });
  }
  return out;
}

function field(v: Vector, name: string): string {
  const value = v.fields.get(name);
  if (value === undefined) throw new Error(`the README vector has no "${name}:" line`);
  return value;
}

function bodyOf(v: Vector): TxBody {
  const kind = field(v, 'kind');
  switch (kind) {
    case 'transfer':
      return { kind, to: field(v, 'to'), amount: BigInt(field(v, 'amount')) };
    case 'put':
      return { kind, key: field(v, 'key'), value: utf8(field(v, 'value')) };
    case 'grant':
    case 'revoke':
      return { kind, account: field(v, 'account') };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

describe('README: tx encoding test vectors', () => {
  const found = vectors(README);

  it('are there: a transfer and a put', () => {
    expect(found.map((v) => field(v, 'kind'))).toEqual(['transfer', 'put']);
  });

  it.each(found.map((v) => [field(v, 'kind'), v] as const))('%s: recomputed from the inputs, every output matches', (_kind, v) => {
    const keyPair = keyPairFromSeed(fromHex(field(v, 'seed')));
    expect(toHex(keyPair.publicKey)).toBe(field(v, 'public key'));
    expect(addressOf(keyPair.publicKey)).toBe(field(v, 'sender address'));

    const unsigned: UnsignedTx = { chainId: field(v, 'chain id'), sender: keyPair.publicKey, nonce: BigInt(field(v, 'nonce')), body: bodyOf(v) };
    const unsignedHex = toHex(encodeUnsignedTx(unsigned));
    // The layout, read as the README shows it, is the unsigned tx.
    expect(v.layout.join('')).toBe(unsignedHex);

    // The signing domain as the README states it, built by hand.
    const chain = utf8(unsigned.chainId);
    const domain = toHex(utf8('ledger/v1/tx')) + '00' + chain.length.toString(16).padStart(2, '0') + toHex(chain);
    expect(field(v, 'signing bytes')).toBe(domain + unsignedHex);
    expect(toHex(signingBytes('tx', unsigned.chainId, encodeUnsignedTx(unsigned)))).toBe(field(v, 'signing bytes'));

    const tx = signTx(unsigned, keyPair);
    expect(toHex(tx.signature)).toBe(field(v, 'signature'));
    // Ed25519 is deterministic: the reference engine signs the same bytes the same way.
    expect(toHex(reference.sign(keyPair, fromHex(field(v, 'signing bytes'))))).toBe(field(v, 'signature'));
    expect(toHex(encodeTx(tx))).toBe(field(v, 'tx'));
    expect(field(v, 'tx')).toBe(unsignedHex + field(v, 'signature'));
    expect(toHex(hashTx(tx))).toBe(field(v, 'tx hash'));
    expect(toHex(sha256(fromHex(field(v, 'tx'))))).toBe(field(v, 'tx hash'));
  });
});
