/**
 * How chain data looks in JSON-RPC results, in one place: the read methods build their
 * results from these functions, and a client parses them back with the `*FromJson`
 * functions at the bottom (which check untrusted input and never throw).
 *
 * Rules: keys are snake_case; hashes, public keys, signatures, state keys and raw state
 * values are lowercase hex; tx bytes and data values are standard base64 (with padding);
 * amounts and nonces (u64) are decimal strings; heights, views, indexes, counts and
 * timestamps (ms since the Unix epoch) are JSON numbers (safe integers).
 *
 *   HeaderJson      { chain_id, height, parent_hash, view, proposer, timestamp, tx_count,
 *                     tx_root, state_root }
 *                   The block hash is sha256 of the header's binary encoding: a client
 *                   rebuilds the header (headerFromJson) and hashes it (hashBlockHeader).
 *   CertificateJson { view, height, block_hash, signatures: [{ validator, signature }] }
 *                   2f+1 COMMIT signatures over (view, height, block_hash); check with
 *                   verifyQuorumCertificate against the genesis validators.
 *   TxJson          { hash, tx, chain_id, sender, sender_address, nonce, signature, body }
 *                   `tx` is the signed encoding (base64) and `hash` its sha256: trust the
 *                   bytes, the other fields are them decoded for convenience. `sender` is
 *                   the public key, `sender_address` its address. `body` is one of
 *                   { kind: 'transfer', to, amount } | { kind: 'put', key, value (base64) }
 *                   | { kind: 'grant', account } | { kind: 'revoke', account }.
 *   CommittedTxJson TxJson & { height, index, code: 'ok', proof? } — only valid txs are
 *                   ever included, so every committed tx's code is 'ok'. `proof` (when
 *                   asked for) is TxProofJson.
 *   TxProofJson     { tx_root, index, total, siblings: hex[] }: RFC 6962 inclusion of the
 *                   tx hash in tx_root (verifyMerkleProof). Check tx_root against the
 *                   certified header and take `total` from its tx_count.
 *   StateProofJson  { state_root, key, value, smt } with `value` null for an absent key
 *                   and `smt` the tree proof (ledger/smt stateProofToJson); check with
 *                   verifyStateProof(state_root, key, value, smt) and state_root against
 *                   the certified header at the result's `height`.
 */
import { encodeTx } from '../codec/tx.js';
import type { Result } from '../codec/result.js';
import { LIMITS, type BlockHeader, type ConsensusMessage, type QuorumCertificate, type Tx, type TxBody } from '../codec/types.js';
import { toHex, tryFromHex } from '../crypto/bytes.js';
import { HASH_LENGTH, type Hash } from '../crypto/hash.js';
import { hashBlockHeader } from '../ledger/block.js';
import type { MerkleProof } from '../ledger/merkle.js';
import { stateProofToJson, type StateProofJson as SmtProofJson } from '../ledger/smt.js';
import { hashTx, senderAddress } from '../ledger/tx.js';
import type { BlockView, CommittedTxView, CommitView, EvidenceView, HeaderView, PeerInfo, QueueStats, StateProofView, TxProof } from './api.js';

// ---------------------------------------------------------------------------------------
// Shapes

export interface HeaderJson {
  readonly chain_id: string;
  readonly height: number;
  readonly parent_hash: string;
  readonly view: number;
  readonly proposer: number;
  readonly timestamp: number;
  readonly tx_count: number;
  readonly tx_root: string;
  readonly state_root: string;
}

export interface SignatureJson {
  readonly validator: number;
  readonly signature: string;
}

export interface CertificateJson {
  readonly view: number;
  readonly height: number;
  readonly block_hash: string;
  readonly signatures: readonly SignatureJson[];
}

export type TxBodyJson =
  | { readonly kind: 'transfer'; readonly to: string; readonly amount: string }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'grant' | 'revoke'; readonly account: string };

export interface TxJson {
  readonly hash: string;
  readonly tx: string;
  readonly chain_id: string;
  readonly sender: string;
  readonly sender_address: string;
  readonly nonce: string;
  readonly signature: string;
  readonly body: TxBodyJson;
}

