import { LIMITS } from '../codec/types.js';
import { fromHex, toHex } from '../crypto/bytes.js';
import { sha256 } from '../crypto/hash.js';
import { genesisHash, genesisToJsonValue } from '../ledger/genesis.js';
import { quorumSize } from '../ledger/quorum.js';
import type { MempoolError } from '../mempool/errors.js';
import { TX_SEARCH_MAX_RESULTS, type ChainQueries, type NodeApi } from './api.js';
import { RPC_ERROR, RpcError } from './errors.js';
import {
  blockResultToJson,
  commitResultToJson,
  committedTxToJson,
  evidenceToJson,
  headerResultToJson,
  peerToJson,
  stateProofViewToJson,
  txToJson,
} from './json.js';
import {
  address,
  base64Bytes,
  boolean,
  hashHex,
  integer,
  noParams,
  oneOf,
  optional,
  params,
  required,
  utf8Text,
  type ParamDoc,
  type Params,
} from './params.js';

/**
 * The JSON-RPC method table: every method is one entry here, declaring its name, its
 * params (parsed and documented from one declaration, see params.ts), a description for
 * the generated docs, and its handler. Adding a method is adding an entry to METHODS.
 *
 * Names follow CometBFT's where the meaning matches. Hashes are lowercase hex; tx bytes
 * are standard base64. Errors: see errors.ts.
 */

export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: Logger = { debug: () => {}, warn: () => {} };

export interface MethodContext {
  /** Milliseconds left before the server gives up on this call (-32013). */
  timeLeftMs(): number;
  readonly logger: Logger;
}

export interface RpcMethod<P = unknown, R = unknown> {
  readonly name: string;
  /** One or two sentences for the docs. */
  readonly description: string;
  readonly params: Params<P>;
  /**
   * The method changes the node (admits txs): when the server has a bearer token, a call
   * without it is refused -32001 (auth.ts). Reads leave this unset.
   */
  readonly write?: boolean;
  /** Method syntax on purpose: it lets a table hold methods of different param types. */
  handler(params: P, api: NodeApi, ctx: MethodContext): Promise<R>;
}

/** Declares a method with its param and result types inferred. */
export function method<P, R>(m: RpcMethod<P, R>): RpcMethod<P, R> {
  return m;
}

// ---------------------------------------------------------------------------------------
// Shared pieces

/** broadcast_tx_commit waits at most this long (and never past the server's request timeout). */
export const MAX_COMMIT_TIMEOUT_MS = 60_000;
export const DEFAULT_COMMIT_TIMEOUT_MS = 10_000;
/** Time kept back from the request deadline so a commit timeout is answered as -32012, with the hash. */
const COMMIT_REPLY_MARGIN_MS = 100;

const txParam = required('base64 string', `The signed tx, encoded (at most ${LIMITS.txBytes} bytes).`, base64Bytes(LIMITS.txBytes));

function rejection(error: MempoolError): RpcError {
  if (error.code === 'mempool-full') return new RpcError(RPC_ERROR.mempoolFull, 'mempool full', { code: error.code, message: error.message });
  return new RpcError(RPC_ERROR.txRejected, `tx rejected: ${error.code}`, { code: error.code, message: error.message });
}

/**
 * A tx whose bytes decode is identified by the hash of exactly those bytes (the codec is
 * canonical and a tx's hash is the SHA-256 of its encoding), so the hash is known before,
 * and whatever, admission says.
 */
function hashOfBytes(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}

/**
 * A resubmitted tx that has already committed is refused by the mempool as 'bad-nonce'
 * (its nonce is used). It is the same tx, so the broadcast succeeds: this is what makes
 * resubmitting after a timeout harmless and informative rather than an error.
 */
async function committedLocation(api: NodeApi, bytes: Uint8Array, error: MempoolError): Promise<{ height: number; index: number } | undefined> {
  if (error.code !== 'bad-nonce') return undefined;
  return api.txLocation(sha256(bytes));
}

// Reads: chain data as json.ts shapes it. Every list is bounded by the limits below.

