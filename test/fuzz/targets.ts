/**
 * Fuzz targets: every parser of outside input, with the inputs to throw at it and the
 * contract each input must satisfy. Shared by the bounded run in `npm test`
 * (test/fuzz/decoders.test.ts) and the long run (`npm run fuzz`, scripts/fuzz.ts), so both
 * check exactly the same properties.
 *
 * The contract, per target:
 * - it never throws (the key file parser throws only its own KeyFileError, by design);
 * - a decoded value is bounded by its input: every byte field lives in a buffer no larger
 *   than the input, and no string or list is longer than the input;
 * - a decoded value re-encodes (from a fresh copy, not a cached encoding) to exactly the
 *   input bytes, or for text formats, to a canonical form that parses back to the same value;
 * - an error carries a code from the documented set, and where the damage is known (a cut,
 *   appended bytes, a tampered length or count field) the code the damage calls for.
 *
 * `check` returns an outcome label ('ok' or the error code) for the statistics, and throws
 * (node:assert) on a contract violation.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  blockHeaderSize,
  decodeBlock,
  decodeBlockHeader,
  decodeQuorumCertificate,
  encodeBlock,
  encodeBlockHeader,
  encodeQuorumCertificate,
} from '../../src/codec/block.js';
import { decodeConsensusMessage, encodeConsensusMessage } from '../../src/codec/consensus.js';
import type { CodecError, CodecErrorCode, Result } from '../../src/codec/result.js';
import { decodeTx, encodeTx, MIN_TX_BYTES } from '../../src/codec/tx.js';
import { LIMITS, type Block, type ConsensusMessage, type QuorumCertificate, type Tx } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import { KeyFileError, keyFileJson, parseKeyFile } from '../../src/crypto/keyfile.js';
import { keyPairFromSeed } from '../../src/crypto/ed25519.js';
import { genesisHash, genesisToJson, genesisToJsonValue, parseGenesis } from '../../src/ledger/genesis.js';
import { stateProofFromJson, stateProofToJson, type StateProof } from '../../src/ledger/smt-proof.js';
import { encodeFrame, FrameDecoder, type FrameError } from '../../src/net/framing.js';
import { DEFAULT_NODE_CONFIG, nodeConfigToJson, parseNodeConfig } from '../../src/node/config.js';
import { decodeSyncItem, encodeSyncItem } from '../../src/node/sync-item.js';
import { arbBlock, arbBlockHeader, arbConsensusMessage, arbHash, arbQuorumCertificate, arbTx } from '../codec/arbitraries.js';
import { makeTestnet } from '../helpers/fixtures.js';
import {
  arbByteMutation,
  arbHostileJson,
  arbJsonMutation,
  arbTextMutation,
  INTERESTING_U32,
  mutateBytes,
  mutateJson,
  mutateText,
} from './mutate.js';

export interface FuzzTarget<I = unknown> {
  readonly name: string;
  readonly input: fc.Arbitrary<I>;
  /** Throws on a contract violation; returns 'ok' or the error's code. */
  readonly check: (input: I) => string;
}

// ---------------------------------------------------------------------------------------
// Shared checks

const CODEC_ERROR_CODES: readonly CodecErrorCode[] = ['truncated', 'trailing-bytes', 'too-large', 'invalid-tag', 'invalid-value', 'non-canonical'];

