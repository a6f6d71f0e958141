/**
 * LedgerClient: a typed client for a node's JSON-RPC (every method of src/rpc/methods.ts),
 * tx building and signing, WebSocket subscriptions, submit-and-wait, and reads verified
 * against the genesis (trusting no node).
 *
 *   const client = new LedgerClient({ url: 'http://127.0.0.1:26657' });
 *   const tx = await client.transfer({ from: keyPair, to: address, amount: 10n });
 *   const { height } = await client.submitAndWait(tx);
 *   const account = await client.verifiedAccount(address, genesis);
 *   client.close();
 *
 * Every failure is a ClientError (errors.ts) with a discriminated `code`.
 */
import type { Result } from '../codec/result.js';
import { encodeTx } from '../codec/tx.js';
import { LIMITS, type Tx, type TxBody } from '../codec/types.js';
import { addressOf, isAddress, type Address } from '../crypto/address.js';
import { bytesEqual, fromHex, toHex, utf8 } from '../crypto/bytes.js';
import type { KeyPair } from '../crypto/ed25519.js';
import { sha256, type Hash } from '../crypto/hash.js';
import type { Genesis } from '../ledger/genesis.js';
import { signTx } from '../ledger/tx.js';
import { badResponse, ClientError, invalidArgument } from './errors.js';
import * as parse from './parse.js';
import { EventSocket } from './socket.js';
import { HttpTransport, DEFAULT_TIMEOUT_MS } from './transport.js';
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
  NetInfo,
  NodeHealth,
  NodeStatus,
  RecordInfo,
  TxEvent,
  TxLocation,
  TxSearchOptions,
  TxSearchPage,
  UnconfirmedTxs,
  ValidatorSet,
} from './types.js';
import {
  verifyAccount,
  verifyBlock,
  verifyCommit,
  verifyRecord,
  verifyTx,
  type VerifiedAccount,
  type VerifiedBlock,
  type VerifiedCommit,
  type VerifiedRecord,
  type VerifiedTx,
} from './verify.js';

export interface LedgerClientOptions {
  /** The node's JSON-RPC URL, such as http://127.0.0.1:26657 (WebSockets go to <url>/websocket). */
  readonly url: string;
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
  /** The node's bearer token (rpcAuthToken), needed for broadcast_tx_* when the node has one. */
  readonly token?: string;
}

/** A live subscription. */
export interface Subscription {
  readonly id: string;
  /** Ends it; harmless when it has ended already. */
  unsubscribe(): Promise<void>;
  /**
   * Resolves when it ends: undefined when unsubscribed or the client closed, a ClientError
   * when the WebSocket failed or the node sent an event that does not parse.
   */
  readonly ended: Promise<ClientError | undefined>;
}

/** Whose committed txs to follow: one sender's, or the one tx with this hash. */
export type TxFilter = { readonly sender: Address } | { readonly hash: Hash | string };

/** Fields every tx builder takes: the signing key, and the nonce (the node's pending_nonce when absent). */
export interface TxBuildOptions {
  readonly from: KeyPair;
  readonly nonce?: bigint;
}

export interface SubmitOptions {
  /** How long to wait for the commit; default 30 s. */
  readonly timeoutMs?: number;
}

/** submitAndWait's polling (when the WebSocket is unavailable) starts at this interval and doubles up to the max. */
const POLL_START_MS = 100;
const POLL_MAX_MS = 1_000;
const HASH_HEX_RE = /^[0-9a-f]{64}$/;
/** A lone UTF-16 surrogate has no UTF-8 encoding (the codec refuses such strings). */
const LONE_SURROGATE = /\p{Surrogate}/u;
/** Failures that say nothing about the tx, only that this one ask went unanswered. */
const TRANSIENT: ReadonlySet<string> = new Set(['transport', 'timeout', 'http']);

function hashParam(hash: Hash | string, argument = 'hash'): string {
  const hex = typeof hash === 'string' ? hash.toLowerCase() : toHex(hash);
  if (!HASH_HEX_RE.test(hex)) throw invalidArgument(argument, 'not a 32-byte hash (64 hex digits)');
  return hex;
}

