/**
 * Decoding is total: random bytes, and valid encodings with bytes flipped, inserted,
 * deleted or cut off, never make a decoder throw. Each either decodes to a value that
 * re-encodes to exactly the input (so no two inputs decode to one value) or returns an
 * error that names a fault, never an internal one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBlock, decodeBlockHeader, decodeQuorumCertificate, encodeBlock, encodeBlockHeader, encodeQuorumCertificate } from '../../src/codec/block.js';
import { decodeConsensusMessage, encodeConsensusMessage, MESSAGE_TAGS } from '../../src/codec/consensus.js';
import type { CodecError, Result } from '../../src/codec/result.js';
import { decodeTx, encodeTx } from '../../src/codec/tx.js';
import { arbBlock, arbBlockHeader, arbConsensusMessage, arbQuorumCertificate, arbTx } from './arbitraries.js';

interface Subject {
  readonly name: string;
  readonly arb: fc.Arbitrary<unknown>;
  readonly encode: (value: never) => Uint8Array;
  readonly decode: (bytes: Uint8Array) => Result<unknown, CodecError>;
}

const subjects: readonly Subject[] = [
  { name: 'tx', arb: arbTx, encode: encodeTx, decode: decodeTx },
  { name: 'block header', arb: arbBlockHeader, encode: encodeBlockHeader, decode: decodeBlockHeader },
  { name: 'block', arb: arbBlock(3), encode: encodeBlock, decode: decodeBlock },
  { name: 'quorum certificate', arb: arbQuorumCertificate, encode: encodeQuorumCertificate, decode: decodeQuorumCertificate },
  { name: 'consensus message', arb: arbConsensusMessage, encode: encodeConsensusMessage, decode: decodeConsensusMessage },
];

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly value: number }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'truncate'; readonly at: number };

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xff) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Array.from(input);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + (m.kind === 'insert' ? 1 : 0));
    switch (m.kind) {
      case 'flip':
        if (bytes.length > 0) bytes[at] = (bytes[at] as number) ^ m.mask;
        break;
      case 'set':
        if (bytes.length > 0) bytes[at] = m.value;
        break;
      case 'insert':
        bytes.splice(at, 0, m.value);
        break;
      case 'delete':
        bytes.splice(at, 1);
        break;
      case 'truncate':
        bytes = bytes.slice(0, at);
        break;
    }
  }
  return Uint8Array.from(bytes);
}

/** The decoder's contract on arbitrary input. Returns whether the input decoded. */
function checkTotal(subject: Subject, input: Uint8Array): boolean {
  let result: Result<unknown, CodecError> | undefined;
  expect(() => {
    result = subject.decode(input);
  }).not.toThrow();
  if (result === undefined) throw new Error('unreachable');
  if (result.ok) {
    expect(Buffer.from(subject.encode(result.value as never)).equals(input)).toBe(true);
    return true;
  }
  expect(['truncated', 'trailing-bytes', 'too-large', 'invalid-tag', 'invalid-value', 'non-canonical']).toContain(result.error.code);
  expect(result.error.message).not.toMatch(/internal decoder error/);
  expect(result.error.offset).toBeGreaterThanOrEqual(0);
  expect(result.error.offset).toBeLessThanOrEqual(input.length);
  return false;
}

describe.each(subjects)('decoding a $name is total', (subject) => {
  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        checkTotal(subject, bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('on mutated valid encodings', () => {
    let decodedSome = 0;
    fc.assert(
      fc.property(subject.arb, fc.array(arbMutation, { minLength: 1, maxLength: 3 }), (value, mutations) => {
        const valid = subject.encode(value as never);
        if (checkTotal(subject, mutate(valid, mutations))) decodedSome++;
      }),
      { numRuns: 300 },
    );
    // Some mutations (a flipped byte inside a hash or a signature) give another valid
    // value; if none did, the mutations would only be exercising the first byte.
    expect(decodedSome).toBeGreaterThan(0);
  });

  it('on every truncation of a valid encoding', () => {
    fc.assert(
      fc.property(subject.arb, (value) => {
        const valid = subject.encode(value as never);
        for (let n = 0; n < valid.length; n += Math.max(1, Math.floor(valid.length / 64))) {
          const result = subject.decode(valid.subarray(0, n));
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.error.code).toBe('truncated');
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('decoding consensus messages is total past the tag', () => {
  it('on random bytes after each valid tag', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(MESSAGE_TAGS)), fc.uint8Array({ maxLength: 400 }), (tag, rest) => {
        checkTotal(subjects[4] as Subject, Uint8Array.of(tag, ...rest));
      }),
      { numRuns: 500 },
    );
  });
});
