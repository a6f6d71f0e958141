import { MAX_BLOCK_HEADER_BYTES } from '../codec/block.js';
import type { Result } from '../codec/result.js';
import { LIMITS } from '../codec/types.js';
import { Writer } from '../codec/writer.js';
import { addressOf, isAddress, type Address } from '../crypto/address.js';
import { toHex, tryFromHex, utf8 } from '../crypto/bytes.js';
import { PUBLIC_KEY_LENGTH, type PublicKey } from '../crypto/ed25519.js';
import { sha256, type Hash } from '../crypto/hash.js';
import { encodeAccount, isEmptyAccount } from './account.js';
import { faultTolerance } from './quorum.js';
import { SparseMerkleTree } from './smt.js';
import { accountKey, LedgerState } from './state.js';

/**
 * The genesis file: the chain's identity, its validator set, its initial accounts and the
 * consensus parameters every validator must share. It is JSON for people; its identity
 * (`genesisHash`, the parent hash of block 1) is the hash of a canonical binary encoding,
 * so whitespace, key order and account order in the file do not matter.
 *
 *   {
 *     "chainId": "ledger-devnet",
 *     "genesisTime": 1767225600000,
 *     "validators": [{ "name": "v0", "publicKey": "<64 hex>", "p2p": "/ip4/127.0.0.1/tcp/26656",
 *                      "rpc": "http://127.0.0.1:26657" }],
 *     "accounts": [{ "address": "<40 hex>", "balance": "1000000", "canTransact": true, "isAdmin": true }],
 *     "consensus": { "maxBlockTxs": 10000, ... }
 *   }
 */

export interface GenesisValidator {
  /** A label for logs and metrics. */
  readonly name: string;
  readonly publicKey: PublicKey;
  /** addressOf(publicKey); a file may state it, and then it must match. */
  readonly address: Address;
  /** Where peers dial this validator: a multiaddr such as /ip4/127.0.0.1/tcp/26656. */
  readonly p2p: string;
  /** Where clients may reach its JSON-RPC (http or https URL). */
  readonly rpc?: string;
}

export interface GenesisAccount {
  readonly address: Address;
  /** u64. */
  readonly balance: bigint;
  readonly canTransact: boolean;
  readonly isAdmin: boolean;
}

export interface ConsensusParams {
  /** Txs per block. */
  readonly maxBlockTxs: number;
  /** Sum of the encoded sizes of a block's txs. */
  readonly maxBlockBytes: number;
  /** Heights between checkpoints (PBFT's K). */
  readonly checkpointInterval: number;
  /** Heights that may be in flight above the last stable checkpoint (PBFT's watermark window). */
  readonly windowSize: number;
  /** The first view's timeout; it doubles on each failed view... */
  readonly viewTimeoutMs: number;
  /** ...up to this. */
  readonly maxViewTimeoutMs: number;
}

export interface Genesis {
  readonly chainId: string;
  /** Milliseconds since the Unix epoch: the "parent timestamp" of block 1. */
  readonly genesisTime: number;
  readonly validators: readonly GenesisValidator[];
  readonly accounts: readonly GenesisAccount[];
  readonly consensus: ConsensusParams;
}

export interface GenesisError {
  /** 'bad-json': the text is not JSON; 'bad-field': `field` is missing or invalid. */
  readonly code: 'bad-json' | 'bad-field';
  /** Path of the offending field, such as `validators[2].publicKey` ('' for the whole file). */
  readonly field: string;
  /** `<field>: <what is wrong>`. */
  readonly message: string;
}

export const DEFAULT_CONSENSUS_PARAMS: ConsensusParams = Object.freeze({
  maxBlockTxs: 10_000,
  maxBlockBytes: 4 * 1024 * 1024,
  checkpointInterval: 50,
  windowSize: 100,
  viewTimeoutMs: 2_000,
  maxViewTimeoutMs: 60_000,
});