function addressParam(address: string, argument = 'address'): Address {
  const lower = typeof address === 'string' ? address.toLowerCase() : '';
  if (!isAddress(lower)) throw invalidArgument(argument, 'not an address (40 hex digits)');
  return lower;
}

function heightParam(height: number | undefined): Record<string, unknown> {
  if (height === undefined) return {};
  if (!Number.isSafeInteger(height) || height < 1) throw invalidArgument('height', 'not an integer >= 1');
  return { height };
}

function txBytes(tx: Tx | Uint8Array): Uint8Array {
  return tx instanceof Uint8Array ? tx : encodeTx(tx);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function unwrap<T>(method: string, result: Result<T, string>): T {
  if (!result.ok) throw badResponse(method, result.error);
  return result.value;
}

/** A node that names a submitted tx by another hash than its bytes' is answering about something else. */
function sameHash<T extends { readonly hash: Hash }>(method: string, bytes: Uint8Array, result: T): T {
  const hash = sha256(bytes);
  if (!bytesEqual(result.hash, hash)) throw badResponse(method, `the node names the tx ${toHex(result.hash)}, its hash is ${toHex(hash)}`);
  return result;
}

function check<T>(result: Result<T, ClientError>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

export class LedgerClient {
  readonly url: string;
  private readonly http: HttpTransport;
  private socket: Promise<EventSocket> | undefined;
  private cachedChainId: string | undefined;
  private closed = false;
  /** subscribe() calls between fetching the socket and holding a subscription on it. */
  private subscribing = 0;

  constructor(options: LedgerClientOptions) {
    try {
      const url = new URL(options.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    } catch {
      throw invalidArgument('url', `${JSON.stringify(options.url)} is not an http(s) URL`);
    }
    this.url = options.url;
    this.http = new HttpTransport(options);
  }

  /** Calls any method by name and returns its raw JSON result (for methods newer than this client). */
  async call(method: string, params: Record<string, unknown> = {}, timeoutMs?: number): Promise<unknown> {
    if (this.closed) throw new ClientError({ code: 'closed' }, `${method}: the client is closed`);
    return this.http.call(method, params, timeoutMs);
  }

  // -------------------------------------------------------------------------------------
  // Node

  async status(): Promise<NodeStatus> {
    const status = unwrap('status', parse.parseStatus(await this.call('status')));
    this.cachedChainId ??= status.chainId;
    return status;
  }

  async health(): Promise<NodeHealth> {
    return unwrap('health', parse.parseHealth(await this.call('health')));
  }

  async netInfo(): Promise<NetInfo> {
    return unwrap('net_info', parse.parseNetInfo(await this.call('net_info')));
  }

  async validators(): Promise<ValidatorSet> {
    return unwrap('validators', parse.parseValidators(await this.call('validators')));
  }

  /** The node's genesis (its hash checked). Trusting it is trusting the node: prefer your own copy of the file. */
  async genesis(): Promise<GenesisInfo> {
    return unwrap('genesis', parse.parseGenesisResult(await this.call('genesis')));
  }

  async evidence(): Promise<readonly Evidence[]> {
    return unwrap('evidence', parse.parseEvidence(await this.call('evidence')));
  }

  async numUnconfirmedTxs(): Promise<MempoolSize> {
    return unwrap('num_unconfirmed_txs', parse.parseMempoolSize(await this.call('num_unconfirmed_txs')));
  }

  async unconfirmedTxs(options: { readonly limit?: number } = {}): Promise<UnconfirmedTxs> {
    const params = options.limit === undefined ? {} : { limit: options.limit };
    return unwrap('unconfirmed_txs', parse.parseUnconfirmed(await this.call('unconfirmed_txs', params)));
  }

  // -------------------------------------------------------------------------------------
  // State (unverified: what the node says; see verified* below)

  async account(address: Address, options: { readonly prove?: boolean } = {}): Promise<AccountInfo> {
    const params = { address: addressParam(address), prove: options.prove === true };
    return unwrap('account', parse.parseAccount(await this.call('account', params)));
  }

  /** A data record (what `put` writes); `value` undefined when there is none. */
  async query(owner: Address, key: string, options: { readonly prove?: boolean } = {}): Promise<RecordInfo> {
    const params = { owner: addressParam(owner, 'owner'), key, prove: options.prove === true };
    return unwrap('query', parse.parseRecord(await this.call('query', params)));
  }

  // -------------------------------------------------------------------------------------
  // Chain

  /** The block at `height` (the latest when absent). */
  async block(height?: number): Promise<BlockInfo> {
    return unwrap('block', parse.parseBlockResult(await this.call('block', heightParam(height))));
  }

  async blockByHash(hash: Hash | string): Promise<BlockInfo> {
    return unwrap('block_by_hash', parse.parseBlockResult(await this.call('block_by_hash', { hash: hashParam(hash) })));
  }

  async header(height?: number): Promise<HeaderInfo> {
    return unwrap('header', parse.parseHeaderResult(await this.call('header', heightParam(height))));
  }

  /** A header with its certificate (what proofs are checked against). */
  async commit(height?: number): Promise<CommitInfo> {
    return unwrap('commit', parse.parseCommitResult(await this.call('commit', heightParam(height))));
  }

  /** Headers from maxHeight (default: the latest) down to minHeight, at most 50, newest first. */
  async blockchain(options: { readonly minHeight?: number; readonly maxHeight?: number } = {}): Promise<Blockchain> {
    const params: Record<string, unknown> = {};
    if (options.minHeight !== undefined) params['min_height'] = options.minHeight;
    if (options.maxHeight !== undefined) params['max_height'] = options.maxHeight;
    return unwrap('blockchain', parse.parseBlockchain(await this.call('blockchain', params)));
  }

  /** A committed tx by hash; ClientError 'not-found' while it is not committed. */
  async tx(hash: Hash | string, options: { readonly prove?: boolean } = {}): Promise<CommittedTx> {
    const params = { hash: hashParam(hash), prove: options.prove === true };
    return unwrap('tx', parse.parseCommittedTx(await this.call('tx', params)));
  }

  async txSearch(options: TxSearchOptions = {}): Promise<TxSearchPage> {
    const params: Record<string, unknown> = {};
    if (options.sender !== undefined) params['sender'] = addressParam(options.sender, 'sender');
    if (options.minHeight !== undefined) params['min_height'] = options.minHeight;
    if (options.maxHeight !== undefined) params['max_height'] = options.maxHeight;
    if (options.page !== undefined) params['page'] = options.page;
    if (options.perPage !== undefined) params['per_page'] = options.perPage;
    if (options.order !== undefined) params['order'] = options.order;
    return unwrap('tx_search', parse.parseTxSearch(await this.call('tx_search', params)));
  }

  // -------------------------------------------------------------------------------------
  // Submitting

  /** Hands the tx over and returns its hash at once, before admission (a rejection is only logged by the node). */
  async broadcastTxAsync(tx: Tx | Uint8Array): Promise<BroadcastAsyncResult> {
    const bytes = txBytes(tx);
    const result = unwrap('broadcast_tx_async', parse.parseBroadcastAsync(await this.call('broadcast_tx_async', { tx: base64(bytes) })));
    return sameHash('broadcast_tx_async', bytes, result);
  }

  /** Admission's verdict: the hash, or ClientError 'tx-rejected' (info.reason) / 'mempool-full'. */
  async broadcastTxSync(tx: Tx | Uint8Array): Promise<BroadcastSyncResult> {
    const bytes = txBytes(tx);
    const result = unwrap('broadcast_tx_sync', parse.parseBroadcastSync(await this.call('broadcast_tx_sync', { tx: base64(bytes) })));
    return sameHash('broadcast_tx_sync', bytes, result);
  }

  /**
   * Waits for the commit inside one HTTP request (ClientError 'commit-timeout' when the node
   * gives up). Prefer submitAndWait, which does not hold a request open and survives a
   * dropped connection.
   */
  async broadcastTxCommit(tx: Tx | Uint8Array, options: SubmitOptions = {}): Promise<TxLocation> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const bytes = txBytes(tx);
    const result = await this.call('broadcast_tx_commit', { tx: base64(bytes), timeout_ms: timeoutMs }, timeoutMs + this.http.timeoutMs);
    return sameHash('broadcast_tx_commit', bytes, unwrap('broadcast_tx_commit', parse.parseTxLocation(result)));
  }

  /**
   * Submits a tx and resolves once it is committed, with where. It subscribes to the tx's
   * hash BEFORE broadcasting (so the commit cannot slip between the two), broadcasts with
   * broadcast_tx_sync (so a rejection is reported at once), and asks `tx {hash}` when the
   * node says it already had the tx (it may have committed before the subscription). If
   * the WebSocket cannot be opened or drops, it polls `tx {hash}` instead. On timeout:
   * ClientError 'commit-timeout' with the hash: the tx may still commit, and submitting the
   * same tx again is harmless.
   */
  async submitAndWait(tx: Tx | Uint8Array, options: SubmitOptions = {}): Promise<TxLocation> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const bytes = txBytes(tx);
    const hash = sha256(bytes);
    let found: TxLocation | undefined;
    let socketUp = false;
    let wake: () => void = () => {};
    const nap = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    let subscription: Subscription | undefined;
    try {
      subscription = await this.subscribeTxs({ hash }, (event) => {
        found ??= { hash, height: event.height, index: event.index };
        wake();
      });
      socketUp = true;
      void subscription.ended.then(() => {
        socketUp = false;
        wake();
      });
    } catch (e) {
      if (!(e instanceof ClientError) || e.code === 'closed' || e.code === 'invalid-argument') throw e;
      // No WebSocket (refused, disabled, unreachable): poll by hash instead.
    }
    try {
      const sent = await this.broadcastTxSync(bytes);
      // A duplicate may have committed before the subscription existed: ask once.
      if (sent.duplicate) found ??= await this.locate(hash);
      let pollMs = POLL_START_MS;
      for (;;) {
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0) break;
        if (socketUp) {
          await nap(left);
        } else {
          found = await this.locate(hash, true);
          if (found === undefined) {
            await nap(Math.min(left, pollMs));
            pollMs = Math.min(2 * pollMs, POLL_MAX_MS);
          }
        }
      }
      // One last ask: an event lost to a dropped socket must not become a false timeout.
      found ??= await this.locate(hash, true);
      if (found !== undefined) return found;
      const hex = toHex(hash);
      throw new ClientError(
        { code: 'commit-timeout', hash: hex, timeoutMs },
        `tx ${hex} was not seen committed within ${timeoutMs} ms; it may still commit: ask by hash, or submit the same tx again (harmless)`,
      );
    } finally {
      await subscription?.unsubscribe();
    }
  }

  /**
   * Where a tx committed, or undefined while it has not. `patient`: a node that does not
   * answer this once (unreachable, slow) counts as "not yet", for callers that ask again.
   */
  private async locate(hash: Hash, patient = false): Promise<TxLocation | undefined> {
    try {
      const tx = await this.tx(hash);
      return { hash: tx.hash, height: tx.height, index: tx.index };
    } catch (e) {
      if (e instanceof ClientError && (e.code === 'not-found' || (patient && TRANSIENT.has(e.code)))) return undefined;
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------
  // Building and signing txs

  /** The node's chain id (asked once). */
  async chainId(): Promise<string> {
    return this.cachedChainId ?? (await this.status()).chainId;
  }

  /** The nonce the account's next tx should carry: committed txs plus its txs pending in the node's mempool. */
  async nextNonce(address: Address): Promise<bigint> {
    return (await this.account(address)).pendingNonce;
  }

  /**
   * Signs a tx with `from` for the node's chain. The nonce is the node's pending_nonce for
   * the sender unless given: when building several txs before broadcasting any, pass
   * nonces yourself (n, n+1, ...), as the node cannot count txs it has not seen.
   */
  async sign(body: TxBody, options: TxBuildOptions): Promise<Tx> {
    const { from } = options;
    const [chainId, nonce] = await Promise.all([this.chainId(), options.nonce ?? this.nextNonce(addressOf(from.publicKey))]);
    return signTx({ chainId, sender: from.publicKey, nonce, body }, from);
  }

  async transfer(options: TxBuildOptions & { readonly to: Address; readonly amount: bigint }): Promise<Tx> {
    if (typeof options.amount !== 'bigint' || options.amount <= 0n || options.amount >= 1n << 64n) throw invalidArgument('amount', 'must be a bigint from 1 to 2^64-1');
    return this.sign({ kind: 'transfer', to: addressParam(options.to, 'to'), amount: options.amount }, options);
  }

  /** Sets the sender's record `key`; an empty value deletes it. A string value is stored as UTF-8. */
  async put(options: TxBuildOptions & { readonly key: string; readonly value: Uint8Array | string }): Promise<Tx> {
    const keyBytes = typeof options.key === 'string' && !LONE_SURROGATE.test(options.key) ? utf8(options.key).length : 0;
    if (keyBytes < 1 || keyBytes > LIMITS.dataKey) throw invalidArgument('key', `must be 1 to ${LIMITS.dataKey} bytes of UTF-8`);
    const value = typeof options.value === 'string' ? utf8(options.value) : options.value;
    if (!(value instanceof Uint8Array) || value.length > LIMITS.dataValue) throw invalidArgument('value', `must be at most ${LIMITS.dataValue} bytes`);
    return this.sign({ kind: 'put', key: options.key, value }, options);
  }

  /** Admin only: lets `account` transact. */
  async grant(options: TxBuildOptions & { readonly account: Address }): Promise<Tx> {
    return this.sign({ kind: 'grant', account: addressParam(options.account, 'account') }, options);
  }

  /** Admin only: stops `account` from transacting. */
  async revoke(options: TxBuildOptions & { readonly account: Address }): Promise<Tx> {
    return this.sign({ kind: 'revoke', account: addressParam(options.account, 'account') }, options);
  }

  // -------------------------------------------------------------------------------------
  // Subscriptions (WebSocket)

  /** Every committed block, in height order, from now on. */
  async subscribeBlocks(onBlock: (block: BlockEvent) => void): Promise<Subscription> {
    return this.subscribe({ type: 'block' }, (json) => parse.parseBlockEvent(json), onBlock);
  }

  /** Committed txs of one sender, or the one tx with a hash (subscribe before broadcasting it). */
  async subscribeTxs(filter: TxFilter, onTx: (tx: TxEvent) => void): Promise<Subscription> {
    const query = 'sender' in filter ? { type: 'tx', sender: addressParam(filter.sender, 'sender') } : { type: 'tx', hash: hashParam(filter.hash) };
    return this.subscribe(query, (json) => parse.parseTxEvent(json), onTx);
  }

  private async subscribe<E>(query: Record<string, unknown>, parseEvent: (json: unknown) => Result<E, string>, onEvent: (event: E) => void): Promise<Subscription> {
    // Counted from before the socket is fetched, so releaseSocket cannot close it under this call.
    this.subscribing++;
    let socket: EventSocket;
    try {
      socket = await this.eventSocket();
    } catch (e) {
      this.subscribing--;
      throw e;
    }
    let settle: (error: ClientError | undefined) => void = () => {};
    const ended = new Promise<ClientError | undefined>((resolve) => (settle = resolve));
    let id: string | undefined;
    let done = false;
    const finish = (error: ClientError | undefined) => {
      if (done) return;
      done = true;
      settle(error);
      this.releaseSocket(socket);
    };
    try {
      id = await socket.subscribe(query, {
        onEvent: (json) => {
          if (done) return;
          const event = parseEvent(json);
          if (!event.ok) {
            const error = badResponse('subscription', event.error);
            finish(error);
            if (id !== undefined) void socket.unsubscribe(id).then(() => this.releaseSocket(socket));
            return;
          }
          try {
            onEvent(event.value);
          } catch {
            // A throwing callback must not take the socket (and others' subscriptions) down.
          }
        },
        onEnd: (error) => finish(error),
      });
    } catch (e) {
      finish(undefined);
      throw e;
    } finally {
      this.subscribing--;
    }
    const subscriptionId = id;
    return {
      id: subscriptionId,
      ended,
      unsubscribe: async () => {
        await socket.unsubscribe(subscriptionId);
        finish(undefined);
        // The unsubscribe request itself kept the socket busy when `finish` first ran.
        this.releaseSocket(socket);
      },
    };
  }

  /** The shared WebSocket, opened on first use and again after it dropped. */
  private async eventSocket(): Promise<EventSocket> {
    if (this.closed) throw new ClientError({ code: 'closed' }, 'subscribe: the client is closed');
    const current = this.socket;
    if (current !== undefined) {
      const socket = await current.catch(() => undefined);
      if (socket?.isOpen === true) return socket;
      if (this.socket === current) this.socket = undefined;
      if (this.socket !== undefined) return this.eventSocket();
    }
    const opening = EventSocket.open(this.url, this.http.authHeaders(), this.http.timeoutMs);
    this.socket = opening;
    opening.catch(() => {
      if (this.socket === opening) this.socket = undefined;
    });
    return opening;
  }

  /** Closes the socket once nothing uses it, so an idle client holds no connection (and lets a process exit). */
  private releaseSocket(socket: EventSocket): void {
    queueMicrotask(() => {
      if (!socket.idle || this.subscribing > 0) return;
      socket.close();
      void this.socket?.then((s) => {
        if (s === socket) this.socket = undefined;
      }, () => {});
    });
  }

  // -------------------------------------------------------------------------------------
  // Verified reads: checked against the genesis, trusting no node

  /** The header at `height` with a certificate that verifies against the genesis validators. */
  async verifiedCommit(height: number, genesis: Genesis): Promise<VerifiedCommit> {
    return check(verifyCommit(await this.commit(height), genesis, height));
  }

  /** A block whose certificate verifies and whose txs are the ones its header commits to. */
  async verifiedBlock(height: number | undefined, genesis: Genesis): Promise<VerifiedBlock> {
    return check(verifyBlock(await this.block(height), genesis, height));
  }

  /**
   * An account with its proof against the certified state root at the read's height
   * (ClientError 'verification-failed', info.check naming the failed step, when the node lies).
   */
  async verifiedAccount(address: Address, genesis: Genesis): Promise<VerifiedAccount> {
    const wanted = addressParam(address);
    const account = await this.account(wanted, { prove: true });
    const commit = account.height === 0 ? null : await this.commit(account.height);
    return check(verifyAccount(wanted, account, commit, genesis));
  }

  /** A data record (or its proven absence), as verifiedAccount. */
  async verifiedQuery(owner: Address, key: string, genesis: Genesis): Promise<VerifiedRecord> {
    const wanted = addressParam(owner, 'owner');
    const record = await this.query(wanted, key, { prove: true });
    const commit = record.height === 0 ? null : await this.commit(record.height);
    return check(verifyRecord(wanted, key, record, commit, genesis));
  }

  /** A committed tx with its inclusion proof against the certified header of its block. */
  async verifiedTx(hash: Hash | string, genesis: Genesis): Promise<VerifiedTx> {
    const hex = hashParam(hash);
    const tx = await this.tx(hex, { prove: true });
    const commit = await this.commit(tx.height);
    return check(verifyTx(fromHex(hex), tx, commit, genesis));
  }

  /** Closes the WebSocket (live subscriptions end) and refuses further calls. */
  close(): void {
    this.closed = true;
    const socket = this.socket;
    this.socket = undefined;
    void socket?.then((s) => s.close(), () => {});
  }
}
