/**
 * The node (OpenSSL) engine against the noble reference: byte-identical signatures, and
 * the same verdict on every key, message and signature, valid, tampered or malformed.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, isStrictPublicKey, keyPairFromSeed, reference, signRaw, verifyRaw, type KeyPair } from '../../src/crypto/ed25519.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const arbSeed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbMessage = fc.uint8Array({ maxLength: 300 });

/** The group order L: S must be below it. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
/** The field prime p: a public key's y must be below it. */
const P = (1n << 255n) - 19n;

function littleEndian(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

function fromLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

/** Both engines' verdict, asserted equal. */
function verdict(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const node = verifyRaw(publicKey, message, signature);
  const noble = reference.verify(publicKey, message, signature);
  expect(node, `node=${node} noble=${noble} key=${toHex(publicKey)} sig=${toHex(signature)}`).toBe(noble);
  return node;
}

/** The public key Node's own OpenSSL derives from the seed (keyPairFromSeed uses noble). */
function opensslPublicKey(seed: Uint8Array): Uint8Array {
  const priv = createPrivateKey({ key: Buffer.concat([hex('302e020100300506032b657004220420'), seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

describe('Ed25519 known answers (RFC 8032 section 7.1)', () => {
  const vectors = [
    {
      seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      message: '',
      signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      message: '72',
      signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
    {
      seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
      publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      message: 'af82',
      signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
    },
  ];

  it.each(vectors)('derives, signs and verifies vector $publicKey', (v) => {
    const keyPair = keyPairFromSeed(hex(v.seed));
    expect(toHex(keyPair.publicKey)).toBe(v.publicKey);
    expect(toHex(signRaw(keyPair, hex(v.message)))).toBe(v.signature);
    expect(toHex(reference.sign(keyPair, hex(v.message)))).toBe(v.signature);
    expect(verdict(keyPair.publicKey, hex(v.message), hex(v.signature))).toBe(true);
  });
});

describe('node engine vs noble reference', () => {
  it('derive the same public key from a seed', () => {
    fc.assert(
      fc.property(arbSeed, (seed) => {
        expect(toHex(keyPairFromSeed(seed).publicKey)).toBe(toHex(opensslPublicKey(seed)));
      }),
      { numRuns: 50 },
    );
  });

  it('sign byte-identically, and both accept the signature', () => {
    fc.assert(
      fc.property(arbSeed, arbMessage, (seed, message) => {
        const keyPair = keyPairFromSeed(seed);
        const signature = signRaw(keyPair, message);
        expect(signature.length).toBe(64);
        expect(toHex(signature)).toBe(toHex(reference.sign(keyPair, message)));
        expect(verdict(keyPair.publicKey, message, signature)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('both reject a tampered message', () => {
    fc.assert(
      fc.property(arbSeed, arbMessage, fc.nat(), fc.integer({ min: 1, max: 255 }), (seed, message, at, mask) => {
        const keyPair = keyPairFromSeed(seed);
        const signature = signRaw(keyPair, message);
        const tampered = message.length === 0 ? Uint8Array.of(mask) : Uint8Array.from(message);
        if (message.length > 0) tampered[at % message.length] = (tampered[at % message.length] as number) ^ mask;
        expect(verdict(keyPair.publicKey, tampered, signature)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('both reject a tampered signature', () => {
    fc.assert(
      fc.property(arbSeed, arbMessage, fc.nat({ max: 63 }), fc.integer({ min: 1, max: 255 }), (seed, message, at, mask) => {
        const keyPair = keyPairFromSeed(seed);
        const signature = Uint8Array.from(signRaw(keyPair, message));
        signature[at] = (signature[at] as number) ^ mask;
        expect(verdict(keyPair.publicKey, message, signature)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('both reject a signature under another key', () => {
    fc.assert(
      fc.property(arbSeed, arbSeed, arbMessage, (seedA, seedB, message) => {
        fc.pre(toHex(seedA) !== toHex(seedB));
        const signature = signRaw(keyPairFromSeed(seedA), message);
        expect(verdict(keyPairFromSeed(seedB).publicKey, message, signature)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('agree on random keys and signatures, valid curve points or not, without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), arbMessage, (publicKey, signature, message) => {
        expect(verdict(publicKey, message, signature)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('both reject wrong-length keys and signatures, without throwing', () => {
    fc.assert(
      fc.property(arbSeed, arbMessage, fc.nat({ max: 100 }), fc.nat({ max: 100 }), (seed, message, keyLength, sigLength) => {
        const keyPair = keyPairFromSeed(seed);
        const signature = signRaw(keyPair, message);
        fc.pre(keyLength !== 32 || sigLength !== 64);
        const key = new Uint8Array(keyLength);
        key.set(keyPair.publicKey.subarray(0, keyLength));
        const sig = new Uint8Array(sigLength);
        sig.set(signature.subarray(0, sigLength));
        expect(verdict(key, message, sig)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('both reject a malleated signature (S + L)', () => {
    fc.assert(
      fc.property(arbSeed, arbMessage, (seed, message) => {
        const keyPair = keyPairFromSeed(seed);
        const signature = signRaw(keyPair, message);
        const s = fromLittleEndian(signature.subarray(32));
        expect(s < L).toBe(true);
        const malleated = new Uint8Array(64);
        malleated.set(signature.subarray(0, 32));
        malleated.set(littleEndian(s + L, 32), 32);
        expect(verdict(keyPair.publicKey, message, malleated)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  describe('keys of small order (one signature would verify for every message)', () => {
    // An order-8 point; its multiples are all 8 points of small order.
    const torsion = ed25519.Point.fromBytes(hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'));
    const smallOrder: Uint8Array[] = [];
    let point = ed25519.Point.ZERO;
    for (let k = 0; k < 8; k++) {
      smallOrder.push(point.toBytes());
      point = point.add(torsion);
    }
    // Non-canonical encodings of the same points: y + p where that still fits in 255 bits
    // (y = 0 and y = 1), with either sign bit.
    const nonCanonical = [P, P + 1n].flatMap((y) => {
      const bytes = littleEndian(y, 32);
      const signed = Uint8Array.from(bytes);
      signed[31] = (signed[31] as number) | 0x80;
      return [bytes, signed];
    });

    it('the list holds the 8 distinct points of small order', () => {
      expect(point.equals(ed25519.Point.ZERO)).toBe(true);
      expect(new Set(smallOrder.map(toHex)).size).toBe(8);
      expect(torsion.double().double().is0()).toBe(false);
      for (const bytes of smallOrder) expect(ed25519.Point.fromBytes(bytes).isSmallOrder()).toBe(true);
    });

    it('the strict-key check refuses exactly what noble refuses, among encodings that decode', () => {
      /** noble's verdict: undefined when the bytes are no point (OpenSSL then verifies nothing). */
      const nobleStrict = (bytes: Uint8Array): boolean | undefined => {
        try {
          return !ed25519.Point.fromBytes(bytes).isSmallOrder();
        } catch {
          return undefined;
        }
      };
      const edgeCases = [...smallOrder, ...nonCanonical, ...[0n, 1n, 18n].map((d) => littleEndian(P + d, 32))];
      for (const y of [0n, 1n, P - 1n]) {
        const signed = littleEndian(y, 32);
        signed[31] = (signed[31] as number) | 0x80;
        edgeCases.push(signed);
      }
      for (const bytes of edgeCases) {
        const noble = nobleStrict(bytes);
        if (noble !== undefined) expect(isStrictPublicKey(bytes), toHex(bytes)).toBe(noble);
        else expect(isStrictPublicKey(bytes) && verifyRaw(bytes, Uint8Array.of(1), new Uint8Array(64)), toHex(bytes)).toBe(false);
      }
      fc.assert(
        fc.property(fc.oneof(arbSeed.map((seed) => keyPairFromSeed(seed).publicKey), fc.uint8Array({ minLength: 32, maxLength: 32 })), (bytes) => {
          const noble = nobleStrict(bytes);
          if (noble !== undefined) expect(isStrictPublicKey(bytes)).toBe(noble);
        }),
        { numRuns: 300 },
      );
    });

    it('neither engine accepts any signature under them', () => {
      fc.assert(
        fc.property(fc.constantFrom(...smallOrder, ...nonCanonical), fc.constantFrom(...smallOrder), arbMessage, (publicKey, r, message) => {
          // R of small order with S = 0 satisfies the cofactorless equation [S]B = R + [k]A
          // whenever [k]A = -R, which for A of small order happens for 1 message in 8 or
          // for every message (A = identity, R = identity).
          const signature = new Uint8Array(64);
          signature.set(r);
          expect(verdict(publicKey, message, signature)).toBe(false);
        }),
        { numRuns: 200 },
      );
    });
  });

  it('generates fresh, usable key pairs', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(toHex(a.seed)).not.toBe(toHex(b.seed));
    const message = Uint8Array.of(1, 2, 3);
    expect(verdict(a.publicKey, message, signRaw(a, message))).toBe(true);
  });

  it('refuses a seed of the wrong length', () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(RangeError);
    expect(() => keyPairFromSeed(new Uint8Array(33))).toThrow(RangeError);
  });

  it('copies the seed it is given', () => {
    const seed = new Uint8Array(32).fill(7);
    const keyPair: KeyPair = keyPairFromSeed(seed);
    seed.fill(0);
    expect(keyPair.seed).toEqual(new Uint8Array(32).fill(7));
  });
});
