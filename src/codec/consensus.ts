/**
 * Consensus messages on the wire: one u8 tag, then the type's fields.
 *
 *   1 pre-prepare    view:u64 height:u64 validator:u16 block signature:[64]
 *   2 prepare        view:u64 height:u64 blockHash:[32] validator:u16 signature:[64]
 *   3 commit         view:u64 height:u64 blockHash:[32] validator:u16 signature:[64]
 *   4 checkpoint     height:u64 blockHash:[32] validator:u16 signature:[64]
 *   5 view-change    newView:u64 validator:u16 committed:QC? count:u32(<=256) preparedCert*
 *                    signature:[64]
 *   6 new-view       view:u64 validator:u16 count:u32(<=256) viewChange* signature:[64]
 *   7 block-request  validator:u16 height:u64 blockHash:[32]
 *   8 block-response validator:u16 block
 *   9 status         validator:u16 view:u64 committed:QC?
 *
 *   preparedCert   = view:u64 height:u64 header signatures
 *   viewChange     (inside new-view) = a view-change message's fields, without its tag
 *   QC, QC?, signatures, header, block: see ./block.ts
 *
 * Signed bytes: PRE-PREPARE, PREPARE and COMMIT sign `encodeVotePayload` (view:u64
 * height:u64 blockHash:[32]); CHECKPOINT signs `encodeCheckpointPayload` (height:u64
 * blockHash:[32]). VIEW-CHANGE and NEW-VIEW sign their own encoding minus the trailing
 * signature, i.e. tag + fields: `encodeViewChangeForSigning` / `encodeNewViewForSigning`.
 * A whole message is at most LIMITS.messageBytes.
 */
import { HASH_LENGTH, SIGNATURE_LENGTH } from '../crypto/pure.js';
import {
  blockParts,
  MIN_BLOCK_HEADER_BYTES,
  quorumCertificateSize,
  readBlock,
  readBlockHeader,
  readOptionalQuorumCertificate,
  writeBlockHeader,
  writeBlockParts,
  writeOptionalQuorumCertificate,
} from './block.js';
import {
  readHash,
  readSignatureList,
  readValidatorIndex,
  VALIDATOR_INDEX_BYTES,
  writeHash,
  writeSignatureList,
  writeValidatorIndex,
} from './fields.js';
import { decodeWith, type Reader } from './reader.js';
import type { CodecError, Result } from './result.js';
import {
  LIMITS,
  type Block,
  type CheckpointPayload,
  type ConsensusMessage,
  type ConsensusMessageType,
  type NewView,
  type PreparedCertificate,
  type ViewChange,
  type VotePayload,
} from './types.js';
import { Writer } from './writer.js';

export const MESSAGE_TAGS: { readonly [T in ConsensusMessageType]: number } = {
  'pre-prepare': 1,
  prepare: 2,
  commit: 3,
  checkpoint: 4,
  'view-change': 5,
  'new-view': 6,
  'block-request': 7,
  'block-response': 8,
  status: 9,
};

// Minimum encoded sizes, which bound list counts against the bytes left.
const MIN_SIGNATURE_LIST_BYTES = 4;
const MIN_PREPARED_CERT_BYTES = 8 + 8 + MIN_BLOCK_HEADER_BYTES + MIN_SIGNATURE_LIST_BYTES;
const MIN_VIEW_CHANGE_BYTES = 8 + VALIDATOR_INDEX_BYTES + 1 + 4 + SIGNATURE_LENGTH;

// ---------------------------------------------------------------------------------------
// Signed payloads

export function encodeVotePayload(p: VotePayload): Uint8Array {
  const w = new Writer(8 + 8 + HASH_LENGTH);
  w.u64(p.view);
  w.u64(p.height);
  writeHash(w, p.blockHash);
  return w.finish();
}

export function encodeCheckpointPayload(p: CheckpointPayload): Uint8Array {
  const w = new Writer(8 + HASH_LENGTH);
  w.u64(p.height);
  writeHash(w, p.blockHash);
  return w.finish();
}

