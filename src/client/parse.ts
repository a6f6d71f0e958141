/**
 * The node's JSON (shapes: src/rpc/json.ts, src/rpc/methods.ts, src/rpc/events.ts) parsed
 * into the client's types (./types.ts). A node is not trusted to be well-formed either:
 * every parser checks every field it reads and returns a Result whose error names the
 * field ("result.header.tx_root: not a 32-byte hex hash"); nothing here throws past the
 * module. Headers, certificates and proofs reuse the parsers beside their JSON shapes.
 */
import type { Result } from '../codec/result.js';
import { decodeTx } from '../codec/tx.js';
import { LIMITS, type ConsensusMessageType, type Tx, type TxKind } from '../codec/types.js';
import { isAddress, type Address } from '../crypto/address.js';
import { bytesEqual, toHex, tryFromHex } from '../crypto/bytes.js';
import { HASH_LENGTH, sha256, type Hash } from '../crypto/hash.js';
import { genesisFromJson, genesisHash } from '../ledger/genesis.js';
import { stateProofFromJson } from '../ledger/smt.js';
import { certificateFromJson, headerFromJson, txProofFromJson } from '../rpc/json.js';
import type {
  AccountInfo,
  BlockEvent,
  BlockInfo,
  Blockchain,
  BroadcastAsyncResult,
  BroadcastSyncResult,
  CommitInfo,
  CommittedTx,
  Evidence,
  GenesisInfo,
  HeaderInfo,
  MempoolSize,
  MessageSummary,
  NetInfo,
  NodeHealth,
  NodeStatus,
  PeerStatus,
  QueueStatus,
  RecordInfo,
  StateProofData,
  TxEvent,
  TxLocation,
  TxSearchPage,
  UnconfirmedTxs,
  ValidatorSet,
} from './types.js';

// ---------------------------------------------------------------------------------------
// A checked view of one JSON object

/** Internal: thrown by Fields and turned into an error Result by `parseWith`. */
class Fault {
  constructor(readonly message: string) {}
}

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL_RE = /^(?:0|[1-9][0-9]{0,19})$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TX_KINDS: readonly TxKind[] = ['transfer', 'put', 'grant', 'revoke'];
const MESSAGE_TYPES: readonly ConsensusMessageType[] = [
  'pre-prepare',
  'prepare',
  'commit',
  'checkpoint',
  'view-change',
  'new-view',
  'block-request',
  'block-response',
  'status',
];
const EVIDENCE_KINDS = ['pre-prepare', 'prepare', 'commit', 'checkpoint'] as const;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

class Fields {
  private constructor(
    private readonly o: Record<string, unknown>,
    readonly where: string,
  ) {}

  static of(json: unknown, where: string): Fields {
    if (!isObject(json)) throw new Fault(`${where}: not an object`);
    return new Fields(json, where);
  }

  private at(field: string): string {
    return `${this.where}.${field}`;
  }

  raw(field: string): unknown {
    return this.o[field];
  }

  has(field: string): boolean {
    return this.o[field] !== undefined;
  }