/** Most headers one `blockchain` call returns. */
export const MAX_BLOCKCHAIN_HEADERS = 50;
export const MAX_PER_PAGE = 100;
export const DEFAULT_PER_PAGE = 30;
export const MAX_UNCONFIRMED_TXS = 100;

const heightSpec = (what: string) => required('integer >= 1', what, integer(1, Number.MAX_SAFE_INTEGER));
/** A block height, or the latest when absent. */
const heightParam = optional<number | undefined>(heightSpec('The block height; the latest when absent.'), undefined);
const proveParam = optional(required('boolean', 'Also return a proof (see the method).', boolean), false);

function invalidParam(param: string, why: string): RpcError {
  return new RpcError(RPC_ERROR.invalidParams, `Invalid params: ${param}: ${why}`, { param });
}

function noBlockAt(chain: ChainQueries, height: number): RpcError {
  const latest = chain.latestHeight();
  return new RpcError(RPC_ERROR.notFound, `no block at height ${height}: the latest is ${latest}`, { param: 'height', latest_height: latest });
}

/** The asked height, or the latest; -32015 before the first block. */
function heightOrLatest(chain: ChainQueries, height: number | undefined): number {
  if (height !== undefined) return height;
  const latest = chain.latestHeight();
  if (latest === 0) throw new RpcError(RPC_ERROR.notFound, 'no block is committed yet', { param: 'height', latest_height: 0 });
  return latest;
}

function notFound(param: string, what: string): RpcError {
  return new RpcError(RPC_ERROR.notFound, `${what} not found`, { param });
}

// ---------------------------------------------------------------------------------------
// The table

