import type { Result } from '../codec/result.js';
import { decodeTx } from '../codec/tx.js';
import { LIMITS, type Tx } from '../codec/types.js';
import type { Address } from '../crypto/address.js';
import { toHex } from '../crypto/bytes.js';
import type { Verifier } from '../crypto/domain.js';
import type { Hash } from '../crypto/hash.js';
import { validateTxStateless } from '../ledger/execute.js';
import type { LedgerState } from '../ledger/state.js';
import { hashTx, senderAddress, verifyTxSignature } from '../ledger/tx.js';
import type { Entry, SenderQueue } from './entry.js';
import { mempoolError, type MempoolError } from './errors.js';
import { selectTxs, type BlockLimits } from './select.js';

/**
 * Pending txs: admission, dedup, bounds, block selection and eviction.
 *
 * Admission runs the cheap checks first and the signature check last, once: decoding, size,
 * chain, dedup by hash, the ledger's shape rules, nonce window, permission and balance
 * against the committed state, a taken (sender, nonce), the pool's bounds, then the
 * signature. The bounds come before the signature on purpose: the pool is full exactly
 * when the node is overloaded, and refusing then must not cost a signature verification.
 * A full pool refuses ('mempool-full'); it never drops an admitted tx to make room, so a
 * client that was told "admitted" is not silently lied to.
 *
 * Every entry's signature has verified, so `isVerified` is the verdict cache block
 * execution consults (ExecutionContext.alreadyVerified) instead of verifying again. The
 * cache also remembers, in a bounded window, txs verified here that are no longer (or not
 * yet) pending: a tx a proposal brought before its gossip did was verified by that
 * block's execution (`noteVerified`), and its gossip must not cost a second verify.
 *
 * Entries leave only through `onCommitted`: committed ones, and those the new state makes
 * invalid for good (a used nonce, a sender who lost the right to transact).
 */

const U64_MAX = (1n << 64n) - 1n;
const NO_EXCLUSIONS: ReadonlySet<string> = new Set();
/** Limits for "could any tx go in a block?": the first tx that applies answers it. */
const ANY_ONE: BlockLimits = { maxTxs: 1, maxBytes: Number.MAX_SAFE_INTEGER };

// The shape checks of validateTxStateless without its signature check, which admission
// runs separately and last (after the bounds).
const SKIP_SIGNATURE = (): boolean => true;

export interface MempoolOptions {
  readonly chainId: string;
  readonly verifier: Verifier;
  /** Most pending txs. */
  readonly maxTxs: number;
  /** How many verified tx hashes beyond the pending ones are remembered (default 65,536). */
  readonly verdictCacheSize?: number;
  /** Most pending bytes (sum of encoded sizes). */
  readonly maxBytes: number;
  /** A sender may have txs pending for nonces [committed nonce, committed nonce + nonceWindow). */
  readonly nonceWindow: number;
}

export interface Admitted {
  readonly hash: Hash;
  /** Lowercase hex of `hash`. */
  readonly hashHex: string;
  readonly tx: Tx;
  /** The same tx was already pending; resubmitting is harmless. */
  readonly duplicate: boolean;
}

export interface Evicted {
  /** Txs that were pending and are now in a committed block. */
  readonly committed: number;
  /** Txs the new state made invalid (used nonce, sender no longer permitted). */
  readonly invalidated: number;
}

export type { BlockLimits };

/**
 * A tighter bound than the pool's own, for one admission: the node refuses its clients'
 * txs sooner than its peers' (see node/backlog-budget.ts). Checked where the pool's bounds
 * are, so a refused tx costs no signature check and a pending one is still a duplicate.
 */
export interface AdmissionBound {
  /** Refuse this admission when `readyCount` is at least this. */
  readonly maxReady: number;
  /** Why the bound is what it is, for the refusal's message (asked only on a refusal). */
  readonly reason: () => string;
}

function fail(code: MempoolError['code'], message: string): Result<never, MempoolError> {
  return { ok: false, error: mempoolError(code, message) };
}

