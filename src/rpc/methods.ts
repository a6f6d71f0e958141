import { LIMITS } from '../codec/types.js';
import { toHex } from '../crypto/bytes.js';
import { sha256 } from '../crypto/hash.js';
import type { MempoolError } from '../mempool/errors.js';
import type { NodeApi } from './api.js';
import { RPC_ERROR, RpcError } from './errors.js';
import { address, base64Bytes, integer, noParams, optional, params, required, type ParamDoc, type Params } from './params.js';

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

// ---------------------------------------------------------------------------------------
// The table

export const METHODS: readonly RpcMethod[] = [
  method({
    name: 'broadcast_tx_async',
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
      'An account in the committed state: balance, nonce, permissions, and pending_nonce, the nonce its next tx should carry ' +
      "(counting its txs waiting in this node's mempool). Amounts and nonces are decimal strings (u64).",
    params: params({ address: required('string', 'The account address: 40 lowercase hex digits.', address) }),
    handler: async ({ address: who }, api) => {
      const a = api.account(who);
      return {
        address: a.address,
        height: a.height,
        balance: a.balance.toString(),
        nonce: a.nonce.toString(),
        pending_nonce: a.pendingNonce.toString(),
        can_transact: a.canTransact,
        is_admin: a.isAdmin,
      };
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