/** Every byte field, string and list of a decoded value is within the input's size. */
export function assertBounded(value: unknown, limit: number, path = 'value'): void {
  if (value instanceof Uint8Array) {
    assert.ok(value.buffer.byteLength <= limit, `${path}: a byte field backed by ${value.buffer.byteLength} bytes, input was ${limit}`);
    return;
  }
  if (typeof value === 'string') {
    assert.ok(value.length <= limit, `${path}: a string of ${value.length} characters from ${limit} bytes`);
    return;
  }
  if (Array.isArray(value)) {
    assert.ok(value.length <= limit, `${path}: a list of ${value.length} items from ${limit} bytes`);
    value.forEach((item, i) => assertBounded(item, limit, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) assertBounded(item, limit, `${path}.${key}`);
  }
}

/**
 * A deep copy made of plain objects and fresh byte arrays: it carries none of the codec's
 * cached encodings, so encoding it really re-encodes.
 */
export function fresh<T>(value: T): T {
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map((item) => fresh(item)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = fresh(item);
    return out as T;
  }
  return value;
}

function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${what}: re-encoding gives ${a.length} bytes that differ from the ${b.length} input bytes`);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

// ---------------------------------------------------------------------------------------
// Binary codecs

/** A binary input, and the error codes its known damage calls for (undefined: any code). */
export interface BinaryInput {
  readonly bytes: Uint8Array;
  readonly expect?: readonly string[];
  readonly why?: string;
}

/** A u32 length or count field at a known offset of a valid encoding. */
interface LengthField {
  readonly at: number;
  /** 'bytes': u32 length + bytes (Reader.bytes); 'count': a list count (Reader.count); 'value': a bounded number. */
  readonly kind: 'bytes' | 'count' | 'value';
  readonly max: number;
  /** For 'count': the fewest bytes one item needs. */
  readonly minItem?: number;
}

/** The error code a tampered field must produce, per the Reader's rules; undefined when any is fine. */
function expectedForTamper(field: LengthField, value: number, inputLength: number): readonly string[] | undefined {
  const remaining = inputLength - field.at - 4;
  switch (field.kind) {
    case 'bytes':
      if (value > remaining) return ['truncated'];
      if (value > field.max) return ['too-large'];
      return undefined;
    case 'count':
      if (value > field.max) return ['too-large'];
      if (value * (field.minItem ?? 0) > remaining) return ['truncated'];
      return undefined;
    case 'value':
      return value > field.max ? ['too-large'] : undefined;
  }
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

function txFields(tx: Tx, base = 0): LengthField[] {
  const fields: LengthField[] = [{ at: base + 1, kind: 'bytes', max: LIMITS.chainId }];
  if (tx.body.kind === 'put') {
    const keyAt = base + 1 + 4 + utf8Length(tx.chainId) + 32 + 8 + 1;
    fields.push({ at: keyAt, kind: 'bytes', max: LIMITS.dataKey });
    fields.push({ at: keyAt + 4 + utf8Length(tx.body.key), kind: 'bytes', max: LIMITS.dataValue });
  }
  return fields;
}

function headerFields(chainId: string, base = 0): LengthField[] {
  const txCountAt = base + 1 + 4 + utf8Length(chainId) + 8 + 32 + 8 + 2 + 8;
  return [
    { at: base + 1, kind: 'bytes', max: LIMITS.chainId },
    { at: txCountAt, kind: 'value', max: LIMITS.blockTxs },
  ];
}

function blockFields(block: Block, base = 0): LengthField[] {
  return [
    ...headerFields(block.header.chainId, base),
    { at: base + blockHeaderSize(block.header), kind: 'count', max: LIMITS.blockTxs, minItem: MIN_TX_BYTES },
  ];
}

function qcFields(base = 0): LengthField[] {
  return [{ at: base + 8 + 8 + 32, kind: 'count', max: LIMITS.validators, minItem: 66 }];
}

function messageFields(m: ConsensusMessage): LengthField[] {
  switch (m.type) {
    case 'pre-prepare':
      return blockFields(m.block, 1 + 8 + 8 + 2);
    case 'block-response':
      return blockFields(m.block, 1 + 2);
    case 'status':
      return m.committed === null ? [] : qcFields(1 + 2 + 8 + 1);
    default:
      return [];
  }
}

interface BinaryCodec<T> {
  readonly name: string;
  readonly arb: fc.Arbitrary<T>;
  readonly encode: (value: T) => Uint8Array;
  readonly decode: (bytes: Uint8Array) => Result<T, CodecError>;
  readonly fields: (value: T) => LengthField[];
  /** The decoder's input limit (longer inputs are 'too-large' before anything is read). */
  readonly maxBytes: number;
}

/**
 * Inputs for a binary decoder: random bytes, and valid encodings that are mutated, cut,
 * extended, or have a length or count field tampered with.
 */
export function binaryInputs<T>(codec: Pick<BinaryCodec<T>, 'arb' | 'encode' | 'fields' | 'maxBytes'>): fc.Arbitrary<BinaryInput> {
  const valid = codec.arb.map((value) => ({ value, bytes: codec.encode(value) }));
  return fc.oneof(
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes): BinaryInput => ({ bytes })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(valid, fc.array(arbByteMutation, { minLength: 1, maxLength: 4 }))
        .map(([v, mutations]): BinaryInput => ({ bytes: mutateBytes(v.bytes, mutations) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.double({ min: 0, max: 1, noNaN: true }))
        .filter(([v]) => v.bytes.length > 0)
        .map(([v, cut]): BinaryInput => ({ bytes: v.bytes.slice(0, Math.min(v.bytes.length - 1, Math.floor(cut * v.bytes.length))), expect: ['truncated'], why: 'cut short' })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([v, extra]): BinaryInput => ({
        bytes: concat([v.bytes, extra]),
        expect: v.bytes.length + extra.length > codec.maxBytes ? ['too-large'] : ['trailing-bytes'],
        why: 'bytes appended',
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.nat(), fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.integer({ min: 0, max: 0xffff_ffff })))
        .map(([v, pick, value]): BinaryInput => {
          const fields = codec.fields(v.value);
          if (fields.length === 0) return { bytes: v.bytes };
          const field = fields[pick % fields.length]!;
          const bytes = Uint8Array.from(v.bytes);
          new DataView(bytes.buffer).setUint32(field.at, value);
          const expect = expectedForTamper(field, value, bytes.length);
          return expect === undefined ? { bytes } : { bytes, expect, why: `${field.kind} field at ${field.at} set to ${value}` };
        }),
    },
  );
}

function binaryTarget<T>(codec: BinaryCodec<T>): FuzzTarget<BinaryInput> {
  return {
    name: codec.name,
    input: binaryInputs(codec),
    check: (input) => {
      const result = codec.decode(input.bytes);
      if (result.ok) {
        assert.equal(input.expect, undefined, `decoded although ${input.why ?? ''} calls for ${input.expect?.join('/') ?? ''}`);
        assertBounded(result.value, input.bytes.length);
        sameBytes(codec.encode(fresh(result.value)), input.bytes, codec.name);
        return 'ok';
      }
      const { code, message, offset } = result.error;
      assert.ok(CODEC_ERROR_CODES.includes(code), `unknown error code ${String(code)}`);
      assert.doesNotMatch(message, /internal decoder error/, 'a decoder bug surfaced as an internal error');
      assert.ok(Number.isInteger(offset) && offset >= 0 && offset <= input.bytes.length, `error offset ${offset} outside 0..${input.bytes.length}`);
      if (input.expect !== undefined) assert.ok(input.expect.includes(code), `${input.why ?? ''}: expected ${input.expect.join('/')}, got ${code} (${message})`);
      return code;
    },
  };
}

export const txTarget = binaryTarget<Tx>({ name: 'decodeTx', arb: arbTx, encode: encodeTx, decode: decodeTx, fields: (tx) => txFields(tx), maxBytes: LIMITS.txBytes });
export const headerTarget = binaryTarget({
  name: 'decodeBlockHeader',
  arb: arbBlockHeader,
  encode: encodeBlockHeader,
  decode: decodeBlockHeader,
  fields: (h) => headerFields(h.chainId),
  maxBytes: 1 + 4 + LIMITS.chainId + 8 + 32 + 8 + 2 + 8 + 4 + 32 + 32,
});
export const blockTarget = binaryTarget<Block>({ name: 'decodeBlock', arb: arbBlock(3), encode: encodeBlock, decode: decodeBlock, fields: (b) => blockFields(b), maxBytes: LIMITS.blockBytes });
export const certificateTarget = binaryTarget<QuorumCertificate>({
  name: 'decodeQuorumCertificate',
  arb: arbQuorumCertificate,
  encode: encodeQuorumCertificate,
  decode: decodeQuorumCertificate,
  fields: () => qcFields(),
  maxBytes: 8 + 8 + 32 + 4 + LIMITS.validators * 66,
});
export const messageTarget = binaryTarget<ConsensusMessage>({
  name: 'decodeConsensusMessage',
  arb: arbConsensusMessage,
  encode: encodeConsensusMessage,
  decode: decodeConsensusMessage,
  fields: messageFields,
  maxBytes: LIMITS.messageBytes,
});

// ---------------------------------------------------------------------------------------
// The sync item (src/node/sync-item.ts): u32 block length, block, certificate

interface CertifiedPair {
  readonly block: Block;
  readonly certificate: QuorumCertificate;
}

const arbCertified: fc.Arbitrary<CertifiedPair> = fc.record({ block: arbBlock(2), certificate: arbQuorumCertificate });
const encodeCertified = (p: CertifiedPair): Uint8Array => encodeSyncItem(encodeBlock(p.block), encodeQuorumCertificate(p.certificate));

export const syncItemTarget: FuzzTarget<BinaryInput> = {
  name: 'decodeSyncItem',
  input: fc.oneof(
    { weight: 5, arbitrary: binaryInputs({ arb: arbCertified, encode: encodeCertified, maxBytes: Number.MAX_SAFE_INTEGER, fields: (p) => [...blockFields(p.block, 4), ...qcFields(4 + encodeBlock(p.block).length)] }) },
    {
      // The block length prefix itself, set past the input.
      weight: 1,
      arbitrary: fc.tuple(arbCertified, fc.oneof(fc.constantFrom(0xffff_ffff, LIMITS.blockBytes + 1), fc.nat({ max: 64 }))).map(([p, extra]): BinaryInput => {
        const bytes = encodeCertified(p);
        const length = Math.min(0xffff_ffff, bytes.length - 4 + 1 + extra);
        new DataView(bytes.buffer).setUint32(0, length);
        return { bytes, expect: ['block length out of range'], why: `block length ${length}` };
      }),
    },
  ),
  check: (input) => {
    const result = decodeSyncItem(input.bytes);
    if (result.ok) {
      assert.equal(input.expect, undefined, `decoded although ${input.why ?? ''} calls for an error`);
      assertBounded(result.value, input.bytes.length);
      const again = encodeSyncItem(encodeBlock(fresh(result.value.block)), encodeQuorumCertificate(fresh(result.value.certificate)));
      sameBytes(again, input.bytes, 'sync item');
      return 'ok';
    }
    assert.equal(typeof result.error, 'string');
    assert.match(result.error, /^sync item /, 'a sync item error names the sync item');
    assert.doesNotMatch(result.error, /internal decoder error/);
    // The inner decoders' codes do not survive into the string; the prefix's own fault does.
    if (input.why?.startsWith('block length') === true) assert.match(result.error, /block length out of range/);
    const label = /block length|shorter/.exec(result.error)?.[0];
    return label ?? (result.error.includes('certificate') ? 'certificate' : 'block');
  },
};

// ---------------------------------------------------------------------------------------
// Frames (src/net/framing.ts): a stream cut into arbitrary chunks

export interface FrameInput {
  readonly wire: Uint8Array;
  /** Chunk boundaries (sorted offsets into wire). */
  readonly cuts: readonly number[];
  /** Chunks with an odd index are handed over as a list of parts (Uint8ArrayList style). */
  readonly listChunks: boolean;
  readonly maxFrameBytes: number;
}

export const frameTarget: FuzzTarget<FrameInput> = {
  name: 'FrameDecoder',
  input: fc
    .record({
      payloads: fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 8 }),
      mutations: fc.array(arbByteMutation, { maxLength: 3 }),
      random: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }) }),
      cutPoints: fc.array(fc.nat(), { maxLength: 12 }),
      listChunks: fc.boolean(),
      maxFrameBytes: fc.constantFrom(1, 4, 64, 256, 299, 300, 1024),
    })
    .map(({ payloads, mutations, random, cutPoints, listChunks, maxFrameBytes }): FrameInput => {
      const wire = random ?? mutateBytes(concat(payloads.map((p) => encodeFrame(p))), mutations);
      const cuts = [...new Set(cutPoints.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
      return { wire, cuts, listChunks, maxFrameBytes };
    }),
  check: ({ wire, cuts, listChunks, maxFrameBytes }) => {
    const decoder = new FrameDecoder(maxFrameBytes);
    const frames: Uint8Array[] = [];
    let error: FrameError | undefined;
    let pushed = 0;
    const bounds = [0, ...cuts, wire.length];
    for (let i = 0; i + 1 < bounds.length && error === undefined; i++) {
      const chunk = wire.subarray(bounds[i]!, bounds[i + 1]!);
      pushed += chunk.length;
      const half = Math.floor(chunk.length / 2);
      error = listChunks && i % 2 === 1 ? decoder.push([chunk.subarray(0, half), chunk.subarray(half)], (f) => frames.push(f)) : decoder.push(chunk, (f) => frames.push(f));
      // It never holds more than one frame's header and body, nor more than it was given.
      assert.ok(decoder.bufferedBytes <= maxFrameBytes + 4, `holds ${decoder.bufferedBytes} bytes with a limit of ${maxFrameBytes}`);
      assert.ok(decoder.bufferedBytes <= pushed, `holds ${decoder.bufferedBytes} bytes after ${pushed} pushed`);
    }
    for (const f of frames) assert.ok(f.length >= 1 && f.length <= maxFrameBytes, `delivered a frame of ${f.length} bytes, limit ${maxFrameBytes}`);
    // The frames re-encode to the stream's prefix...
    const prefix = concat(frames.map((f) => encodeFrame(f)));
    sameBytes(prefix, wire.subarray(0, prefix.length), 'frames');
    if (error === undefined) {
      // ...and the rest is one incomplete frame: a partial prefix, or a whole prefix (consumed,
      // not held) and part of its body.
      const rest = wire.length - prefix.length;
      assert.equal(decoder.inFrame, rest > 0, `${rest} bytes after the last frame, inFrame ${String(decoder.inFrame)}`);
      if (rest > 0) {
        const held = decoder.bufferedBytes;
        const headerWhole = rest >= 4;
        assert.equal(held, headerWhole ? rest - 4 : rest, 'the decoder holds exactly the incomplete frame');
        if (headerWhole) assert.ok(new DataView(wire.buffer, wire.byteOffset + prefix.length, 4).getUint32(0) > held, 'the held body is short of its prefix');
      }
      return rest > 0 ? 'partial' : 'ok';
    }
    // ...and the next prefix is the offending one.
    assert.ok(wire.length - prefix.length >= 4, 'an error needs a whole length prefix');
    const stated = new DataView(wire.buffer, wire.byteOffset + prefix.length, 4).getUint32(0);
    assert.equal(error.length, stated, 'the error reports the length the prefix stated');
    assert.equal(error.code, stated === 0 ? 'empty' : 'too-large');
    if (error.code === 'too-large') assert.ok(stated > maxFrameBytes);
    assert.equal(decoder.bufferedBytes, 0, 'a failed decoder holds nothing');
    assert.equal(decoder.push(new Uint8Array(8), () => assert.fail('a failed decoder delivered a frame')), error, 'a failed decoder stays failed');
    return error.code;
  },
};

// ---------------------------------------------------------------------------------------
// Text formats

export interface TextInput {
  readonly text: string;
}

/** Inputs for a JSON text parser: structural and textual mutations of `valid`, JSON values, and junk. */
function textInputs(valid: unknown): fc.Arbitrary<TextInput> {
  const validText = JSON.stringify(valid, null, 2);
  return fc.oneof(
    { weight: 5, arbitrary: fc.array(arbJsonMutation, { minLength: 1, maxLength: 3 }).map((ms) => ({ text: JSON.stringify(mutateJson(valid, ms)) ?? 'undefined' })) },
    { weight: 2, arbitrary: fc.array(arbTextMutation, { minLength: 1, maxLength: 3 }).map((ms) => ({ text: mutateText(validText, ms) })) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1'))).map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.constant({ text: validText }) },
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const fuzzGenesis = makeTestnet({ validators: 4, accounts: 3, chainId: 'fuzz-chain', consensus: { viewTimeoutMs: 500 } }).genesis;

export const genesisTarget: FuzzTarget<TextInput> = {
  name: 'parseGenesis',
  input: textInputs(genesisToJsonValue(fuzzGenesis)),
  check: ({ text }) => {
    const result = parseGenesis(text);
    if (result.ok) {
      const canonical = genesisToJson(result.value);
      const again = parseGenesis(canonical);
      assert.ok(again.ok, 'the canonical form of a parsed genesis parses');
      assert.equal(toHex(genesisHash(again.value)), toHex(genesisHash(result.value)), 'the canonical form has the same genesis hash');
      assert.equal(genesisToJson(again.value), canonical, 'the canonical form is a fixed point');
      return 'ok';
    }
    const { code, field, message } = result.error;
    assert.equal(code, isJson(text) ? 'bad-field' : 'bad-json', `code ${code} for ${isJson(text) ? 'JSON' : 'non-JSON'} text`);
    assert.equal(typeof field, 'string');
    assert.ok(message.startsWith(`${field === '' ? 'genesis' : field}:`), `the message names the field: ${message.slice(0, 200)}`);
    return code;
  },
};

export const nodeConfigTarget: FuzzTarget<TextInput> = {
  name: 'parseNodeConfig',
  input: textInputs(JSON.parse(nodeConfigToJson({ ...DEFAULT_NODE_CONFIG, moniker: 'fuzz' })) as unknown),
  check: ({ text }) => {
    const result = parseNodeConfig(text);
    if (result.ok) {
      assertBounded(result.value, Math.max(text.length, 64));
      const again = parseNodeConfig(nodeConfigToJson(result.value));
      assert.ok(again.ok, 'a written config parses');
      assert.deepEqual(again.value, result.value, 'a config survives writing and reading back');
      return 'ok';
    }
    const { source, field, message } = result.error;
    assert.equal(source, 'file');
    if (field !== '') assert.ok(message.includes(JSON.stringify(field)), `the message names field ${field}: ${message.slice(0, 200)}`);
    assert.ok(!message.includes('\n'), 'one line');
    return field === '' ? 'document' : 'field';
  },
};

const fuzzKey = keyPairFromSeed(new Uint8Array(32).fill(7));
const fuzzKeyHex = toHex(fuzzKey.seed);

export const keyFileTarget: FuzzTarget<TextInput> = {
  name: 'parseKeyFile',
  input: textInputs(keyFileJson(fuzzKey)),
  check: ({ text }) => {
    let keyPair;
    try {
      keyPair = parseKeyFile('fuzz.key.json', text);
    } catch (e) {
      assert.ok(e instanceof KeyFileError, `threw ${String(e)} rather than a KeyFileError`);
      assert.ok(e.message.startsWith('key file fuzz.key.json: '), 'the error names the file');
      // A refused key file must not echo its secret into logs or terminals.
      assert.ok(!e.message.toLowerCase().includes(fuzzKeyHex.slice(0, 16)), 'the error message leaks the private key');
      return e.reason.split(' ').slice(0, 2).join(' ');
    }
    const again = parseKeyFile('again.key.json', JSON.stringify(keyFileJson(keyPair)));
    assert.equal(toHex(again.seed), toHex(keyPair.seed), 'a key survives writing and reading back');
    return 'ok';
  },
};

// ---------------------------------------------------------------------------------------
// State proofs from JSON (what a light client reads from `account`/`query` with prove)

const arbProof: fc.Arbitrary<StateProof> = fc.oneof(
  fc.record({ kind: fc.constantFrom('member' as const, 'empty' as const), siblings: fc.array(arbHash, { maxLength: 6 }) }),
  fc.record({ kind: fc.constant('other-leaf' as const), siblings: fc.array(arbHash, { maxLength: 6 }), leafPath: arbHash, leafValueHash: arbHash }),
);

export interface ValueInput {
  readonly value: unknown;
}

export const stateProofTarget: FuzzTarget<ValueInput> = {
  name: 'stateProofFromJson',
  input: fc.oneof(
    { weight: 5, arbitrary: fc.tuple(arbProof, fc.array(arbJsonMutation, { minLength: 1, maxLength: 3 })).map(([p, ms]) => ({ value: mutateJson(stateProofToJson(p), ms) })) },
    { weight: 1, arbitrary: arbProof.map((p) => ({ value: stateProofToJson(p) })) },
    {
      weight: 1,
      arbitrary: fc.tuple(arbHash, fc.constantFrom(256, 257, 10_000)).map(([h, n]) => ({ value: { kind: 'member', siblings: Array.from({ length: n }, () => toHex(h)) } })),
    },
    { weight: 1, arbitrary: arbHostileJson.map((value) => ({ value })) },
  ),
  check: ({ value }) => {
    const result = stateProofFromJson(value);
    if (!result.ok) {
      assert.equal(typeof result.error, 'string');
      assert.match(result.error, /^proof[.:]/, `the error names the proof field: ${result.error.slice(0, 100)}`);
      return result.error.includes('unexpected for kind') ? 'proof.unexpected-field' : (result.error.split(':')[0] ?? 'error').replace(/\[\d+\]/, '[i]');
    }
    const proof = result.value;
    assert.ok(proof.siblings.length <= 256, `${proof.siblings.length} siblings`);
    for (const h of proof.siblings) assert.equal(h.length, 32);
    const again = stateProofFromJson(JSON.parse(JSON.stringify(stateProofToJson(proof))));
    assert.ok(again.ok, 'a written proof reads back');
    assert.deepEqual(stateProofToJson(again.value), stateProofToJson(proof), 'a proof survives writing and reading back');
    return 'ok';
  },
};

// ---------------------------------------------------------------------------------------
// Running

export interface TargetRun {
  readonly name: string;
  /** How often each outcome ('ok' or an error code) came up. */
  readonly outcomes: ReadonlyMap<string, number>;
  readonly runs: number;
  readonly ms: number;
  /** fast-check's report (seed, path, counterexample) when a run failed. */
  readonly failure: string | undefined;
}

export interface RunnableTarget {
  readonly name: string;
  run(params: { readonly numRuns: number; readonly seed?: number }): TargetRun;
}

function runnable<I>(target: FuzzTarget<I>): RunnableTarget {
  return {
    name: target.name,
    run: (params) => {
      const outcomes = new Map<string, number>();
      const started = performance.now();
      const property = fc.property(target.input, (input) => {
        const outcome = target.check(input);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      });
      const details = fc.check(property, { ...params, endOnFailure: false });
      return {
        name: target.name,
        outcomes,
        runs: details.numRuns,
        ms: performance.now() - started,
        failure: details.failed ? fc.defaultReportMessage(details) : undefined,
      };
    },
  };
}

export const TARGETS: readonly RunnableTarget[] = [
  runnable(txTarget),
  runnable(headerTarget),
  runnable(blockTarget),
  runnable(certificateTarget),
  runnable(messageTarget),
  runnable(syncItemTarget),
  runnable(frameTarget),
  runnable(genesisTarget),
  runnable(nodeConfigTarget),
  runnable(keyFileTarget),
  runnable(stateProofTarget),
];