  int(field: string, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.o[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw new Fault(`${this.at(field)}: not an integer from 0 to ${max}`);
    return v;
  }

  intOrNull(field: string, max?: number): number | null {
    return this.o[field] === null ? null : this.int(field, max);
  }

  str(field: string): string {
    const v = this.o[field];
    if (typeof v !== 'string') throw new Fault(`${this.at(field)}: not a string`);
    return v;
  }

  strOrNull(field: string): string | null {
    return this.o[field] === null ? null : this.str(field);
  }

  bool(field: string): boolean {
    const v = this.o[field];
    if (typeof v !== 'boolean') throw new Fault(`${this.at(field)}: not a boolean`);
    return v;
  }

  /** Hex of exactly `length` bytes (any length when undefined). */
  hex(field: string, length?: number): Uint8Array {
    const v = this.o[field];
    const bytes = typeof v === 'string' && (length === undefined || v.length === 2 * length) ? tryFromHex(v) : undefined;
    if (bytes === undefined) throw new Fault(`${this.at(field)}: not ${length === undefined ? 'a hex string' : `${length}-byte hex`}`);
    return bytes;
  }

  hexOrNull(field: string, length?: number): Uint8Array | null {
    return this.o[field] === null ? null : this.hex(field, length);
  }

  hash(field: string): Hash {
    return this.hex(field, HASH_LENGTH);
  }

  /** A u64 as a decimal string. */
  u64(field: string): bigint {
    const v = this.o[field];
    const n = typeof v === 'string' && DECIMAL_RE.test(v) ? BigInt(v) : undefined;
    if (n === undefined || n > U64_MAX) throw new Fault(`${this.at(field)}: not a u64 decimal string`);
    return n;
  }

  address(field: string): Address {
    const v = this.o[field];
    if (!isAddress(v)) throw new Fault(`${this.at(field)}: not an address (40 lowercase hex digits)`);
    return v;
  }

  base64(field: string, maxBytes: number): Uint8Array {
    const v = this.o[field];
    if (typeof v !== 'string' || !BASE64_RE.test(v) || (v.length / 4) * 3 > maxBytes + 2) throw new Fault(`${this.at(field)}: not base64 of at most ${maxBytes} bytes`);
    const b = Buffer.from(v, 'base64');
    if (b.length > maxBytes) throw new Fault(`${this.at(field)}: more than ${maxBytes} bytes`);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  oneOf<T extends string>(field: string, values: readonly T[]): T {
    const v = this.o[field];
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new Fault(`${this.at(field)}: not one of ${values.join(', ')}`);
    return v as T;
  }

  obj(field: string): Fields {
    return Fields.of(this.o[field], this.at(field));
  }

  list<T>(field: string, item: (value: unknown, where: string) => T, max = 100_000): T[] {
    const v = this.o[field];
    if (!Array.isArray(v) || v.length > max) throw new Fault(`${this.at(field)}: not an array of at most ${max}`);
    return v.map((x, i) => item(x, `${this.at(field)}[${i}]`));
  }
}

/** Turns a parser result into a value, or a Fault. */
function lift<T>(result: Result<T, string>): T {
  if (!result.ok) throw new Fault(result.error);
  return result.value;
}

function parseWith<T>(json: unknown, where: string, read: (f: Fields) => T): Result<T, string> {
  try {
    return { ok: true, value: read(Fields.of(json, where)) };
  } catch (e) {
    if (e instanceof Fault) return { ok: false, error: e.message };
    // A bug here must not pass for bad input, nor escape as something else.
    return { ok: false, error: `${where}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

// ---------------------------------------------------------------------------------------
// Pieces

function hashItem(value: unknown, where: string): Hash {
  const bytes = typeof value === 'string' && value.length === 2 * HASH_LENGTH ? tryFromHex(value) : undefined;
  if (bytes === undefined) throw new Fault(`${where}: not a 32-byte hex hash`);
  return bytes;
}

function validatorItem(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= LIMITS.validators) throw new Fault(`${where}: not a validator index`);
  return value;
}

function stringItem(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Fault(`${where}: not a string`);
  return value;
}

/** A TxJson: the tx decoded from its bytes, its hash computed from them (and compared with the node's). */
function readTx(f: Fields): { hash: Hash; tx: Tx } {
  const bytes = f.base64('tx', LIMITS.txBytes);
  const decoded = decodeTx(bytes);
  if (!decoded.ok) throw new Fault(`${f.where}.tx: not a tx: ${decoded.error.message}`);
  const hash = sha256(bytes);
  if (!bytesEqual(hash, f.hash('hash'))) throw new Fault(`${f.where}.hash: is not the hash of the tx bytes (${toHex(hash)})`);
  return { hash, tx: decoded.value };
}

function readCommittedTx(f: Fields): CommittedTx {
  const { hash, tx } = readTx(f);
  const base = { hash, tx, height: f.int('height'), index: f.int('index', LIMITS.blockTxs - 1) };
  if (!f.has('proof')) return base;
  return { ...base, proof: lift(txProofFromJson(f.raw('proof'), `${f.where}.proof`)) };
}

function readStateProof(f: Fields): StateProofData {
  const value = f.raw('value') === null ? undefined : f.hex('value');
  const proof = stateProofFromJson(f.raw('smt'));
  if (!proof.ok) throw new Fault(`${f.where}.smt: ${proof.error}`);
  return { stateRoot: f.hash('state_root'), key: f.hex('key'), value, proof: proof.value };
}

function readHeaderInfo(f: Fields): HeaderInfo {
  return { hash: f.hash('hash'), header: lift(headerFromJson(f.raw('header'), `${f.where}.header`)) };
}

function readCommitInfo(f: Fields): CommitInfo {
  return { ...readHeaderInfo(f), certificate: lift(certificateFromJson(f.raw('certificate'), `${f.where}.certificate`)) };
}

function readQueue(f: Fields): QueueStatus {
  return {
    queuedBytes: f.int('queued_bytes'),
    queuedFrames: f.int('queued_frames'),
    sentFrames: f.int('sent_frames'),
    droppedFrames: f.int('dropped_frames'),
    streamOpen: f.bool('stream_open'),
  };
}

function readPeer(f: Fields): PeerStatus {
  return {
    index: f.int('index'),
    role: f.oneOf('role', ['validator', 'observer'] as const),
    name: f.strOrNull('name'),
    nodeId: f.str('node_id'),
    address: f.strOrNull('address'),
    connected: f.bool('connected'),
    banned: f.bool('banned'),
    penalties: f.int('penalties'),
    consensusQueue: f.raw('consensus_queue') === null ? null : readQueue(f.obj('consensus_queue')),
    txQueue: readQueue(f.obj('tx_queue')),
  };
}

function readMessage(f: Fields): MessageSummary {
  return {
    type: f.oneOf('type', MESSAGE_TYPES),
    validator: f.int('validator', LIMITS.validators - 1),
    view: f.intOrNull('view'),
    height: f.intOrNull('height'),
    blockHash: f.hexOrNull('block_hash', HASH_LENGTH),
    signature: f.hexOrNull('signature', 64),
  };
}

// ---------------------------------------------------------------------------------------
// Method results (`where` is 'result' unless a caller nests them)

export function parseStatus(json: unknown): Result<NodeStatus, string> {
  return parseWith(json, 'result', (f) => ({
    nodeId: f.str('node_id'),
    chainId: f.str('chain_id'),
    validatorIndex: f.intOrNull('validator_index', LIMITS.validators - 1),
    latestHeight: f.int('latest_height'),
    latestBlockHash: f.hash('latest_block_hash'),
    latestBlockTime: f.int('latest_block_time'),
    view: f.int('view'),
    catchingUp: f.bool('catching_up'),
    peers: f.int('peers'),
  }));
}

export function parseHealth(json: unknown): Result<NodeHealth, string> {
  return parseWith(json, 'result', (f) => ({ ok: f.bool('ok'), reasons: f.list('reasons', stringItem) }));
}

export function parseAccount(json: unknown): Result<AccountInfo, string> {
  return parseWith(json, 'result', (f) => {
    const base = {
      address: f.address('address'),
      height: f.int('height'),
      balance: f.u64('balance'),
      nonce: f.u64('nonce'),
      pendingNonce: f.u64('pending_nonce'),
      canTransact: f.bool('can_transact'),
      isAdmin: f.bool('is_admin'),
    };
    return f.has('proof') ? { ...base, proof: readStateProof(f.obj('proof')) } : base;
  });
}

export function parseRecord(json: unknown): Result<RecordInfo, string> {
  return parseWith(json, 'result', (f) => {
    const base = {
      owner: f.address('owner'),
      key: f.str('key'),
      height: f.int('height'),
      value: f.raw('value') === null ? undefined : f.base64('value', LIMITS.dataValue),
    };
    return f.has('proof') ? { ...base, proof: readStateProof(f.obj('proof')) } : base;
  });
}

export function parseHeaderResult(json: unknown): Result<HeaderInfo, string> {
  return parseWith(json, 'result', readHeaderInfo);
}

export function parseCommitResult(json: unknown): Result<CommitInfo, string> {
  return parseWith(json, 'result', readCommitInfo);
}

export function parseBlockResult(json: unknown): Result<BlockInfo, string> {
  return parseWith(json, 'result', (f) => {
    const commit = readCommitInfo(f);
    const txs = f.list('txs', (x, where) => readTx(Fields.of(x, where)).tx, LIMITS.blockTxs);
    return { ...commit, block: { header: commit.header, txs } };
  });
}

export function parseBlockchain(json: unknown): Result<Blockchain, string> {
  return parseWith(json, 'result', (f) => ({
    latestHeight: f.int('latest_height'),
    headers: f.list('headers', (x, where) => readHeaderInfo(Fields.of(x, where))),
  }));
}

export function parseCommittedTx(json: unknown): Result<CommittedTx, string> {
  return parseWith(json, 'result', readCommittedTx);
}

export function parseTxSearch(json: unknown): Result<TxSearchPage, string> {
  return parseWith(json, 'result', (f) => ({
    txs: f.list('txs', (x, where) => readCommittedTx(Fields.of(x, where))),
    totalCount: f.int('total_count'),
    totalCapped: f.bool('total_capped'),
    page: f.int('page'),
    perPage: f.int('per_page'),
  }));
}

export function parseValidators(json: unknown): Result<ValidatorSet, string> {
  return parseWith(json, 'result', (f) => ({
    count: f.int('count', LIMITS.validators),
    quorum: f.int('quorum', LIMITS.validators),
    validators: f.list(
      'validators',
      (x, where) => {
        const v = Fields.of(x, where);
        return { index: v.int('index'), name: v.str('name'), address: v.address('address'), publicKey: v.hex('public_key', 32), p2p: v.str('p2p'), rpc: v.strOrNull('rpc') };
      },
      LIMITS.validators,
    ),
  }));
}

export function parseGenesisResult(json: unknown): Result<GenesisInfo, string> {
  return parseWith(json, 'result', (f) => {
    const claimed = f.hash('genesis_hash');
    const parsed = genesisFromJson(f.raw('genesis'));
    if (!parsed.ok) throw new Fault(`result.genesis: ${parsed.error.message}`);
    const hash = genesisHash(parsed.value);
    if (!bytesEqual(hash, claimed)) throw new Fault(`result.genesis_hash: is not the hash of result.genesis (${toHex(hash)})`);
    return { genesisHash: hash, genesis: parsed.value };
  });
}

export function parseNetInfo(json: unknown): Result<NetInfo, string> {
  return parseWith(json, 'result', (f) => ({
    nodeId: f.str('node_id'),
    listenAddresses: f.list('listen_addresses', stringItem),
    connectedPeers: f.int('connected_peers'),
    peers: f.list('peers', (x, where) => readPeer(Fields.of(x, where))),
  }));
}

export function parseMempoolSize(json: unknown): Result<MempoolSize, string> {
  return parseWith(json, 'result', (f) => ({ count: f.int('count'), totalBytes: f.int('total_bytes') }));
}

export function parseUnconfirmed(json: unknown): Result<UnconfirmedTxs, string> {
  return parseWith(json, 'result', (f) => ({
    count: f.int('count'),
    totalBytes: f.int('total_bytes'),
    txs: f.list('txs', (x, where) => readTx(Fields.of(x, where))),
  }));
}

export function parseEvidence(json: unknown): Result<readonly Evidence[], string> {
  return parseWith(json, 'result', (f) =>
    f.list('evidence', (x, where) => {
      const e = Fields.of(x, where);
      return {
        validator: e.int('validator', LIMITS.validators - 1),
        kind: e.oneOf('kind', EVIDENCE_KINDS),
        view: e.int('view'),
        height: e.int('height'),
        first: readMessage(e.obj('first')),
        second: readMessage(e.obj('second')),
      };
    }),
  );
}

export function parseBroadcastAsync(json: unknown): Result<BroadcastAsyncResult, string> {
  return parseWith(json, 'result', (f) => ({ hash: f.hash('hash') }));
}

export function parseBroadcastSync(json: unknown): Result<BroadcastSyncResult, string> {
  return parseWith(json, 'result', (f) => ({ hash: f.hash('hash'), duplicate: f.bool('duplicate') }));
}

export function parseTxLocation(json: unknown): Result<TxLocation, string> {
  return parseWith(json, 'result', (f) => ({ hash: f.hash('hash'), height: f.int('height'), index: f.int('index') }));
}

// ---------------------------------------------------------------------------------------
// Subscription events

export function parseBlockEvent(json: unknown): Result<BlockEvent, string> {
  return parseWith(json, 'event', (f) => {
    if (f.raw('type') !== 'block') throw new Fault('event.type: not "block"');
    const c = f.obj('certificate');
    return {
      height: f.int('height'),
      hash: f.hash('hash'),
      parentHash: f.hash('parent_hash'),
      time: f.int('time'),
      view: f.int('view'),
      proposer: f.int('proposer', LIMITS.validators - 1),
      stateRoot: f.hash('state_root'),
      txCount: f.int('tx_count', LIMITS.blockTxs),
      txs: f.list('txs', hashItem, LIMITS.blockTxs),
      certificate: {
        view: c.int('view'),
        height: c.int('height'),
        blockHash: c.hash('block_hash'),
        signers: c.list('signers', validatorItem, LIMITS.validators),
      },
    };
  });
}

export function parseTxEvent(json: unknown): Result<TxEvent, string> {
  return parseWith(json, 'event', (f) => {
    if (f.raw('type') !== 'tx') throw new Fault('event.type: not "tx"');
    return {
      hash: f.hash('hash'),
      height: f.int('height'),
      index: f.int('index', LIMITS.blockTxs - 1),
      blockHash: f.hash('block_hash'),
      sender: f.address('sender'),
      kind: f.oneOf('kind', TX_KINDS),
    };
  });
}
