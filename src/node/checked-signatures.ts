/**
 * Signatures already found valid off the main thread (see VerifyWorker), each taken once
 * by the check that needs it. The consensus core checks every certificate it is given;
 * for a fetched block those checks were done while earlier blocks executed, and here the
 * core's check finds the verdict instead of repeating it.
 *
 * The key is the whole signed statement (kind, key, payload, signature): a verdict is
 * never reused for anything but exactly what was checked. Bounded: the oldest verdicts go
 * first, and a verdict that is gone only means one more check.
 */
import { toHex } from '../crypto/bytes.js';
import type { PublicKey, Signature, SignatureKind } from '../crypto/index.js';

export class CheckedSignatures {
  private readonly valid = new Set<string>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.valid.size;
  }

  add(kind: SignatureKind, publicKey: PublicKey, payload: Uint8Array, signature: Signature): void {
    if (this.valid.size >= this.capacity) {
      const oldest = this.valid.values().next();
      if (oldest.done !== true) this.valid.delete(oldest.value);
    }
    this.valid.add(statementKey(kind, publicKey, payload, signature));
  }

  /** True (and forgotten) if exactly this signature was found valid. */
  take(kind: SignatureKind, publicKey: PublicKey, payload: Uint8Array, signature: Signature): boolean {
    if (this.valid.size === 0) return false;
    return this.valid.delete(statementKey(kind, publicKey, payload, signature));
  }
}

function statementKey(kind: SignatureKind, publicKey: PublicKey, payload: Uint8Array, signature: Signature): string {
  return `${kind}:${toHex(publicKey)}:${toHex(signature)}:${toHex(payload)}`;
}