export const METHODS: readonly RpcMethod[] = [
  method({
    name: 'broadcast_tx_async',
    write: true,
    description:
      'Hands a tx to the mempool and returns its hash at once, before admission runs. ' +
      'A rejected tx is only logged: use broadcast_tx_sync to learn the verdict.',
    params: params({ tx: txParam }),
    handler: async ({ tx }, api, ctx) => {
      const hash = hashOfBytes(tx);
      setImmediate(() => {
        try {
          const admitted = api.submitTx(tx);
          if (!admitted.ok) ctx.logger.debug({ hash, code: admitted.error.code, reason: admitted.error.message }, 'async tx rejected');
        } catch (e) {
          ctx.logger.warn({ hash, err: e }, 'async tx submission failed');
        }
      });
      return { hash };
    },
  }),

  method({
    name: 'broadcast_tx_sync',
    write: true,
    description:
      'Submits a tx to the mempool and returns its hash once admitted (`duplicate` when it was already pending or committed), ' +
      'or a tx-rejected error (-32010) naming the admission code, or mempool full (-32011).',
    params: params({ tx: txParam }),
    handler: async ({ tx }, api) => {
      const admitted = api.submitTx(tx);
      if (admitted.ok) return { hash: toHex(admitted.value.hash), duplicate: admitted.value.duplicate };
      if ((await committedLocation(api, tx, admitted.error)) !== undefined) return { hash: hashOfBytes(tx), duplicate: true };
      throw rejection(admitted.error);
    },
  }),

  method({
    name: 'broadcast_tx_commit',
    write: true,
    description:
      'Submits a tx and waits until it commits, returning its hash, height and index in the block. ' +
      'On timeout it answers -32012 with the hash in data: the tx may still commit; ask by hash or resubmit the same bytes (harmless).',
    params: params({
      tx: txParam,
      timeout_ms: optional(
        required(`integer 1..${MAX_COMMIT_TIMEOUT_MS}`, 'How long to wait for the commit, in milliseconds.', integer(1, MAX_COMMIT_TIMEOUT_MS)),
        DEFAULT_COMMIT_TIMEOUT_MS,
      ),
    }),
    handler: async ({ tx, timeout_ms }, api, ctx) => {
      const admitted = api.submitTx(tx);
      if (!admitted.ok) {
        const location = await committedLocation(api, tx, admitted.error);
        if (location !== undefined) return { hash: hashOfBytes(tx), height: location.height, index: location.index };
        throw rejection(admitted.error);
      }
      const hash = admitted.value.hash;
      const wait = Math.max(0, Math.min(timeout_ms, ctx.timeLeftMs() - COMMIT_REPLY_MARGIN_MS));
      const location = await api.waitForCommit(hash, wait);
      if (location === undefined) {
        throw new RpcError(RPC_ERROR.commitTimeout, `tx not committed within ${wait} ms; it may still commit`, { hash: toHex(hash), timeout_ms: wait });
      }
      return { hash: toHex(hash), height: location.height, index: location.index };
    },
  }),

  method({
    name: 'status',
    description: "The node's identity and its view of the chain: latest committed block, consensus view, catch-up state, peers.",
    params: noParams,
    handler: async (_params, api) => {
      const s = api.status();
      return {
        node_id: s.nodeId,
        chain_id: s.chainId,
        validator_index: s.validatorIndex,
        latest_height: s.latestHeight,
        latest_block_hash: toHex(s.latestBlockHash),
        latest_block_time: s.latestBlockTime,
        view: s.view,
        catching_up: s.catchingUp,
        peers: s.peers,
      };
    },
  }),

  method({
    name: 'account',
    description:
      'An account in the committed state at `height`: balance, nonce, permissions, and pending_nonce, the nonce its next tx should carry ' +
      "(counting its txs waiting in this node's mempool). Amounts and nonces are decimal strings (u64). With prove, `proof` is a " +
      'StateProofJson (json.ts) against the state root of the header at `height` (fetch it with `commit {height}`).',
    params: params({ address: required('string', 'The account address: 40 lowercase hex digits.', address), prove: proveParam }),
    handler: async ({ address: who, prove }, api) => {
      const a = api.chain.account(who, prove);
      const result = {
        address: a.address,
        height: a.height,
        balance: a.balance.toString(),
        nonce: a.nonce.toString(),
        pending_nonce: a.pendingNonce.toString(),
        can_transact: a.canTransact,
        is_admin: a.isAdmin,
      };
      return a.proof === undefined ? result : { ...result, proof: stateProofViewToJson(a.proof) };
    },
  }),

  method({
    name: 'query',
    description:
      "A data record (what `put` txs write) in the committed state at `height`: `value` is base64, or null when the owner has none under `key`. " +
      'With prove, `proof` is a StateProofJson as for `account` (an absent record is proven absent).',
    params: params({
      owner: required('string', 'The owner address: 40 hex digits.', address),
      key: required(`string (1..${LIMITS.dataKey} UTF-8 bytes)`, 'The record key.', utf8Text(LIMITS.dataKey)),
      prove: proveParam,
    }),
    handler: async ({ owner, key, prove }, api) => {
      const r = api.chain.record(owner, key, prove);
      const result = { owner: r.owner, key: r.key, height: r.height, value: r.value === undefined ? null : Buffer.from(r.value).toString('base64') };
      return r.proof === undefined ? result : { ...result, proof: stateProofViewToJson(r.proof) };
    },
  }),

  method({
    name: 'block',
    description:
      'A committed block: `{ hash, header, certificate, txs }` (HeaderJson, CertificateJson, TxJson[]: see json.ts). ' +
      'The latest when height is absent; -32015 when the node has no block at that height.',
    params: params({ height: heightParam }),
    handler: async ({ height }, api) => {
      const h = heightOrLatest(api.chain, height);
      const v = await api.chain.block(h);
      if (v === undefined) throw noBlockAt(api.chain, h);
      return blockResultToJson(v);
    },
  }),

  method({
    name: 'block_by_hash',
    description: 'A committed block by its hash, shaped as for `block`; -32015 when unknown here.',
    params: params({ hash: required('hex string', 'The block hash: 64 hex digits.', hashHex) }),
    handler: async ({ hash }, api) => {
      const v = await api.chain.blockByHash(fromHex(hash));
      if (v === undefined) throw notFound('hash', `block ${hash}`);
      return blockResultToJson(v);
    },
  }),

  method({
    name: 'header',
    description: 'A committed block header: `{ hash, header }`. The latest when height is absent.',
    params: params({ height: heightParam }),
    handler: async ({ height }, api) => {
      const h = heightOrLatest(api.chain, height);
      const v = await api.chain.header(h);
      if (v === undefined) throw noBlockAt(api.chain, h);
      return headerResultToJson(v);
    },
  }),

  method({
    name: 'commit',
    description:
      "A committed header with its certificate: `{ hash, header, certificate }`. What a client checks a proof against: verify the certificate " +
      'against the genesis validators and that the header hashes to `hash`. The latest when height is absent.',
    params: params({ height: heightParam }),
    handler: async ({ height }, api) => {
      const h = heightOrLatest(api.chain, height);
      const v = await api.chain.commit(h);
      if (v === undefined) throw noBlockAt(api.chain, h);
      return commitResultToJson(v);
    },
  }),

  method({
    name: 'blockchain',
    description:
      `Headers, newest first: \`{ latest_height, headers: [{ hash, header }] }\` for heights max_height down to min_height, at most ${MAX_BLOCKCHAIN_HEADERS} ` +
      '(max_height defaults to, and is clamped to, the latest height). Page back with max_height = the last height - 1.',
    params: params({
      min_height: optional(heightSpec('The lowest height to return.'), 1),
      max_height: optional<number | undefined>(heightSpec('The highest height to return; the latest when absent.'), undefined),
    }),
    handler: async ({ min_height, max_height }, api) => {
      if (max_height !== undefined && min_height > max_height) throw invalidParam('min_height', 'must not exceed max_height');
      const latest = api.chain.latestHeight();
      const top = Math.min(max_height ?? latest, latest);
      const bottom = Math.max(min_height, top - MAX_BLOCKCHAIN_HEADERS + 1);
      const headers = top >= bottom ? await api.chain.headers(bottom, top) : [];
      return { latest_height: latest, headers: headers.map(headerResultToJson) };
    },
  }),

  method({
    name: 'tx',
    description:
      'A committed tx by hash: CommittedTxJson (json.ts): the tx, its height and index, code "ok". With prove, `proof` is its Merkle ' +
      "inclusion proof against the header's tx_root (total = the header's tx_count). -32015 when not committed (yet).",
    params: params({ hash: required('hex string', 'The tx hash: 64 hex digits.', hashHex), prove: proveParam }),
    handler: async ({ hash, prove }, api) => {
      const v = await api.chain.tx(fromHex(hash), prove);
      if (v === undefined) throw notFound('hash', `tx ${hash}`);
      return committedTxToJson(v);
    },
  }),

  method({
    name: 'tx_search',
    description:
      'Committed txs by sender and/or height range, in (height, index) order (`order` "desc": newest first), paged: ' +
      '`{ txs: CommittedTxJson[], total_count, total_capped, page, per_page }`. Counting stops at ' +
      `${TX_SEARCH_MAX_RESULTS} matches (total_capped true) and pages end there: narrow the height range to go further.`,
    params: params({
      sender: optional<string | undefined>(required('string', 'Only txs sent by this address (40 hex digits).', address), undefined),
      min_height: optional(heightSpec('The lowest height searched.'), 1),
      max_height: optional<number | undefined>(heightSpec('The highest height searched; the latest when absent.'), undefined),
      page: optional(required('integer >= 1', 'The page, from 1.', integer(1, TX_SEARCH_MAX_RESULTS)), 1),
      per_page: optional(required(`integer 1..${MAX_PER_PAGE}`, 'Txs per page.', integer(1, MAX_PER_PAGE)), DEFAULT_PER_PAGE),
      order: optional(required('"asc" | "desc"', 'Oldest first (asc) or newest first (desc).', oneOf(['asc', 'desc'] as const)), 'asc'),
    }),
    handler: async ({ sender, min_height, max_height, page, per_page, order }, api) => {
      if (max_height !== undefined && min_height > max_height) throw invalidParam('min_height', 'must not exceed max_height');
      const offset = (page - 1) * per_page;
      if (offset + per_page > TX_SEARCH_MAX_RESULTS) {
        throw invalidParam('page', `page * per_page must be at most ${TX_SEARCH_MAX_RESULTS}; narrow the height range to go further`);
      }
      const search = { minHeight: min_height, maxHeight: max_height ?? Number.MAX_SAFE_INTEGER, order, offset, limit: per_page };
      const found = await api.chain.searchTxs(sender === undefined ? search : { ...search, sender });
      return { txs: found.txs.map(committedTxToJson), total_count: found.total, total_capped: found.capped, page, per_page };
    },
  }),

  method({
    name: 'validators',
    description:
      'The validator set (from genesis): `{ count, quorum, validators: [{ index, name, address, public_key, p2p, rpc }] }`; ' +
      'a certificate needs `quorum` distinct signers.',
    params: noParams,
    handler: async (_params, api) => {
      const validators = api.chain.genesis.validators;
      return {
        count: validators.length,
        quorum: quorumSize(validators.length),
        validators: validators.map((v, index) => ({
          index,
          name: v.name,
          address: v.address,
          public_key: toHex(v.publicKey),
          p2p: v.p2p,
          rpc: v.rpc ?? null,
        })),
      };
    },
  }),

  method({
    name: 'genesis',
    description: "The chain's genesis: `{ genesis_hash, genesis }`, `genesis` exactly as the genesis file format (parseGenesis reads it).",
    params: noParams,
    handler: async (_params, api) => ({ genesis_hash: toHex(genesisHash(api.chain.genesis)), genesis: genesisToJsonValue(api.chain.genesis) }),
  }),

  method({
    name: 'net_info',
    description:
      "This node's network: `{ node_id, listen_addresses, connected_peers, peers }`, every known peer with its genesis name and address, " +
      'whether it is connected or banned, penalties, and its outbound queues.',
    params: noParams,
    handler: async (_params, api) => {
      const info = api.chain.netInfo();
      return {
        node_id: info.nodeId,
        listen_addresses: [...info.listenAddresses],
        connected_peers: info.peers.filter((p) => p.connected).length,
        peers: info.peers.map(peerToJson),
      };
    },
  }),

  method({
    name: 'num_unconfirmed_txs',
    description: "How many txs wait in this node's mempool, and their encoded bytes: `{ count, total_bytes }`.",
    params: noParams,
    handler: async (_params, api) => {
      const m = api.chain.unconfirmed(0);
      return { count: m.count, total_bytes: m.bytes };
    },
  }),

  method({
    name: 'unconfirmed_txs',
    description: `Pending txs in arrival order: \`{ count, total_bytes, txs: TxJson[] }\` with at most \`limit\` txs (at most ${MAX_UNCONFIRMED_TXS}).`,
    params: params({
      limit: optional(required(`integer 1..${MAX_UNCONFIRMED_TXS}`, 'Most txs to return.', integer(1, MAX_UNCONFIRMED_TXS)), DEFAULT_PER_PAGE),
    }),
    handler: async ({ limit }, api) => {
      const m = api.chain.unconfirmed(limit);
      return { count: m.count, total_bytes: m.bytes, txs: m.txs.map(({ tx, hash }) => txToJson(tx, hash)) };
    },
  }),

  method({
    name: 'evidence',
    description:
      'Equivocations this node has seen: `{ count, evidence: EvidenceJson[] }`, each two conflicting messages signed by one validator ' +
      'for the same slot (json.ts MessageJson: what the signature covers, and the signature).',
    params: noParams,
    handler: async (_params, api) => {
      const evidence = api.chain.evidence();
      return { count: evidence.length, evidence: evidence.map(evidenceToJson) };
    },
  }),

  method({
    name: 'health',
    description: 'Whether the node is healthy, and if not, why. Also served as GET /health (200 or 503).',
    params: noParams,
    handler: async (_params, api) => {
      const h = api.health();
      return { ok: h.ok, reasons: [...h.reasons] };
    },
  }),
];

export type MethodTable = ReadonlyMap<string, RpcMethod>;

export function methodTable(methods: readonly RpcMethod[] = METHODS): MethodTable {
  const table = new Map<string, RpcMethod>();
  for (const m of methods) {
    if (table.has(m.name)) throw new Error(`RPC method ${m.name} is declared twice`);
    table.set(m.name, m);
  }
  return table;
}

export interface MethodDoc {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamDoc[];
}

/** The table as data, for generated docs. */
export function describeMethods(methods: readonly RpcMethod[] = METHODS): MethodDoc[] {
  return methods.map((m) => ({ name: m.name, description: m.description, params: m.params.docs }));
}
