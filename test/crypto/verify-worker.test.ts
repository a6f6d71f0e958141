/**
 * The verify worker gives the same verdicts as verifyRaw (its "valid" is all that callers
 * trust), refuses the keys verifyRaw refuses, and answers "not checked" once stopped.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, signRaw, verifyRaw } from '../../src/crypto/ed25519.js';
import { VerifyWorker, type SignatureCheck } from '../../src/crypto/verify-worker.js';

const worker = new VerifyWorker();
afterAll(() => worker.stop());

function validCheck(i: number): SignatureCheck {
  const keyPair = generateKeyPair();
  const message = Uint8Array.of(1, 2, 3, i);
  return { publicKey: keyPair.publicKey, message, signature: signRaw(keyPair, message) };
}

describe('VerifyWorker', () => {
  it('agrees with verifyRaw on valid, tampered and malformed signatures, in order', async () => {
    const good = Array.from({ length: 20 }, (_, i) => validCheck(i));
    const tamperedSignature = { ...good[0]!, signature: Uint8Array.from(good[0]!.signature, (b, i) => (i === 5 ? b ^ 1 : b)) };
    const otherMessage = { ...good[1]!, message: Uint8Array.of(9) };
    const otherKey = { ...good[2]!, publicKey: good[3]!.publicKey };
    const shortSignature = { ...good[4]!, signature: good[4]!.signature.subarray(0, 63) };
    const notAKey = { ...good[5]!, publicKey: new Uint8Array(32).fill(0xff) };
    const checks = [...good, tamperedSignature, otherMessage, otherKey, shortSignature, notAKey];
    const verdicts = await worker.verify(checks);
    expect(verdicts).toEqual(checks.map((c) => verifyRaw(c.publicKey, c.message, c.signature)));
    expect(verdicts).toEqual([...good.map(() => true), false, false, false, false, false]);
  });

  it('refuses a key of small order, under which one signature verifies for every message', async () => {
    // The identity point (y = 1) with R = identity and S = 0: OpenSSL accepts it for any message.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const signature = new Uint8Array(64);
    signature[0] = 1;
    const check = { publicKey: identity, message: Uint8Array.of(7), signature };
    expect(await worker.verify([check])).toEqual([false]);
    expect(verifyRaw(check.publicKey, check.message, check.signature)).toBe(false);
  });

  it('answers an empty batch at once, and "not checked" once stopped', async () => {
    const own = new VerifyWorker();
    expect(await own.verify([])).toEqual([]);
    const checks = [validCheck(1), validCheck(2)];
    expect(await own.verify(checks)).toEqual([true, true]);
    const pending = own.verify(checks);
    await own.stop();
    expect(await pending).toEqual([false, false]);
    expect(await own.verify(checks)).toEqual([false, false]);
  });
});