export interface TxProofJson {
  readonly tx_root: string;
  readonly index: number;
  readonly total: number;
  readonly siblings: readonly string[];
}

export interface CommittedTxJson extends TxJson {
  readonly height: number;
  readonly index: number;
  readonly code: 'ok';
  readonly proof?: TxProofJson;
}

/** `header {height}`. */
export interface HeaderResultJson {
  readonly hash: string;
  readonly header: HeaderJson;
}

/** `commit {height}`. */
export interface CommitResultJson extends HeaderResultJson {
  readonly certificate: CertificateJson;
}

/** `block {height}` / `block_by_hash {hash}`. */
export interface BlockResultJson extends CommitResultJson {
  readonly txs: readonly TxJson[];
}

export interface StateProofJson {
  readonly state_root: string;
  readonly key: string;
  readonly value: string | null;
  readonly smt: SmtProofJson;
}

export interface QueueStatsJson {
  readonly queued_bytes: number;
  readonly queued_frames: number;
  readonly sent_frames: number;
  readonly dropped_frames: number;
  readonly stream_open: boolean;
}

export interface PeerJson {
  readonly index: number;
  readonly role: 'validator' | 'observer';
  readonly name: string | null;
  readonly node_id: string;
  readonly address: string | null;
  readonly connected: boolean;
  readonly banned: boolean;
  readonly penalties: number;
  readonly consensus_queue: QueueStatsJson | null;
  readonly tx_queue: QueueStatsJson;
}

/**
 * A consensus message's essentials: what its signature covers, and the signature. For
 * pre-prepare, prepare and commit: kind tag + VotePayload{view, height, block_hash}; for
 * checkpoint: {height, block_hash}. (A pre-prepare's block_hash is its block's hash.)
 */
export interface MessageJson {
  readonly type: ConsensusMessage['type'];
  readonly validator: number;
  readonly view: number | null;
  readonly height: number | null;
  readonly block_hash: string | null;
  readonly signature: string | null;
}

export interface EvidenceJson {
  readonly validator: number;
  readonly kind: EvidenceView['kind'];
  readonly view: number;
  readonly height: number;
  readonly first: MessageJson;
  readonly second: MessageJson;
}

// ---------------------------------------------------------------------------------------
// To JSON

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function headerToJson(h: BlockHeader): HeaderJson {
  return {
    chain_id: h.chainId,
    height: h.height,
    parent_hash: toHex(h.parentHash),
    view: h.view,
    proposer: h.proposer,
    timestamp: h.timestamp,
    tx_count: h.txCount,
    tx_root: toHex(h.txRoot),
    state_root: toHex(h.stateRoot),
  };
}

export function certificateToJson(qc: QuorumCertificate): CertificateJson {
  return {
    view: qc.view,
    height: qc.height,
    block_hash: toHex(qc.blockHash),
    signatures: qc.signatures.map((s) => ({ validator: s.validator, signature: toHex(s.signature) })),
  };
}

export function txBodyToJson(body: TxBody): TxBodyJson {
  switch (body.kind) {
    case 'transfer':
      return { kind: body.kind, to: body.to, amount: body.amount.toString() };
    case 'put':
      return { kind: body.kind, key: body.key, value: base64(body.value) };
    case 'grant':
    case 'revoke':
      return { kind: body.kind, account: body.account };
  }
}

/** `hash` may be given when known (it is hashTx(tx), cached per tx either way). */
export function txToJson(tx: Tx, hash: Hash = hashTx(tx)): TxJson {
  return {
    hash: toHex(hash),
    // The codec caches a decoded tx's encoding, so this is no re-encoding for stored txs.
    tx: base64(encodeTx(tx)),
    chain_id: tx.chainId,
    sender: toHex(tx.sender),
    sender_address: senderAddress(tx),
    nonce: tx.nonce.toString(),
    signature: toHex(tx.signature),
    body: txBodyToJson(tx.body),
  };
}

export function txProofToJson(p: TxProof): TxProofJson {
  return { tx_root: toHex(p.txRoot), index: p.index, total: p.total, siblings: p.siblings.map(toHex) };
}

