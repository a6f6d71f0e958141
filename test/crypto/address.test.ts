import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADDRESS_BYTES, addressOf, isAddress } from '../../src/crypto/address.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { sha256Reference } from '../../src/crypto/hash.js';

describe('addresses', () => {
  it('are the first 20 bytes of SHA-256(public key), as 40 lowercase hex characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const { publicKey } = keyPairFromSeed(seed);
        const address = addressOf(publicKey);
        expect(address).toBe(Buffer.from(sha256Reference(publicKey).subarray(0, ADDRESS_BYTES)).toString('hex'));
        expect(address).toMatch(/^[0-9a-f]{40}$/);
        expect(isAddress(address)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('differ for different keys', () => {
    const addresses = new Set(Array.from({ length: 64 }, (_, i) => addressOf(keyPairFromSeed(new Uint8Array(32).fill(i)).publicKey)));
    expect(addresses.size).toBe(64);
  });

  it('are recognised only in canonical form', () => {
    const good = 'ab'.repeat(20);
    expect(isAddress(good)).toBe(true);
    for (const bad of [good.toUpperCase(), `0x${good}`, good.slice(1), `${good}0`, 'g'.repeat(40), '', ` ${good}`, `${good}\n`, 42, null, undefined]) {
      expect(isAddress(bad)).toBe(false);
    }
  });
});