export function encodeViewChangeForSigning(vc: Omit<ViewChange, 'signature'>): Uint8Array {
  const w = new Writer(1024, LIMITS.messageBytes);
  w.u8(MESSAGE_TAGS['view-change']);
  writeViewChangeFields(w, vc);
  return finishMessage(w);
}

export function encodeNewViewForSigning(nv: Omit<NewView, 'signature'>): Uint8Array {
  const w = new Writer(4096, LIMITS.messageBytes);
  w.u8(MESSAGE_TAGS['new-view']);
  writeNewViewFields(w, nv);
  return finishMessage(w);
}

// ---------------------------------------------------------------------------------------
// Messages

export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  switch (m.type) {
    case 'pre-prepare': {
      const block = blockParts(m.block);
      const w = new Writer(1 + 8 + 8 + VALIDATOR_INDEX_BYTES + block.size + SIGNATURE_LENGTH);
      w.u8(MESSAGE_TAGS['pre-prepare']).u64(m.view).u64(m.height);
      writeValidatorIndex(w, m.validator);
      writeBlockParts(w, block);
      w.fixed(m.signature, SIGNATURE_LENGTH);
      return finishMessage(w);
    }
    case 'prepare':
    case 'commit': {
      const w = new Writer(1 + 8 + 8 + HASH_LENGTH + VALIDATOR_INDEX_BYTES + SIGNATURE_LENGTH);
      w.u8(MESSAGE_TAGS[m.type]).u64(m.view).u64(m.height);
      writeHash(w, m.blockHash);
      writeValidatorIndex(w, m.validator);
      w.fixed(m.signature, SIGNATURE_LENGTH);
      return w.finish();
    }
    case 'checkpoint': {
      const w = new Writer(1 + 8 + HASH_LENGTH + VALIDATOR_INDEX_BYTES + SIGNATURE_LENGTH);
      w.u8(MESSAGE_TAGS.checkpoint).u64(m.height);
      writeHash(w, m.blockHash);
      writeValidatorIndex(w, m.validator);
      w.fixed(m.signature, SIGNATURE_LENGTH);
      return w.finish();
    }
    case 'view-change': {
      const w = new Writer(1024, LIMITS.messageBytes);
      w.u8(MESSAGE_TAGS['view-change']);
      writeViewChangeFields(w, m);
      w.fixed(m.signature, SIGNATURE_LENGTH);
      return finishMessage(w);
    }
    case 'new-view': {
      const w = new Writer(4096, LIMITS.messageBytes);
      w.u8(MESSAGE_TAGS['new-view']);
      writeNewViewFields(w, m);
      w.fixed(m.signature, SIGNATURE_LENGTH);
      return finishMessage(w);
    }
    case 'block-request': {
      const w = new Writer(1 + VALIDATOR_INDEX_BYTES + 8 + HASH_LENGTH);
      w.u8(MESSAGE_TAGS['block-request']);
      writeValidatorIndex(w, m.validator);
      w.u64(m.height);
      writeHash(w, m.blockHash);
      return w.finish();
    }
    case 'block-response': {
      const block = blockParts(m.block);
      const w = new Writer(1 + VALIDATOR_INDEX_BYTES + block.size);
      w.u8(MESSAGE_TAGS['block-response']);
      writeValidatorIndex(w, m.validator);
      writeBlockParts(w, block);
      return finishMessage(w);
    }
    case 'status': {
      const w = new Writer(1 + VALIDATOR_INDEX_BYTES + 8 + 1 + (m.committed === null ? 0 : quorumCertificateSize(m.committed)));
      w.u8(MESSAGE_TAGS.status);
      writeValidatorIndex(w, m.validator);
      w.u64(m.view);
      writeOptionalQuorumCertificate(w, m.committed);
      return w.finish();
    }
    default:
      throw new RangeError(`unknown consensus message type ${JSON.stringify((m as { type: unknown }).type)}`);
  }
}