export function committedTxToJson(v: CommittedTxView): CommittedTxJson {
  const base = { ...txToJson(v.tx, v.hash), height: v.height, index: v.index, code: 'ok' as const };
  return v.proof === undefined ? base : { ...base, proof: txProofToJson(v.proof) };
}

export function headerResultToJson(v: HeaderView): HeaderResultJson {
  return { hash: toHex(v.hash), header: headerToJson(v.header) };
}

export function commitResultToJson(v: CommitView): CommitResultJson {
  return { ...headerResultToJson(v), certificate: certificateToJson(v.certificate) };
}

export function blockResultToJson(v: BlockView): BlockResultJson {
  return { ...commitResultToJson(v), txs: v.block.txs.map((tx) => txToJson(tx)) };
}

export function stateProofViewToJson(p: StateProofView): StateProofJson {
  return {
    state_root: toHex(p.stateRoot),
    key: toHex(p.key),
    value: p.value === undefined ? null : toHex(p.value),
    smt: stateProofToJson(p.proof),
  };
}

function queueStatsToJson(q: QueueStats): QueueStatsJson {
  return {
    queued_bytes: q.queuedBytes,
    queued_frames: q.queuedFrames,
    sent_frames: q.sentFrames,
    dropped_frames: q.droppedFrames,
    stream_open: q.streamOpen,
  };
}

export function peerToJson(p: PeerInfo): PeerJson {
  return {
    index: p.index,
    role: p.role,
    name: p.name ?? null,
    node_id: p.peerId,
    address: p.address ?? null,
    connected: p.connected,
    banned: p.banned,
    penalties: p.penalties,
    consensus_queue: p.consensusQueue === undefined ? null : queueStatsToJson(p.consensusQueue),
    tx_queue: queueStatsToJson(p.txQueue),
  };
}

export function messageToJson(m: ConsensusMessage): MessageJson {
  const none = { view: null, height: null, block_hash: null, signature: null };
  switch (m.type) {
    case 'pre-prepare':
      return { type: m.type, validator: m.validator, view: m.view, height: m.height, block_hash: toHex(hashBlockHeader(m.block.header)), signature: toHex(m.signature) };
    case 'prepare':
    case 'commit':
      return { type: m.type, validator: m.validator, view: m.view, height: m.height, block_hash: toHex(m.blockHash), signature: toHex(m.signature) };
    case 'checkpoint':
      return { type: m.type, validator: m.validator, view: null, height: m.height, block_hash: toHex(m.blockHash), signature: toHex(m.signature) };
    case 'view-change':
      return { ...none, type: m.type, validator: m.validator, view: m.newView, signature: toHex(m.signature) };
    case 'new-view':
      return { ...none, type: m.type, validator: m.validator, view: m.view, signature: toHex(m.signature) };
    case 'block-request':
      return { ...none, type: m.type, validator: m.validator, height: m.height, block_hash: toHex(m.blockHash) };
    case 'block-response':
      return { ...none, type: m.type, validator: m.validator, height: m.block.header.height, block_hash: toHex(hashBlockHeader(m.block.header)) };
    case 'status':
      return { ...none, type: m.type, validator: m.validator, view: m.view };
  }
}

export function evidenceToJson(e: EvidenceView): EvidenceJson {
  return { validator: e.validator, kind: e.kind, view: e.view, height: e.height, first: messageToJson(e.first), second: messageToJson(e.second) };
}

// ---------------------------------------------------------------------------------------
// From JSON (for clients: untrusted input, errors name the field)

type Parsed<T> = Result<T, string>;

