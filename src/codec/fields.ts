/**
 * Field codecs shared by blocks, certificates and consensus messages: validator indexes
 * and signature lists. (Internal to src/codec; not re-exported.)
 */
import { HASH_LENGTH, SIGNATURE_LENGTH, type Hash } from '../crypto/pure.js';
import type { Reader } from './reader.js';
import { LIMITS, type ValidatorSignature } from './types.js';
import type { Writer } from './writer.js';

/** A validator's index in the genesis list: a u16 below LIMITS.validators. */
export const VALIDATOR_INDEX_BYTES = 2;
/** One entry of a signature list: validator index + signature. */
export const VALIDATOR_SIGNATURE_BYTES = VALIDATOR_INDEX_BYTES + SIGNATURE_LENGTH;

export function writeValidatorIndex(w: Writer, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= LIMITS.validators) {
    throw new RangeError(`validator index ${String(index)} is not in 0..${LIMITS.validators - 1}`);
  }
  w.u16(index);
}

export function readValidatorIndex(r: Reader, field = 'validator'): number {
  const at = r.offset;
  const index = r.u16();
  if (index >= LIMITS.validators) r.fail('invalid-value', `${field} index ${index} is not below ${LIMITS.validators}`, at);
  return index;
}

export function writeHash(w: Writer, hash: Hash): void {
  w.fixed(hash, HASH_LENGTH);
}

export function readHash(r: Reader, field = 'hash'): Hash {
  return r.fixed(HASH_LENGTH, field);
}

/**
 * A certificate's signatures: u32 count (at most LIMITS.validators), then (u16 index,
 * 64-byte signature) pairs strictly increasing by index. The order makes the encoding
 * canonical and rules out duplicates without a set.
 */
export function writeSignatureList(w: Writer, signatures: readonly ValidatorSignature[]): void {
  if (signatures.length > LIMITS.validators) {
    throw new RangeError(`${signatures.length} signatures exceed the limit of ${LIMITS.validators}`);
  }
  w.u32(signatures.length);
  let previous = -1;
  for (const { validator, signature } of signatures) {
    if (validator <= previous) {
      throw new RangeError(`signature list is not strictly increasing by validator (${validator} after ${previous})`);
    }
    writeValidatorIndex(w, validator);
    w.fixed(signature, SIGNATURE_LENGTH);
    previous = validator;
  }
}

export function readSignatureList(r: Reader, field = 'signatures'): ValidatorSignature[] {
  const n = r.count(LIMITS.validators, VALIDATOR_SIGNATURE_BYTES, field);
  const signatures: ValidatorSignature[] = [];
  let previous = -1;
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const validator = readValidatorIndex(r, field);
    if (validator <= previous) {
      r.fail('non-canonical', `${field} not strictly increasing by validator (${validator} after ${previous})`, at);
    }
    signatures.push({ validator, signature: r.fixed(SIGNATURE_LENGTH, 'signature') });
    previous = validator;
  }
  return signatures;
}

/** Encoded size of a signature list. */
export function signatureListSize(signatures: readonly ValidatorSignature[]): number {
  return 4 + signatures.length * VALIDATOR_SIGNATURE_BYTES;
}