export function decodeConsensusMessage(bytes: Uint8Array): Result<ConsensusMessage, CodecError> {
  return decodeWith(bytes, readConsensusMessage, LIMITS.messageBytes);
}

function readConsensusMessage(r: Reader): ConsensusMessage {
  const tag = r.u8();
  switch (tag) {
    case MESSAGE_TAGS['pre-prepare']: {
      const view = r.u64('view');
      const height = r.u64('height');
      const validator = readValidatorIndex(r);
      const block = readBlock(r);
      const signature = r.fixed(SIGNATURE_LENGTH, 'signature');
      return { type: 'pre-prepare', view, height, validator, block, signature };
    }
    case MESSAGE_TAGS.prepare:
    case MESSAGE_TAGS.commit: {
      const view = r.u64('view');
      const height = r.u64('height');
      const blockHash = readHash(r, 'blockHash');
      const validator = readValidatorIndex(r);
      const signature = r.fixed(SIGNATURE_LENGTH, 'signature');
      const type = tag === MESSAGE_TAGS.prepare ? 'prepare' : 'commit';
      return { type, view, height, blockHash, validator, signature };
    }
    case MESSAGE_TAGS.checkpoint: {
      const height = r.u64('height');
      const blockHash = readHash(r, 'blockHash');
      const validator = readValidatorIndex(r);
      const signature = r.fixed(SIGNATURE_LENGTH, 'signature');
      return { type: 'checkpoint', height, blockHash, validator, signature };
    }
    case MESSAGE_TAGS['view-change']:
      return readViewChangeFields(r);
    case MESSAGE_TAGS['new-view']: {
      const view = r.u64('view');
      const validator = readValidatorIndex(r);
      const n = r.count(LIMITS.validators, MIN_VIEW_CHANGE_BYTES, 'viewChanges');
      const viewChanges: ViewChange[] = [];
      for (let i = 0; i < n; i++) viewChanges.push(readViewChangeFields(r));
      const signature = r.fixed(SIGNATURE_LENGTH, 'signature');
      return { type: 'new-view', view, validator, viewChanges, signature };
    }
    case MESSAGE_TAGS['block-request']: {
      const validator = readValidatorIndex(r);
      const height = r.u64('height');
      const blockHash = readHash(r, 'blockHash');
      return { type: 'block-request', validator, height, blockHash };
    }
    case MESSAGE_TAGS['block-response']: {
      const validator = readValidatorIndex(r);
      const block = readBlock(r);
      return { type: 'block-response', validator, block };
    }
    case MESSAGE_TAGS.status: {
      const validator = readValidatorIndex(r);
      const view = r.u64('view');
      const committed = readOptionalQuorumCertificate(r);
      return { type: 'status', validator, view, committed };
    }
    default:
      return r.fail('invalid-tag', `unknown consensus message tag ${tag}`, 0);
  }
}

// ---------------------------------------------------------------------------------------
// View changes and their parts

function writeViewChangeFields(w: Writer, vc: Omit<ViewChange, 'signature'>): void {
  w.u64(vc.newView);
  writeValidatorIndex(w, vc.validator);
  writeOptionalQuorumCertificate(w, vc.committed);
  if (vc.prepared.length > LIMITS.preparedPerViewChange) {
    throw new RangeError(`${vc.prepared.length} prepared certificates exceed ${LIMITS.preparedPerViewChange}`);
  }
  w.u32(vc.prepared.length);
  for (const pc of vc.prepared) writePreparedCertificate(w, pc);
}

/** A view change's fields and signature (the tag, if any, is already read). */
function readViewChangeFields(r: Reader): ViewChange {
  const newView = r.u64('newView');
  const validator = readValidatorIndex(r);
  const committed = readOptionalQuorumCertificate(r);
  const n = r.count(LIMITS.preparedPerViewChange, MIN_PREPARED_CERT_BYTES, 'prepared');
  const prepared: PreparedCertificate[] = [];
  for (let i = 0; i < n; i++) prepared.push(readPreparedCertificate(r));
  const signature = r.fixed(SIGNATURE_LENGTH, 'signature');
  return { type: 'view-change', newView, validator, committed, prepared, signature };
}