function fail(error: string): Parsed<never> {
  return { ok: false, error };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function hashAt(o: Record<string, unknown>, field: string, where: string): Hash | string {
  const v = o[field];
  const bytes = typeof v === 'string' && v.length === 2 * HASH_LENGTH ? tryFromHex(v) : undefined;
  return bytes ?? `${where}.${field}: not a 32-byte hex hash`;
}

function countAt(o: Record<string, unknown>, field: string, where: string, max = Number.MAX_SAFE_INTEGER): number | string {
  const v = o[field];
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max ? v : `${where}.${field}: not an integer from 0 to ${max}`;
}

/** The header as HeaderJson describes it; hash it with hashBlockHeader to get the block hash. */
export function headerFromJson(json: unknown, where = 'header'): Parsed<BlockHeader> {
  if (!isObject(json)) return fail(`${where}: not an object`);
  const chainId = json['chain_id'];
  if (typeof chainId !== 'string' || Buffer.byteLength(chainId, 'utf8') > LIMITS.chainId) return fail(`${where}.chain_id: not a chain id`);
  const height = countAt(json, 'height', where);
  const parentHash = hashAt(json, 'parent_hash', where);
  const view = countAt(json, 'view', where);
  const proposer = countAt(json, 'proposer', where, LIMITS.validators - 1);
  const timestamp = countAt(json, 'timestamp', where);
  const txCount = countAt(json, 'tx_count', where, LIMITS.blockTxs);
  const txRoot = hashAt(json, 'tx_root', where);
  const stateRoot = hashAt(json, 'state_root', where);
  for (const v of [height, parentHash, view, proposer, timestamp, txCount, txRoot, stateRoot]) if (typeof v === 'string') return fail(v);
  return {
    ok: true,
    value: {
      chainId,
      height: height as number,
      parentHash: parentHash as Hash,
      view: view as number,
      proposer: proposer as number,
      timestamp: timestamp as number,
      txCount: txCount as number,
      txRoot: txRoot as Hash,
      stateRoot: stateRoot as Hash,
    },
  };
}

export function certificateFromJson(json: unknown, where = 'certificate'): Parsed<QuorumCertificate> {
  if (!isObject(json)) return fail(`${where}: not an object`);
  const view = countAt(json, 'view', where);
  const height = countAt(json, 'height', where);
  const blockHash = hashAt(json, 'block_hash', where);
  for (const v of [view, height, blockHash]) if (typeof v === 'string') return fail(v);
  const raw = json['signatures'];
  if (!Array.isArray(raw) || raw.length > LIMITS.validators) return fail(`${where}.signatures: not an array of at most ${LIMITS.validators}`);
  const signatures: { validator: number; signature: Uint8Array }[] = [];
  for (let i = 0; i < raw.length; i++) {
    const s: unknown = raw[i];
    const at = `${where}.signatures[${i}]`;
    if (!isObject(s)) return fail(`${at}: not an object`);
    const validator = countAt(s, 'validator', at, LIMITS.validators - 1);
    if (typeof validator === 'string') return fail(validator);
    const sig = s['signature'];
    const bytes = typeof sig === 'string' && sig.length === 128 ? tryFromHex(sig) : undefined;
    if (bytes === undefined) return fail(`${at}.signature: not a 64-byte hex signature`);
    signatures.push({ validator, signature: bytes });
  }
  return { ok: true, value: { view: view as number, height: height as number, blockHash: blockHash as Hash, signatures } };
}

/** A TxProofJson: the Merkle proof and the root it claims (compare that with the certified header's). */
export function txProofFromJson(json: unknown, where = 'proof'): Parsed<MerkleProof & { readonly txRoot: Hash }> {
  if (!isObject(json)) return fail(`${where}: not an object`);
  const txRoot = hashAt(json, 'tx_root', where);
  const index = countAt(json, 'index', where);
  const total = countAt(json, 'total', where);
  for (const v of [txRoot, index, total]) if (typeof v === 'string') return fail(v);
  const raw = json['siblings'];
  // A path in a tree of at most 2^53 leaves has at most 53 siblings.
  if (!Array.isArray(raw) || raw.length > 64) return fail(`${where}.siblings: not an array of at most 64 hashes`);
  const siblings: Hash[] = [];
  for (let i = 0; i < raw.length; i++) {
    const h = hashAt({ h: raw[i] }, 'h', `${where}.siblings[${i}]`);
    if (typeof h === 'string') return fail(`${where}.siblings[${i}]: not a 32-byte hex hash`);
    siblings.push(h);
  }
  return { ok: true, value: { txRoot: txRoot as Hash, index: index as number, total: total as number, siblings } };
}
