import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { keyFileJson, parseKeyFile } from '../../src/crypto/keyfile.js';
import { libp2pPrivateKey, peerIdFromSeed, peerIdOfValidator } from '../../src/net/identity.js';

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('net identity', () => {
  it('derives the same peer id from the seed and from the public key', async () => {
    await fc.assert(
      fc.asyncProperty(seedArb, async (seed) => {
        const keyPair = keyPairFromSeed(seed);
        const fromSeed = await peerIdFromSeed(seed);
        const fromPublic = peerIdOfValidator(keyPair.publicKey);
        expect(fromSeed.toString()).toBe(fromPublic.toString());
        expect(fromSeed.type).toBe('Ed25519');
      }),
      { numRuns: 25 },
    );
  });

  it("embeds the key file's public key in the peer id", async () => {
    const keyPair = keyPairFromSeed(new Uint8Array(32).map((_, i) => i * 7));
    // Round-trip through the key file format the node loads.
    const loaded = parseKeyFile('test.key.json', JSON.stringify(keyFileJson(keyPair)));
    const peerId = await peerIdFromSeed(loaded.seed);
    expect(toHex(peerId.publicKey.raw)).toBe(toHex(keyPair.publicKey));
    // The string form alone carries the key (identity multihash), so genesis maps to peers.
    const parsed = peerIdFromString(peerId.toString());
    expect(parsed.publicKey === undefined ? undefined : toHex(parsed.publicKey.raw)).toBe(toHex(keyPair.publicKey));
  });

  it('signs like our own Ed25519 (same key, not merely the same id)', async () => {
    const seed = new Uint8Array(32).fill(3);
    const key = await libp2pPrivateKey(seed);
    const message = new TextEncoder().encode('ledger');
    const signature = await key.sign(message);
    const { reference } = await import('../../src/crypto/ed25519.js');
    expect(toHex(signature)).toBe(toHex(reference.sign(keyPairFromSeed(seed), message)));
  });

  it('would get a foreign identity from privateKeyFromRaw (the pitfall identity.ts avoids)', async () => {
    const seed = new Uint8Array(32).fill(9);
    const wrong = peerIdFromPrivateKey(privateKeyFromRaw(seed));
    expect(wrong.type).toBe('secp256k1');
    expect(wrong.toString()).not.toBe((await peerIdFromSeed(seed)).toString());
  });

  it('rejects keys of the wrong length', async () => {
    expect(() => peerIdOfValidator(new Uint8Array(33))).toThrow(RangeError);
    await expect(libp2pPrivateKey(new Uint8Array(31))).rejects.toThrow(RangeError);
  });
});
