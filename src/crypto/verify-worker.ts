/**
 * Ed25519 checks on a worker thread, for batches the caller can wait for while the main
 * thread does other work: the certificates of fetched blocks. A node catching up spent
 * 12% of its main thread checking them (3 signatures a block) while the second core idled.
 *
 * Only a verdict of "valid" means anything: a batch the worker cannot check (it failed to
 * start, died, or was stopped) comes back all false, and the caller checks those signatures
 * itself as it would have without a worker. The worker runs the same check as verifyRaw:
 * keys are imported as JWK and verified by OpenSSL, and keys that verifyRaw refuses
 * (isStrictPublicKey) are never sent to it, so a "valid" here is a "valid" there.
 */
import { Worker } from 'node:worker_threads';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './constants.js';
import { isStrictPublicKey, type PublicKey, type Signature } from './ed25519.js';

export interface SignatureCheck {
  readonly publicKey: PublicKey;
  /** The exact signed bytes (domain prefix included: see signingBytes). */
  readonly message: Uint8Array;
  readonly signature: Signature;
}

/**
 * The worker's code. Evaluated as its own script (no module of ours is loaded there, so it
 * runs the same from sources under the test runner and from the build): `require` is the
 * worker's CommonJS require.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
function keyOf(publicKey) {
  const id = Buffer.from(publicKey).toString('base64url');
  let key = keys.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: id }, format: 'jwk' });
    if (keys.size < 1024) keys.set(id, key);
  }
  return key;
}
parentPort.on('message', ({ id, checks }) => {
  const verdicts = checks.map(({ publicKey, message, signature }) => {
    try {
      return verify(null, message, keyOf(publicKey), signature);
    } catch {
      return false;
    }
  });
  parentPort.postMessage({ id, verdicts });
});
`;

export class VerifyWorker {
  private worker: Worker | null;
  private nextId = 0;
  private readonly waiting = new Map<number, { count: number; resolve: (verdicts: boolean[]) => void }>();

  constructor() {
    try {
      this.worker = new Worker(WORKER_SOURCE, { eval: true });
    } catch {
      this.worker = null;
      return;
    }
    // Never what keeps the process alive.
    this.worker.unref();
    this.worker.on('message', (reply: { id: number; verdicts: boolean[] }) => {
      const entry = this.waiting.get(reply.id);
      if (entry === undefined) return;
      this.waiting.delete(reply.id);
      entry.resolve(reply.verdicts.length === entry.count ? reply.verdicts : new Array<boolean>(entry.count).fill(false));
    });
    const fail = (): void => this.abandon();
    this.worker.on('error', fail);
    this.worker.on('exit', fail);
  }

  /** One verdict per check, in order; false means invalid or not checked here. */
  verify(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    const unchecked = (): Promise<boolean[]> => Promise.resolve(new Array<boolean>(checks.length).fill(false));
    if (this.worker === null || checks.length === 0) return unchecked();
    const sendable = checks.map(
      (c) => c.publicKey.length === PUBLIC_KEY_LENGTH && c.signature.length === SIGNATURE_LENGTH && isStrictPublicKey(c.publicKey),
    );
    const id = this.nextId++;
    const worker = this.worker;
    return new Promise<boolean[]>((resolve) => {
      this.waiting.set(id, {
        count: checks.length,
        resolve: (verdicts) => resolve(verdicts.map((v, i) => v && sendable[i] === true)),
      });
      // Refused keys go as empty checks: the worker answers false for them.
      const payload = checks.map((c, i) =>
        sendable[i] === true ? { publicKey: c.publicKey, message: c.message, signature: c.signature } : { publicKey: new Uint8Array(0), message: c.message, signature: c.signature },
      );
      worker.postMessage({ id, checks: payload });
    });
  }

  /** Stops the worker; batches still waiting come back unchecked. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.abandon();
    if (worker !== null) await worker.terminate();
  }

  private abandon(): void {
    this.worker = null;
    for (const { count, resolve } of this.waiting.values()) resolve(new Array<boolean>(count).fill(false));
    this.waiting.clear();
  }
}