function isPositiveInteger(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

export class Mempool {
  private readonly chainId: string;
  private readonly verifier: Verifier;
  private readonly maxTxs: number;
  private readonly maxBytes: number;
  private readonly nonceWindow: bigint;
  /** Every entry by hash (hex); a Map iterates in insertion order, which is arrival order. */
  private readonly byHash = new Map<string, Entry>();
  private readonly bySender = new Map<Address, SenderQueue>();
  /**
   * Per sender with a ready tx: how many of its pending txs follow its committed nonce
   * without a gap. Their sum is `readyCount`.
   */
  private readonly readyRuns = new Map<Address, number>();
  private readyTotal = 0;
  /** Hashes (hex) of txs whose signature verified here, pending or not; oldest first. */
  private readonly verified = new Set<string>();
  private readonly verdictCacheSize: number;
  private totalBytes = 0;
  private nextSeq = 0;
  private committed: LedgerState;
  /** Cached answer of hasProposable(); undefined after a commit, until asked again. */
  private proposable: boolean | undefined = false;

  constructor(options: MempoolOptions, committed: LedgerState) {
    for (const key of ['maxTxs', 'maxBytes', 'nonceWindow'] as const) {
      if (!isPositiveInteger(options[key])) throw new RangeError(`Mempool: ${key} must be a positive integer, got ${options[key]}`);
    }
    this.chainId = options.chainId;
    this.verifier = options.verifier;
    this.maxTxs = options.maxTxs;
    this.maxBytes = options.maxBytes;
    this.nonceWindow = BigInt(options.nonceWindow);
    this.verdictCacheSize = options.verdictCacheSize ?? 65_536;
    if (!isPositiveInteger(this.verdictCacheSize)) throw new RangeError(`Mempool: verdictCacheSize must be a positive integer, got ${this.verdictCacheSize}`);
    this.committed = committed;
  }

  /** Pending txs. */
  get size(): number {
    return this.byHash.size;
  }

  /**
   * Pending txs that wait for no missing nonce: each sender's unbroken run of nonces from its
   * committed one. The rest wait for a tx this node has not seen, so they are no work yet;
   * the node's backlog bound for clients counts these only (balance is not considered).
   */
  get readyCount(): number {
    return this.readyTotal;
  }

  /** Pending bytes (sum of encoded sizes). */
  get bytes(): number {
    return this.totalBytes;
  }

  /** The committed state admission checks against (the last one given to onCommitted). */
  get committedState(): LedgerState {
    return this.committed;
  }

  /** Pending txs that are not in `exclude` (hex hashes of txs in in-flight blocks). */
  pendingCount(exclude: ReadonlySet<string> = NO_EXCLUSIONS): number {
    let excluded = 0;
    for (const hashHex of exclude) if (this.byHash.has(hashHex)) excluded++;
    return this.byHash.size - excluded;
  }

  /**
   * Whether some pending tx could go in a block on the committed state. Txs that wait for a
   * missing nonce, or for a balance their sender does not have, are pending but are no work
   * a primary could do: a replica that counted them would time out honest primaries, one
   * view after another (see node.ts, where this gates the count the replica hears).
   *
   * Cost: a selection that stops at the first tx that applies, so O(1) while the oldest
   * pending tx is ready, and O(waiting txs ahead of it) otherwise; cached until the next
   * commit, and an admission can only turn a "no" into a "yes" (it never spoils another tx).
   */
  hasProposable(): boolean {
    this.proposable ??= this.selectOnCommitted(this.byHash.values()).length > 0;
    return this.proposable;
  }

  private selectOnCommitted(arrivals: Iterable<Entry>): Tx[] {
    return selectTxs(arrivals, (sender) => this.bySender.get(sender), this.committed, ANY_ONE, NO_EXCLUSIONS);
  }

  has(hash: Hash | string): boolean {
    return this.byHash.has(typeof hash === 'string' ? hash : toHex(hash));
  }

  get(hash: Hash | string): Tx | undefined {
    return this.byHash.get(typeof hash === 'string' ? hash : toHex(hash))?.tx;
  }

  /**
   * Txs admitted since this pool was made: a mark in arrival order. `pending(limit, mark)`
   * later lists only the txs that were already pending when the mark was taken.
   */
  get arrivals(): number {
    return this.nextSeq;
  }

  /**
   * The first `limit` pending txs in arrival order, with their hashes, optionally only those
   * admitted before the mark `arrivedBefore` (see `arrivals`). O(limit).
   */
  pending(limit: number, arrivedBefore = Number.POSITIVE_INFINITY): { readonly tx: Tx; readonly hash: Hash }[] {
    const out: { tx: Tx; hash: Hash }[] = [];
    if (limit <= 0) return out;
    for (const entry of this.byHash.values()) {
      if (entry.seq >= arrivedBefore) break;
      out.push({ tx: entry.tx, hash: entry.hash });
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * The verdict cache: true when the tx with this hash passed admission here, signature
   * included. A hash covers the whole signed encoding, so a match is the same tx.
   */
  isVerified(hash: Hash): boolean {
    const hex = toHex(hash);
    return this.byHash.has(hex) || this.verified.has(hex);
  }

  /** The tx with this hash verified elsewhere on this node (block execution). */
  noteVerified(hash: Hash): void {
    this.rememberVerified(toHex(hash));
  }

  private rememberVerified(hashHex: string): void {
    if (this.verified.has(hashHex)) return;
    if (this.verified.size >= this.verdictCacheSize) {
      const oldest = this.verified.values().next();
      if (oldest.done !== true) this.verified.delete(oldest.value);
    }
    this.verified.add(hashHex);
  }

  /** Admits a tx from the network or a client. Never throws on any bytes. */
  add(bytes: Uint8Array, bound?: AdmissionBound): Result<Admitted, MempoolError> {
    if (bytes.length > LIMITS.txBytes) return fail('too-large', `tx is ${bytes.length} bytes, the limit is ${LIMITS.txBytes}`);
    const decoded = decodeTx(bytes);
    if (!decoded.ok) {
      const code = decoded.error.code === 'too-large' ? 'too-large' : 'malformed';
      return fail(code, `tx does not decode: ${decoded.error.message} (at byte ${decoded.error.offset})`);
    }
    const tx = decoded.value;
    if (tx.chainId !== this.chainId) {
      return fail('wrong-chain', `tx is for chain ${JSON.stringify(tx.chainId)}, this is ${JSON.stringify(this.chainId)}`);
    }

    // The decoded tx caches its bytes, so this hashes the input as given, without re-encoding.
    const hash = hashTx(tx);
    const hashHex = toHex(hash);
    const known = this.byHash.get(hashHex);
    if (known !== undefined) return { ok: true, value: { hash: known.hash, hashHex, tx: known.tx, duplicate: true } };

    const shape = validateTxStateless(tx, this.chainId, this.verifier, SKIP_SIGNATURE);
    if (!shape.ok) return { ok: false, error: shape.error };

    const sender = senderAddress(tx);
    const account = this.committed.account(sender);
    if (tx.nonce < account.nonce) return fail('bad-nonce', `nonce ${tx.nonce} is used: the account's next nonce is ${account.nonce}`);
    if (tx.nonce >= account.nonce + this.nonceWindow) {
      return fail('bad-nonce', `nonce ${tx.nonce} is too far ahead: the account's next nonce is ${account.nonce}, the window ${this.nonceWindow}`);
    }
    if (tx.nonce === U64_MAX) return fail('bad-nonce', 'nonce 2^64-1 can never be applied');
    if (!account.canTransact) return fail('not-permitted', `account ${sender} may not transact`);
    const body = tx.body;
    if ((body.kind === 'grant' || body.kind === 'revoke') && !account.isAdmin) {
      return fail('not-permitted', `${body.kind} needs an admin, ${sender} is not one`);
    }
    if (body.kind === 'transfer' && body.amount > account.balance) {
      return fail('insufficient-balance', `amount ${body.amount} is above the committed balance ${account.balance}`);
    }
    const queue = this.bySender.get(sender);
    if (queue?.has(tx.nonce) === true) {
      return fail('duplicate-nonce', `another tx from ${sender} with nonce ${tx.nonce} is pending`);
    }

    const size = bytes.length;
    if (this.byHash.size >= this.maxTxs) return fail('mempool-full', `the mempool holds its limit of ${this.maxTxs} txs`);
    if (bound !== undefined && this.readyTotal >= bound.maxReady) {
      return fail('mempool-full', `${this.readyTotal} txs are ready to commit, the most this node takes now: ${bound.reason()}`);
    }
    if (this.totalBytes + size > this.maxBytes) {
      return fail('mempool-full', `the mempool holds ${this.totalBytes} of its ${this.maxBytes} bytes; this tx needs ${size}`);
    }

    if (!this.verified.has(hashHex)) {
      if (!verifyTxSignature(tx, this.verifier)) return fail('bad-signature', 'signature does not verify for the sender key');
      this.rememberVerified(hashHex);
    }

    const entry: Entry = { tx, hash, hashHex, size, sender, nonce: tx.nonce, seq: this.nextSeq++ };
    this.byHash.set(hashHex, entry);
    if (queue === undefined) this.bySender.set(sender, new Map([[tx.nonce, entry]]));
    else queue.set(tx.nonce, entry);
    this.totalBytes += size;
    const run = this.readyRuns.get(sender) ?? 0;
    if (tx.nonce === account.nonce + BigInt(run)) this.setReadyRun(sender, this.runFrom(account.nonce, run, this.bySender.get(sender) as SenderQueue));
    // Only the new tx can have become ready: it applies at once, or it pulls in nothing.
    if (this.proposable === false && this.selectOnCommitted([entry]).length > 0) this.proposable = true;
    return { ok: true, value: { hash, hashHex, tx, duplicate: false } };
  }

  /**
   * The nonce a new tx from `sender` should carry: the committed nonce, advanced past the
   * sender's txs already waiting here in an unbroken run. Lets a client send several txs
   * in a row without waiting for each to commit.
   */
  nextNonce(sender: Address): bigint {
    let nonce = this.committed.account(sender).nonce;
    const queue = this.bySender.get(sender);
    if (queue === undefined) return nonce;
    while (queue.has(nonce)) nonce++;
    return nonce;
  }

  /**
   * Txs for a block on top of `parent` (which may be ahead of the committed state: the
   * speculative state after the in-flight blocks). The result applies cleanly on `parent`
   * in order; see select.ts for the order and the rules.
   */
  selectForBlock(parent: LedgerState, limits: BlockLimits, exclude: ReadonlySet<string> = NO_EXCLUSIONS): Tx[] {
    return selectTxs(this.byHash.values(), (sender) => this.bySender.get(sender), parent, limits, exclude);
  }

  /**
   * A block committed and `state` is the state after it. Evicts the block's txs and every
   * pending tx the new state invalidates for good.
   *
   * Only accounts the block touched can have changed (the senders, and grant/revoke
   * targets), so only their queues are re-checked. Every pending tx's nonce is at least its
   * sender's committed nonce (admission checks it, and this keeps it), so a sender's newly
   * used nonces are exactly [previous nonce, new nonce): a few lookups per committed tx
   * rather than a walk over the sender's whole queue.
   */
  onCommitted(txs: readonly Tx[], state: LedgerState): Evicted {
    const previous = this.committed;
    this.committed = state;
    this.proposable = undefined;
    let committed = 0;
    let invalidated = 0;
    const touched = new Set<Address>();
    for (const tx of txs) {
      const entry = this.byHash.get(toHex(hashTx(tx)));
      if (entry !== undefined) {
        this.remove(entry);
        committed++;
      }
      touched.add(senderAddress(tx));
      if (tx.body.kind === 'grant' || tx.body.kind === 'revoke') touched.add(tx.body.account);
    }
    for (const address of touched) {
      const queue = this.bySender.get(address);
      if (queue === undefined) {
        this.setReadyRun(address, 0);
        continue;
      }
      const account = state.account(address);
      const before = previous.account(address);
      const from = before.nonce;
      if (!account.canTransact || account.isAdmin !== before.isAdmin || account.nonce - from > BigInt(queue.size)) {
        // Lost permissions (or a state that jumped further than the queue is long): check every entry.
        for (const entry of queue.values()) {
          const kind = entry.tx.body.kind;
          const adminOnly = kind === 'grant' || kind === 'revoke';
          if (entry.nonce < account.nonce || !account.canTransact || (adminOnly && !account.isAdmin)) {
            this.remove(entry);
            invalidated++;
          }
        }
      } else {
        for (let nonce = from; nonce < account.nonce; nonce++) {
          const entry = queue.get(nonce);
          if (entry === undefined) continue;
          this.remove(entry);
          invalidated++;
        }
      }
      this.setReadyRun(address, this.runFrom(account.nonce, 0, queue));
    }
    return { committed, invalidated };
  }

  /** `run` plus the length of the unbroken run of nonces in `queue` from `nonce` + `run`. */
  private runFrom(nonce: bigint, run: number, queue: SenderQueue): number {
    let next = nonce + BigInt(run);
    while (queue.has(next)) {
      run++;
      next++;
    }
    return run;
  }

  private setReadyRun(sender: Address, run: number): void {
    this.readyTotal += run - (this.readyRuns.get(sender) ?? 0);
    if (run === 0) this.readyRuns.delete(sender);
    else this.readyRuns.set(sender, run);
  }

  private remove(entry: Entry): void {
    this.byHash.delete(entry.hashHex);
    this.totalBytes -= entry.size;
    const queue = this.bySender.get(entry.sender);
    if (queue === undefined) return;
    queue.delete(entry.nonce);
    if (queue.size === 0) this.bySender.delete(entry.sender);
  }
}