/** The most tx bytes a block can carry: the codec frames txs with one u32 count after the header. */
const MAX_BLOCK_TX_BYTES = LIMITS.blockBytes - MAX_BLOCK_HEADER_BYTES - 4;

const PARAM_BOUNDS: Readonly<Record<keyof ConsensusParams, readonly [number, number]>> = {
  maxBlockTxs: [1, LIMITS.blockTxs],
  maxBlockBytes: [LIMITS.txBytes, MAX_BLOCK_TX_BYTES],
  checkpointInterval: [1, LIMITS.preparedPerViewChange],
  // A VIEW-CHANGE carries one prepared certificate per height in flight.
  windowSize: [1, LIMITS.preparedPerViewChange],
  viewTimeoutMs: [10, 600_000],
  maxViewTimeoutMs: [10, 3_600_000],
};

const MAX_GENESIS_ACCOUNTS = 1_000_000;
const MAX_NAME_BYTES = 64;
const MAX_ENDPOINT_BYTES = 256;
const U64_MAX = (1n << 64n) - 1n;

const CHAIN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DECIMAL_RE = /^(?:0|[1-9][0-9]*)$/;

// ---------------------------------------------------------------------------------------
// Parsing

/** Internal: thrown by the field checkers below and turned into a GenesisError at the edge. */
class FieldFault {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {}
}

function fail(field: string, reason: string): never {
  throw new FieldFault(field, reason);
}

type JsonObject = Record<string, unknown>;

function object(value: unknown, field: string, allowed: readonly string[]): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'expected an object');
  const obj = value as JsonObject;
  for (const key of Object.keys(obj)) {
    // Unknown keys are refused: a misspelt parameter must not silently fall back to a default.
    if (!allowed.includes(key)) fail(join(field, key), `unknown field (expected one of ${allowed.join(', ')})`);
  }
  return obj;
}

