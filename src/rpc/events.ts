/**
 * Subscription events over the WebSocket endpoint: what a client can subscribe to, and the
 * exact JSON it then receives. A client library parses these shapes; keep them stable
 * (add fields, never rename or retype one).
 *
 * Transport: JSON-RPC 2.0 over a WebSocket at GET /websocket on the RPC port. Every event
 * is a notification (no id):
 *
 *   {"jsonrpc":"2.0","method":"subscription","params":{"subscription":"<id>","result":<event>}}
 *
 * where <id> is the string `subscribe` returned and <event> is a BlockEvent or a TxEvent
 * (its `type` says which). Hashes are lowercase hex, addresses 40 lowercase hex digits,
 * times milliseconds since the Unix epoch.
 *
 * Queries (the `query` param of `subscribe`):
 * - `{"type":"block"}`: every committed block, in height order.
 * - `{"type":"tx","sender":"<address>"}`: every committed tx sent by that account.
 * - `{"type":"tx","hash":"<64 hex>"}`: the tx with that hash, when it commits. The
 *   subscription stays open until unsubscribed (a tx commits at most once, so at most one
 *   event arrives; subscribe BEFORE broadcasting, or ask by hash after, to not miss it).
 *
 * Order: events follow commit order. For one block, a connection receives the block event
 * (if subscribed) before any of that block's tx events, and tx events in block order.
 * An event is sent once per matching subscription (two subscriptions matching the same tx
 * both get it, each under its own id).
 */
import type { Result } from '../codec/result.js';
import type { Block, QuorumCertificate, TxKind } from '../codec/types.js';
import { toHex } from '../crypto/bytes.js';
import type { Hash } from '../crypto/hash.js';
import type { Receipt } from '../ledger/execute.js';
import { address, hashHex } from './params.js';

// ---------------------------------------------------------------------------------------
// The event source

/** One committed block, as the node hands it over after appending it to its store. */
export interface CommitEvent {
  readonly block: Block;
  readonly hash: Hash;
  readonly certificate: QuorumCertificate;
  /** One per tx, in block order. */
  readonly receipts: readonly Receipt[];
}

export type CommitListener = (event: CommitEvent) => void;

/**
 * Where subscription events come from. The node satisfies it with its commit listeners;
 * tests drive it by hand. Listeners are called synchronously in height order and must be
 * cheap. Returns the function that removes the listener.
 */
export interface CommitSource {
  subscribeCommits(listener: CommitListener): () => void;
}

// ---------------------------------------------------------------------------------------
// Queries

export type SubscriptionQuery =
  | { readonly type: 'block' }
  | { readonly type: 'tx'; readonly sender: string }
  | { readonly type: 'tx'; readonly hash: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a `query` param; the error says what is wrong. Addresses and hashes come back lowercase. */
export function parseQuery(value: unknown): Result<SubscriptionQuery, string> {
  const fail = (why: string): Result<never, string> => ({ ok: false, error: why });
  if (!isPlainObject(value)) return fail('must be an object such as {"type":"block"}');
  const keys = Object.keys(value);
  if (value['type'] === 'block') {
    if (keys.length !== 1) return fail('a block query takes no other field than type');
    return { ok: true, value: { type: 'block' } };
  }
  if (value['type'] === 'tx') {
    const hasSender = Object.hasOwn(value, 'sender');
    const hasHash = Object.hasOwn(value, 'hash');
    if (hasSender === hasHash || keys.length !== 2) return fail('a tx query has type and exactly one of sender or hash');
    if (hasSender) {
      const sender = address(value['sender']);
      return sender.ok ? { ok: true, value: { type: 'tx', sender: sender.value } } : fail(`sender ${sender.error}`);
    }
    const hash = hashHex(value['hash']);
    return hash.ok ? { ok: true, value: { type: 'tx', hash: hash.value } } : fail(`hash ${hash.error}`);
  }
  return fail('type must be "block" or "tx"');
}

// ---------------------------------------------------------------------------------------
// Events

/** Which validators signed the block's commit certificate (2f+1 of them, ascending). */
export interface CertificateSummary {
  readonly view: number;
  readonly height: number;
  readonly block_hash: string;
  readonly signers: readonly number[];
}

/** A committed block. `txs` are the tx hashes in block order (`tx_count` of them). */
export interface BlockEvent {
  readonly type: 'block';
  readonly height: number;
  readonly hash: string;
  readonly parent_hash: string;
  /** The proposer's header timestamp, ms since the Unix epoch. */
  readonly time: number;
  readonly view: number;
  /** The proposing validator's genesis index. */
  readonly proposer: number;
  readonly state_root: string;
  readonly tx_count: number;
  readonly txs: readonly string[];
  readonly certificate: CertificateSummary;
}

/** A committed tx: where it landed and what it was. Only valid txs are committed. */
export interface TxEvent {
  readonly type: 'tx';
  readonly hash: string;
  readonly height: number;
  /** The tx's index in its block. */
  readonly index: number;
  readonly block_hash: string;
  readonly sender: string;
  readonly kind: TxKind;
}

export type SubscriptionEvent = BlockEvent | TxEvent;

/** The notification that carries an event to one subscription. */
export interface SubscriptionNotification {
  readonly jsonrpc: '2.0';
  readonly method: 'subscription';
  readonly params: { readonly subscription: string; readonly result: SubscriptionEvent };
}

export function blockEvent(event: CommitEvent): BlockEvent {
  const { header } = event.block;
  const hashHexText = toHex(event.hash);
  return {
    type: 'block',
    height: header.height,
    hash: hashHexText,
    parent_hash: toHex(header.parentHash),
    time: header.timestamp,
    view: header.view,
    proposer: header.proposer,
    state_root: toHex(header.stateRoot),
    tx_count: header.txCount,
    txs: event.receipts.map((r) => toHex(r.txHash)),
    certificate: {
      view: event.certificate.view,
      height: event.certificate.height,
      block_hash: toHex(event.certificate.blockHash),
      signers: event.certificate.signatures.map((s) => s.validator),
    },
  };
}

export function txEvent(receipt: Receipt, txHashHex: string, blockHashHex: string): TxEvent {
  return {
    type: 'tx',
    hash: txHashHex,
    height: receipt.height,
    index: receipt.index,
    block_hash: blockHashHex,
    sender: receipt.sender,
    kind: receipt.kind,
  };
}

/**
 * The notification text for one subscription, around an event already serialized once
 * (an event fans out to many subscriptions; it is stringified once, not per subscriber).
 */
export function notificationText(subscription: string, eventJson: string): string {
  return `{"jsonrpc":"2.0","method":"subscription","params":{"subscription":${JSON.stringify(subscription)},"result":${eventJson}}}`;
}