function writeNewViewFields(w: Writer, nv: Omit<NewView, 'signature'>): void {
  w.u64(nv.view);
  writeValidatorIndex(w, nv.validator);
  if (nv.viewChanges.length > LIMITS.validators) {
    throw new RangeError(`${nv.viewChanges.length} view changes exceed ${LIMITS.validators}`);
  }
  w.u32(nv.viewChanges.length);
  for (const vc of nv.viewChanges) {
    writeViewChangeFields(w, vc);
    w.fixed(vc.signature, SIGNATURE_LENGTH);
  }
}

// ---------------------------------------------------------------------------------------
// WAL records: a replica's own signed messages, and the prepared certificates it must not
// forget (PBFT's safety needs every replica that sent COMMIT to still report, after a
// restart, the certificate behind it). A record is a message encoding (tags 1..9), the tag
// PREPARED_RECORD_TAG and a prepared certificate, or the lone tag STARTED_RECORD_TAG: this
// WAL's replica has run before, so it may have sent votes the WAL does not hold.

export const PREPARED_RECORD_TAG = 0x80;
export const STARTED_RECORD_TAG = 0x81;

export type WalRecord =
  | { readonly kind: 'message'; readonly message: ConsensusMessage }
  | { readonly kind: 'prepared'; readonly certificate: PreparedCertificate; readonly block: Block }
  | { readonly kind: 'started' };

/** The record a node appends, durably, before its first message ever leaves. */
export function encodeStartedRecord(): Uint8Array {
  return Uint8Array.of(STARTED_RECORD_TAG);
}

/**
 * A prepared certificate and the block it certifies: after a restart of every validator
 * the body may exist nowhere else, and a new view that must re-propose it needs it.
 */
export function encodePreparedRecord(pc: PreparedCertificate, block: Block): Uint8Array {
  const parts = blockParts(block);
  const w = new Writer(1 + 8 + 8 + MIN_BLOCK_HEADER_BYTES + 4 + pc.signatures.length * (VALIDATOR_INDEX_BYTES + SIGNATURE_LENGTH) + 64 + parts.size);
  w.u8(PREPARED_RECORD_TAG);
  writePreparedCertificate(w, pc);
  writeBlockParts(w, parts);
  return finishMessage(w);
}

export function decodeWalRecord(bytes: Uint8Array): Result<WalRecord, CodecError> {
  if (bytes[0] === STARTED_RECORD_TAG) {
    return decodeWith(
      bytes,
      (r) => {
        r.u8();
        return { kind: 'started' as const };
      },
    );
  }
  if (bytes[0] === PREPARED_RECORD_TAG) {
    return decodeWith(
      bytes,
      (r) => {
        r.u8();
        const certificate = readPreparedCertificate(r);
        return { kind: 'prepared' as const, certificate, block: readBlock(r) };
      },
      LIMITS.messageBytes,
    );
  }
  const message = decodeConsensusMessage(bytes);
  return message.ok ? { ok: true, value: { kind: 'message', message: message.value } } : message;
}

function writePreparedCertificate(w: Writer, pc: PreparedCertificate): void {
  w.u64(pc.view);
  w.u64(pc.height);
  writeBlockHeader(w, pc.header);
  writeSignatureList(w, pc.signatures);
}

function readPreparedCertificate(r: Reader): PreparedCertificate {
  const view = r.u64('prepared view');
  const height = r.u64('prepared height');
  const header = readBlockHeader(r);
  const signatures = readSignatureList(r, 'prepared signatures');
  return { view, height, header, signatures };
}

/** Finishes a message whose size is not bounded by its fields alone. */
function finishMessage(w: Writer): Uint8Array {
  if (w.length > LIMITS.messageBytes) throw new RangeError(`message of ${w.length} bytes exceeds ${LIMITS.messageBytes}`);
  return w.finish();
}