function join(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function string(value: unknown, field: string): string {
  if (value === undefined) fail(field, 'missing');
  if (typeof value !== 'string') fail(field, 'expected a string');
  return value;
}

function boolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(field, 'expected true or false');
  return value;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (value === undefined) fail(field, 'missing');
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(field, 'expected an integer');
  if (value < min || value > max) fail(field, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function array(value: unknown, field: string, min: number, max: number): readonly unknown[] {
  if (value === undefined) fail(field, 'missing');
  if (!Array.isArray(value)) fail(field, 'expected an array');
  if (value.length < min || value.length > max) fail(field, `must have ${min} to ${max} entries, got ${value.length}`);
  return value;
}

function parseChainId(value: unknown): string {
  const chainId = string(value, 'chainId');
  const bytes = utf8(chainId).length;
  if (bytes === 0 || bytes > LIMITS.chainId) fail('chainId', `must be 1 to ${LIMITS.chainId} bytes`);
  if (!CHAIN_ID_RE.test(chainId)) fail('chainId', 'may hold only letters, digits, ".", "_" and "-", starting with a letter or digit');
  return chainId;
}

function parseBalance(value: unknown, field: string): bigint {
  if (value === undefined) fail(field, 'missing');
  // JSON numbers lose precision above 2^53, so amounts are decimal strings.
  if (typeof value !== 'string') fail(field, 'expected a decimal string such as "1000"');
  if (!DECIMAL_RE.test(value)) fail(field, `expected a non-negative whole number without leading zeros, got ${JSON.stringify(value)}`);
  const n = BigInt(value);
  if (n > U64_MAX) fail(field, `exceeds the u64 maximum ${U64_MAX}`);
  return n;
}

function isPort(text: string): boolean {
  if (!/^[0-9]{1,5}$/.test(text)) return false;
  const port = Number(text);
  return port >= 1 && port <= 65_535;
}

function isIp4(text: string): boolean {
  const octets = text.split('.');
  return octets.length === 4 && octets.every((o) => /^(?:0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255);
}

/**
 * A deliberately small multiaddr check: `/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>`, then
 * optionally `/ws` or `/wss`, then optionally `/p2p/<peer id>`. It catches typos early; the
 * network layer parses it for real.
 */
function multiaddrProblem(text: string): string | undefined {
  const parts = text.split('/');
  if (parts[0] !== '') return 'must start with "/"';
  const [, proto, host, tcp, port, ...rest] = parts;
  if (proto === 'ip4') {
    if (host === undefined || !isIp4(host)) return 'bad IPv4 address';
  } else if (proto === 'ip6') {
    if (host === undefined || !/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(':')) return 'bad IPv6 address';
  } else if (proto === 'dns' || proto === 'dns4' || proto === 'dns6') {
    if (host === undefined || !/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) return 'bad host name';
  } else {
    return 'must begin with /ip4, /ip6, /dns, /dns4 or /dns6';
  }
  if (tcp !== 'tcp' || port === undefined || !isPort(port)) return 'expected /tcp/<port 1-65535> after the host';
  let i = 0;
  if (rest[i] === 'ws' || rest[i] === 'wss') i += 1;
  if (rest[i] === 'p2p') {
    const id = rest[i + 1];
    if (id === undefined || !/^[1-9A-HJ-NP-Za-km-z]+$/.test(id)) return 'bad /p2p peer id';
    i += 2;
  }
  if (i !== rest.length) return `unexpected "/${rest.slice(i).join('/')}"`;
  return undefined;
}

function parseValidator(value: unknown, field: string): GenesisValidator {
  const v = object(value, field, ['name', 'publicKey', 'address', 'p2p', 'rpc']);
  const name = string(v.name, `${field}.name`);
  if (utf8(name).length > MAX_NAME_BYTES || !NAME_RE.test(name)) {
    fail(`${field}.name`, `must be 1 to ${MAX_NAME_BYTES} letters, digits, ".", "_" or "-"`);
  }
  const keyHex = string(v.publicKey, `${field}.publicKey`);
  const publicKey = /^[0-9a-fA-F]*$/.test(keyHex) ? tryFromHex(keyHex) : undefined;
  if (publicKey === undefined || publicKey.length !== PUBLIC_KEY_LENGTH) {
    fail(`${field}.publicKey`, `expected ${PUBLIC_KEY_LENGTH * 2} hex characters`);
  }
  const address = addressOf(publicKey);
  if (v.address !== undefined && v.address !== address) {
    fail(`${field}.address`, `does not match the public key (expected ${address})`);
  }
  const p2p = string(v.p2p, `${field}.p2p`);
  const p2pProblem = p2p.length > MAX_ENDPOINT_BYTES ? `longer than ${MAX_ENDPOINT_BYTES} characters` : multiaddrProblem(p2p);
  if (p2pProblem !== undefined) fail(`${field}.p2p`, `not a usable multiaddr (${p2pProblem})`);
  if (v.rpc === undefined) return { name, publicKey, address, p2p };
  const rpc = string(v.rpc, `${field}.rpc`);
  if (rpc.length > MAX_ENDPOINT_BYTES || !isHttpUrl(rpc)) fail(`${field}.rpc`, 'expected an http:// or https:// URL');
  return { name, publicKey, address, p2p, rpc };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function parseAccount(value: unknown, field: string): GenesisAccount {
  const a = object(value, field, ['address', 'balance', 'canTransact', 'isAdmin']);
  const address = string(a.address, `${field}.address`);
  if (!isAddress(address)) fail(`${field}.address`, 'expected 40 lowercase hex characters');
  return {
    address,
    balance: parseBalance(a.balance, `${field}.balance`),
    canTransact: boolean(a.canTransact, `${field}.canTransact`, false),
    isAdmin: boolean(a.isAdmin, `${field}.isAdmin`, false),
  };
}

function parseConsensus(value: unknown): ConsensusParams {
  if (value === undefined) return DEFAULT_CONSENSUS_PARAMS;
  const keys = Object.keys(PARAM_BOUNDS) as (keyof ConsensusParams)[];
  const c = object(value, 'consensus', keys);
  const out = { ...DEFAULT_CONSENSUS_PARAMS };
  for (const key of keys) {
    const [min, max] = PARAM_BOUNDS[key];
    if (c[key] !== undefined) out[key] = integer(c[key], `consensus.${key}`, min, max);
  }
  // The window must reach the next checkpoint, or no checkpoint ever becomes stable and
  // the window never moves.
  if (out.windowSize < out.checkpointInterval) {
    fail('consensus.windowSize', `must be at least checkpointInterval (${out.checkpointInterval}), got ${out.windowSize}`);
  }
  if (out.maxViewTimeoutMs < out.viewTimeoutMs) {
    fail('consensus.maxViewTimeoutMs', `must be at least viewTimeoutMs (${out.viewTimeoutMs}), got ${out.maxViewTimeoutMs}`);
  }
  return out;
}

function parseGenesisValue(json: unknown): Genesis {
  const g = object(json, '', ['chainId', 'genesisTime', 'validators', 'accounts', 'consensus']);
  const chainId = parseChainId(g.chainId);
  const genesisTime = integer(g.genesisTime, 'genesisTime', 0, Number.MAX_SAFE_INTEGER);

  const validators = array(g.validators, 'validators', 1, LIMITS.validators).map((v, i) => parseValidator(v, `validators[${i}]`));
  const seen = { key: new Map<string, number>(), name: new Map<string, number>(), p2p: new Map<string, number>() };
  validators.forEach((v, i) => {
    const checks = [
      ['key', toHex(v.publicKey), 'publicKey'],
      ['name', v.name, 'name'],
      ['p2p', v.p2p, 'p2p'],
    ] as const;
    for (const [kind, id, fieldName] of checks) {
      const first = seen[kind].get(id);
      if (first !== undefined) fail(`validators[${i}].${fieldName}`, `duplicates validators[${first}].${fieldName}`);
      seen[kind].set(id, i);
    }
  });

  const accounts = array(g.accounts ?? [], 'accounts', 0, MAX_GENESIS_ACCOUNTS).map((a, i) => parseAccount(a, `accounts[${i}]`));
  const seenAddress = new Map<string, number>();
  let supply = 0n;
  accounts.forEach((a, i) => {
    const first = seenAddress.get(a.address);
    if (first !== undefined) fail(`accounts[${i}].address`, `duplicates accounts[${first}].address`);
    seenAddress.set(a.address, i);
    supply += a.balance;
  });
  // No tx creates money, so a total supply within u64 means no balance can ever overflow.
  if (supply > U64_MAX) fail('accounts', `total balance ${supply} exceeds the u64 maximum ${U64_MAX}`);

  return { chainId, genesisTime, validators, accounts, consensus: parseConsensus(g.consensus) };
}

/** Checks an already-parsed JSON value (see the format above). */
export function genesisFromJson(json: unknown): Result<Genesis, GenesisError> {
  try {
    return { ok: true, value: parseGenesisValue(json) };
  } catch (e) {
    if (!(e instanceof FieldFault)) throw e;
    const where = e.field === '' ? 'genesis' : e.field;
    return { ok: false, error: { code: 'bad-field', field: e.field, message: `${where}: ${e.reason}` } };
  }
}

export function parseGenesis(text: string): Result<Genesis, GenesisError> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { code: 'bad-json', field: '', message: `genesis: not valid JSON (${detail})` } };
  }
  return genesisFromJson(json);
}

// ---------------------------------------------------------------------------------------
// Writing back

export interface GenesisJson {
  chainId: string;
  genesisTime: number;
  validators: { name: string; publicKey: string; address: string; p2p: string; rpc?: string }[];
  accounts: { address: string; balance: string; canTransact: boolean; isAdmin: boolean }[];
  consensus: Record<keyof ConsensusParams, number>;
}

/** The JSON value that genesisFromJson reads back as an equal Genesis. */
export function genesisToJsonValue(g: Genesis): GenesisJson {
  return {
    chainId: g.chainId,
    genesisTime: g.genesisTime,
    validators: g.validators.map((v) => ({
      name: v.name,
      publicKey: toHex(v.publicKey),
      address: v.address,
      p2p: v.p2p,
      ...(v.rpc === undefined ? {} : { rpc: v.rpc }),
    })),
    accounts: g.accounts.map((a) => ({
      address: a.address,
      balance: a.balance.toString(),
      canTransact: a.canTransact,
      isAdmin: a.isAdmin,
    })),
    consensus: { ...g.consensus },
  };
}

/** The genesis file's text (two-space indented, trailing newline). */
export function genesisToJson(g: Genesis): string {
  return `${JSON.stringify(genesisToJsonValue(g), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------
// Identity and initial state

const GENESIS_TAG = 'ledger/v1/genesis';
/** address, balance, two flags. */
const GENESIS_ACCOUNT_BYTES = 20 + 8 + 1 + 1;
const hashes = new WeakMap<Genesis, Hash>();

/**
 * The canonical bytes behind genesisHash. They cover what decides the chain's history:
 * chain id, time, the validator keys in order (their index is their identity in blocks and
 * certificates), the accounts (sorted by address, as the state is a set) and the consensus
 * parameters. Validator names and network endpoints are left out: they are operational, and
 * a validator that moves to a new IP must not become a different chain.
 */
export function encodeGenesis(g: Genesis): Uint8Array {
  const size =
    4 + GENESIS_TAG.length + 4 + utf8(g.chainId).length + 8 + 2 + PUBLIC_KEY_LENGTH * g.validators.length + 4 + GENESIS_ACCOUNT_BYTES * g.accounts.length + 4 * 6;
  const w = new Writer(size);
  w.string(GENESIS_TAG, 64);
  w.string(g.chainId, LIMITS.chainId);
  w.u64(g.genesisTime);
  w.u16(g.validators.length);
  for (const v of g.validators) w.fixed(v.publicKey, PUBLIC_KEY_LENGTH);
  // Addresses are equal-length lowercase hex, so string order is byte order.
  const accounts = [...g.accounts].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  w.u32(accounts.length);
  for (const a of accounts) {
    w.address(a.address);
    w.u64n(a.balance);
    w.bool(a.canTransact);
    w.bool(a.isAdmin);
  }
  const c = g.consensus;
  for (const n of [c.maxBlockTxs, c.maxBlockBytes, c.checkpointInterval, c.windowSize, c.viewTimeoutMs, c.maxViewTimeoutMs]) {
    w.u32(n);
  }
  return w.finish();
}

export function genesisHash(g: Genesis): Hash {
  let h = hashes.get(g);
  if (h === undefined) {
    h = sha256(encodeGenesis(g));
    hashes.set(g, h);
  }
  return h;
}

export function genesisState(g: Genesis): LedgerState {
  const entries: [Uint8Array, Uint8Array][] = [];
  for (const a of g.accounts) {
    const account = { balance: a.balance, nonce: 0n, canTransact: a.canTransact, isAdmin: a.isAdmin };
    if (!isEmptyAccount(account)) entries.push([accountKey(a.address), encodeAccount(account)]);
  }
  return LedgerState.fromTree(SparseMerkleTree.fromEntries(entries));
}

/** What block 1's header links to: height 0, the genesis hash, the genesis time. */
export function genesisParentLink(g: Genesis): { readonly height: number; readonly hash: Hash; readonly timestamp: number } {
  return { height: 0, hash: genesisHash(g), timestamp: g.genesisTime };
}

/** The validators' public keys in genesis order (what certificates are checked against). */
export function validatorKeys(g: Genesis): readonly PublicKey[] {
  return g.validators.map((v) => v.publicKey);
}

/** f: how many faulty validators the set tolerates. */
export function genesisFaultTolerance(g: Genesis): number {
  return faultTolerance(g.validators.length);
}
