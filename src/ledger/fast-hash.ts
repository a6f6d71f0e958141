/**
 * SHA-256 for the hot paths of the Merkle structures (tx root, state tree), on digests
 * held as latin1 ("binary") strings: one char per byte, 0..255.
 *
 * Why not `sha256` from crypto/hash.ts? Measured on the target machine (Node 20):
 * - `sha256(0x01, left, right)` costs ~2.0 µs per interior node, this module's `hashPair`
 *   ~0.4 µs: no Hash object per call (one-shot `crypto.hash`, Node >= 20.12), the 65 input
 *   bytes go through one reused array, and the digest comes back as a string.
 * - A 32-byte Uint8Array costs ~240 bytes of heap (a Node digest Buffer ~450 bytes of RSS);
 *   a 32-char latin1 string costs 48. The state tree holds one digest per interior node
 *   and keys and values the same way: ~260 bytes per entry in all, where Uint8Arrays
 *   would take ~1 KB.
 * The digests are byte-identical to crypto/hash.ts's (the tests cross-check), and the
 * Uint8Array world sees only Uint8Arrays: conversion happens at the module boundary.
 */
import { hash } from 'node:crypto';

/** A SHA-256 digest as a 32-char latin1 string. */
export type Digest = string;

export const DIGEST_CHARS = 32;

/** The hash of an empty subtree in the state tree: 32 zero bytes. */
export const ZERO_DIGEST: Digest = '\0'.repeat(DIGEST_CHARS);

/** 0x00/0x01 || 32 bytes || 32 bytes: the input of every leaf and interior hash. */
const pairInput = new Uint8Array(1 + 2 * DIGEST_CHARS);

/**
 * sha256(prefix || a || b) for two digests (prefix 0x00 leaf, 0x01 interior). The chars are
 * copied in a plain loop: ~2x faster than two Buffer#write calls.
 */
export function hashPair(prefix: number, a: Digest, b: Digest): Digest {
  pairInput[0] = prefix;
  for (let i = 0; i < DIGEST_CHARS; i++) {
    pairInput[1 + i] = a.charCodeAt(i);
    pairInput[1 + DIGEST_CHARS + i] = b.charCodeAt(i);
  }
  return hash('sha256', pairInput, 'binary');
}

/** hashPair where `a` is given as the 32 bytes of `bytes` at `offset`. */
export function hashPairBytes(prefix: number, bytes: Uint8Array, offset: number, b: Digest): Digest {
  pairInput[0] = prefix;
  for (let i = 0; i < DIGEST_CHARS; i++) {
    pairInput[1 + i] = bytes[offset + i]!;
    pairInput[1 + DIGEST_CHARS + i] = b.charCodeAt(i);
  }
  return hash('sha256', pairInput, 'binary');
}

/** sha256(bytes) as a digest. */
export function hashBytes(bytes: Uint8Array): Digest {
  return hash('sha256', bytes, 'binary');
}

/** Reused inputs for hashLatin1, one per length up to SHORT (most keys and values). */
const SHORT = 256;
const shortInputs: (Uint8Array | undefined)[] = [];

/** sha256 of the bytes a latin1 string stands for. */
export function hashLatin1(text: string): Digest {
  const n = text.length;
  if (n > SHORT) return hash('sha256', Buffer.from(text, 'latin1'), 'binary');
  let input = shortInputs[n];
  if (input === undefined) {
    input = new Uint8Array(n);
    shortInputs[n] = input;
  }
  for (let i = 0; i < n; i++) input[i] = text.charCodeAt(i);
  return hash('sha256', input, 'binary');
}

export function bytesToLatin1(bytes: Uint8Array): string {
  // Short arrays (keys, account values): no Buffer view object to allocate.
  if (bytes.length <= 256) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A fresh Uint8Array (not a Buffer: callers compare with plain Uint8Arrays). */
export function latin1ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  if (text.length <= 64) {
    // Short strings (digests, account keys and values): a loop beats a Buffer round trip.
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  } else {
    Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(text, 'latin1');
  }
  return out;
}
