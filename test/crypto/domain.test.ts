import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeSigner, makeVerifier, MAX_CHAIN_ID_LENGTH, sign, signingBytes, verify, type SignatureKind } from '../../src/crypto/domain.js';
import { keyPairFromSeed, reference, verifyRaw } from '../../src/crypto/ed25519.js';

const KINDS: readonly SignatureKind[] = ['tx', 'pre-prepare', 'prepare', 'commit', 'checkpoint', 'view-change', 'new-view'];
const keyPair = keyPairFromSeed(new Uint8Array(32).fill(3));
const arbKind = fc.constantFrom(...KINDS);
const arbChainId = fc.string({ unit: 'binary', maxLength: 16 });
const arbPayload = fc.uint8Array({ maxLength: 100 });

describe('domain-separated signatures', () => {
  it('verify for their own kind, chain and payload', () => {
    fc.assert(
      fc.property(arbKind, arbChainId, arbPayload, (kind, chainId, payload) => {
        const signature = sign(keyPair, kind, chainId, payload);
        expect(verify(keyPair.publicKey, kind, chainId, payload, signature)).toBe(true);
        // The signature is a plain Ed25519 signature over the domain-tagged bytes.
        expect(reference.verify(keyPair.publicKey, signingBytes(kind, chainId, payload), signature)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('do not verify as another kind (a prepare is not a commit)', () => {
    const payload = Uint8Array.of(1, 2, 3);
    const prepare = sign(keyPair, 'prepare', 'chain-a', payload);
    expect(verify(keyPair.publicKey, 'commit', 'chain-a', payload, prepare)).toBe(false);
    fc.assert(
      fc.property(arbKind, arbKind, arbChainId, arbPayload, (a, b, chainId, p) => {
        fc.pre(a !== b);
        expect(verify(keyPair.publicKey, b, chainId, p, sign(keyPair, a, chainId, p))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('do not verify on another chain', () => {
    const payload = Uint8Array.of(1, 2, 3);
    const onA = sign(keyPair, 'tx', 'chain-a', payload);
    expect(verify(keyPair.publicKey, 'tx', 'chain-b', payload, onA)).toBe(false);
    fc.assert(
      fc.property(arbKind, arbChainId, arbChainId, arbPayload, (kind, a, b, p) => {
        fc.pre(a !== b);
        expect(verify(keyPair.publicKey, kind, b, p, sign(keyPair, kind, a, p))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('never give two different (kind, chain, payload) triples the same signed bytes', () => {
    // The chain id is length-prefixed, so moving bytes between it and the payload changes
    // the prefix: ('ab', 'c') and ('a', 'bc') differ.
    const enc = new TextEncoder();
    const a = signingBytes('tx', 'ab', enc.encode('c'));
    const b = signingBytes('tx', 'a', enc.encode('bc'));
    expect(Buffer.from(a).equals(b)).toBe(false);
    fc.assert(
      fc.property(arbKind, arbChainId, arbPayload, arbKind, arbChainId, arbPayload, (k1, c1, p1, k2, c2, p2) => {
        const same = k1 === k2 && c1 === c2 && Buffer.from(p1).equals(p2);
        expect(Buffer.from(signingBytes(k1, c1, p1)).equals(signingBytes(k2, c2, p2))).toBe(same);
      }),
      { numRuns: 300 },
    );
  });

  it('start with the ledger/v1/<kind> tag, then NUL, the chain id length and the chain id', () => {
    const bytes = signingBytes('commit', 'xy', Uint8Array.of(9));
    expect(Buffer.from(bytes).toString('latin1')).toBe('ledger/v1/commit\u0000\u0002xy\u0009');
  });

  it('refuse a chain id longer than the limit', () => {
    const long = 'c'.repeat(MAX_CHAIN_ID_LENGTH + 1);
    expect(() => sign(keyPair, 'tx', long, new Uint8Array(0))).toThrow(RangeError);
    expect(sign(keyPair, 'tx', 'c'.repeat(MAX_CHAIN_ID_LENGTH), new Uint8Array(0)).length).toBe(64);
  });

  it('are what Signer and Verifier produce and check, bound to their chain', () => {
    const signer = makeSigner(keyPair, 'chain-a');
    const payload = Uint8Array.of(4, 5);
    const signature = signer.sign('checkpoint', payload);
    expect(signer.publicKey).toEqual(keyPair.publicKey);
    expect(makeVerifier('chain-a').verify(keyPair.publicKey, 'checkpoint', payload, signature)).toBe(true);
    expect(makeVerifier('chain-b').verify(keyPair.publicKey, 'checkpoint', payload, signature)).toBe(false);
    expect(makeVerifier('chain-a').verify(keyPair.publicKey, 'view-change', payload, signature)).toBe(false);
    // Not a raw signature over the payload alone.
    expect(verifyRaw(keyPair.publicKey, payload, signature)).toBe(false);
  });
});
