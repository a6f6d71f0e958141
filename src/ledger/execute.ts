import type { Result } from '../codec/result.js';
import { LIMITS, type Block, type BlockHeader, type Tx, type TxKind } from '../codec/types.js';
import { isAddress, type Address } from '../crypto/address.js';
import { bytesEqual, toHex } from '../crypto/bytes.js';
import type { Verifier } from '../crypto/domain.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '../crypto/ed25519.js';
import type { Hash } from '../crypto/hash.js';
import { bodyMatchesHeader } from './block.js';
import { blockFault, txError, type BlockError, type TxError } from './errors.js';
import type { Genesis } from './genesis.js';
import { merkleRoot } from './merkle.js';
import { StateOverlay, type StateWrites } from './overlay.js';
import type { LedgerState } from './state.js';
import { hashTx, senderAddress, txSize, verifyTxSignature } from './tx.js';

/**
 * Validation and execution: the deterministic state machine. Nothing here reads a clock,
 * randomness or I/O; the same parent state and block give the same result on every node.
 *
 * Rules (beyond the type comments in codec/types.ts):
 * - A tx's nonce must equal the sender's account nonce; applying it adds one.
 * - Only accounts with canTransact may send txs, and only admins may grant or revoke.
 * - A transfer to an address with no account creates one with canTransact false: the chain
 *   is permissioned, so receiving money does not let anyone transact (an admin grants that).
 * - A transfer to oneself is malformed: it would move nothing, and is almost surely a
 *   client bug worth reporting rather than a tx worth ordering.
 * - A put with an empty value deletes the record.
 * - A tx changes state only if it is valid: every check runs before any effect.
 */

const U64_MAX = (1n << 64n) - 1n;

export interface ExecutionContext {
  readonly chainId: string;
  readonly verifier: Verifier;
  /** Size of the validator set: a header's proposer is an index into it. */
  readonly validatorCount: number;
  readonly maxBlockTxs: number;
  /** Bound on the sum of a block's encoded tx sizes. */
  readonly maxBlockBytes: number;
  /**
   * Says a tx hash's signature was already checked (the mempool's verdict cache), so block
   * execution need not verify it again. Only ever answer true for a hash whose tx verified.
   */
  readonly alreadyVerified?: (txHash: Hash) => boolean;
  /** Told of every tx signature this execution verified, so no one here verifies it again. */
  readonly noteVerified?: (txHash: Hash) => void;
}

/** The verdict cache an execution consults and feeds (see ExecutionContext). */
export interface VerdictCache {
  readonly alreadyVerified: (txHash: Hash) => boolean;
  readonly noteVerified: (txHash: Hash) => void;
}

export function executionContext(genesis: Genesis, verifier: Verifier, verdicts?: VerdictCache): ExecutionContext {
  return {
    chainId: genesis.chainId,
    verifier,
    validatorCount: genesis.validators.length,
    maxBlockTxs: genesis.consensus.maxBlockTxs,
    maxBlockBytes: genesis.consensus.maxBlockBytes,
    ...verdicts,
  };
}

/** Where a tx sits: its receipt says so. */
export interface TxContext {
  readonly height: number;
  readonly index: number;
}

export interface Receipt {
  readonly txHash: Hash;
  readonly height: number;
  readonly index: number;
  /** Only valid txs are ever included, so every receipt says 'ok'. */
  readonly code: 'ok';
  readonly kind: TxKind;
  readonly sender: Address;
}

export interface ExecutedBlock {
  readonly state: LedgerState;
  readonly receipts: readonly Receipt[];
  /** Exactly the state entries the block changed (hex state key -> new value, null = deleted). */
  readonly writes: StateWrites;
}

// ---------------------------------------------------------------------------------------
// Stateless checks

// String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib typings.
type MaybeWellFormed = string & { isWellFormed(): boolean };

/**
 * A lone surrogate has no UTF-8 encoding (TextEncoder would turn it into U+FFFD, so two
 * different keys would share one state key): only well-formed text is a data key.
 */
function isWellFormedText(text: string): boolean {
  return (text as MaybeWellFormed).isWellFormed();
}

/**
 * Everything about a tx that needs no state and no signature check. It also guarantees
 * the tx can be encoded (so hashing it cannot throw), which is why it runs before hashTx.
 */
function checkTxShape(tx: Tx, chainId: string): TxError | undefined {
  if (tx.chainId !== chainId) return txError('wrong-chain', `tx is for chain ${JSON.stringify(tx.chainId)}, this is ${JSON.stringify(chainId)}`);
  if (tx.sender.length !== PUBLIC_KEY_LENGTH) return txError('malformed', `sender key is ${tx.sender.length} bytes`);
  if (tx.signature.length !== SIGNATURE_LENGTH) return txError('malformed', `signature is ${tx.signature.length} bytes`);
  if (tx.nonce < 0n || tx.nonce > U64_MAX) return txError('malformed', 'nonce is not a u64');
  const body = tx.body;
  switch (body.kind) {
    case 'transfer':
      if (!isAddress(body.to)) return txError('malformed', 'transfer recipient is not an address');
      if (body.amount <= 0n || body.amount > U64_MAX) return txError('malformed', 'transfer amount must be a u64 above zero');
      if (body.to === senderAddress(tx)) return txError('malformed', 'transfer to the sender itself');
      break;
    case 'put': {
      if (!isWellFormedText(body.key)) return txError('malformed', 'data key is not well-formed Unicode');
      const keyBytes = Buffer.byteLength(body.key, 'utf8');
      if (keyBytes === 0 || keyBytes > LIMITS.dataKey) return txError('malformed', `data key must be 1 to ${LIMITS.dataKey} bytes, got ${keyBytes}`);
      if (body.value.length > LIMITS.dataValue) {
        return txError('too-large', `data value is ${body.value.length} bytes, the limit is ${LIMITS.dataValue}`);
      }
      break;
    }
    case 'grant':
    case 'revoke':
      if (!isAddress(body.account)) return txError('malformed', `${body.kind} target is not an address`);
      break;
    default:
      return txError('malformed', 'unknown tx kind');
  }
  const size = txSize(tx);
  if (size > LIMITS.txBytes) return txError('too-large', `tx encodes to ${size} bytes, the limit is ${LIMITS.txBytes}`);
  return undefined;
}

function checkSignature(tx: Tx, txHash: Hash, verifier: Verifier, verdicts?: Partial<VerdictCache>): TxError | undefined {
  if (verdicts?.alreadyVerified?.(txHash) === true) return undefined;
  if (!verifyTxSignature(tx, verifier)) return txError('bad-signature', 'signature does not verify for the sender key');
  verdicts?.noteVerified?.(txHash);
  return undefined;
}

/**
 * The checks a tx passes or fails on its own: chain id, shape, size, signature (the costly
 * one, last, and skipped when `alreadyVerified` vouches for the hash).
 */
export function validateTxStateless(
  tx: Tx,
  chainId: string,
  verifier: Verifier,
  alreadyVerified?: (txHash: Hash) => boolean,
): Result<void, TxError> {
  const fault = checkTxShape(tx, chainId) ?? checkSignature(tx, hashTx(tx), verifier, alreadyVerified === undefined ? undefined : { alreadyVerified });
  return fault === undefined ? { ok: true, value: undefined } : { ok: false, error: fault };
}

// ---------------------------------------------------------------------------------------
// Stateful checks and effects

/** Applies one tx to `state` (the overlay), or leaves it untouched and says why not. */
function applyToOverlay(state: StateOverlay, tx: Tx, txHash: Hash, ctx: TxContext): Result<Receipt, TxError> {
  const sender = senderAddress(tx);
  const from = state.account(sender);
  if (tx.nonce !== from.nonce) return { ok: false, error: txError('bad-nonce', `nonce ${tx.nonce}, the account expects ${from.nonce}`) };
  if (!from.canTransact) return { ok: false, error: txError('not-permitted', `account ${sender} may not transact`) };
  // 2^64 - 1 txs from one account is out of reach, but a hand-made state must not make
  // the nonce overflow its encoding.
  if (from.nonce === U64_MAX) return { ok: false, error: txError('bad-nonce', 'the account has used every nonce') };
  const nonce = from.nonce + 1n;
  const body = tx.body;
  switch (body.kind) {
    case 'transfer': {
      if (from.balance < body.amount) {
        return { ok: false, error: txError('insufficient-balance', `balance ${from.balance} is below the amount ${body.amount}`) };
      }
      const to = state.account(body.to);
      // Unreachable while genesis bounds the total supply by u64 (no tx mints), kept so a
      // hand-made state cannot wrap a balance.
      if (to.balance + body.amount > U64_MAX) return { ok: false, error: txError('malformed', 'recipient balance would exceed u64') };
      state.setAccount(sender, { ...from, nonce, balance: from.balance - body.amount });
      state.setAccount(body.to, { ...to, balance: to.balance + body.amount });
      break;
    }
    case 'put':
      state.setAccount(sender, { ...from, nonce });
      state.setRecord(sender, body.key, body.value);
      break;
    case 'grant':
    case 'revoke': {
      if (!from.isAdmin) return { ok: false, error: txError('not-permitted', `${body.kind} needs an admin, ${sender} is not one`) };
      state.setAccount(sender, { ...from, nonce });
      // Read after the sender's update: an admin may revoke (or grant) itself.
      const target = state.account(body.account);
      state.setAccount(body.account, { ...target, canTransact: body.kind === 'grant' });
      break;
    }
  }
  return { ok: true, value: { txHash, height: ctx.height, index: ctx.index, code: 'ok', kind: body.kind, sender } };
}

/**
 * Applies one tx's stateful checks (nonce, permission, balance) and effects. It assumes the
 * tx passed validateTxStateless; executeBlock and buildBlock always run both.
 */
export function applyTx(state: LedgerState, tx: Tx, ctx: TxContext): Result<{ state: LedgerState; receipt: Receipt }, TxError> {
  const overlay = new StateOverlay(state);
  const applied = applyToOverlay(overlay, tx, hashTx(tx), ctx);
  if (!applied.ok) return applied;
  return { ok: true, value: { state: overlay.commit().state, receipt: applied.value } };
}

// ---------------------------------------------------------------------------------------
// Blocks

function blockErr(code: Parameters<typeof blockFault>[0], message: string): Result<never, BlockError> {
  return { ok: false, error: blockFault(code, message) };
}

function invalidTx(index: number, error: TxError): Result<never, BlockError> {
  return { ok: false, error: { code: 'invalid-tx', message: `tx ${index}: ${error.code}: ${error.message}`, index, txError: error } };
}

/**
 * Checks a proposed block against its parent state and executes it. Any invalid tx makes
 * the whole block invalid; the parent state is never changed (states are immutable), so a
 * rejected block leaves nothing behind. Header fields that need the parent header are
 * checked by checkHeaderLinks.
 */
export function executeBlock(parent: LedgerState, block: Block, ctx: ExecutionContext): Result<ExecutedBlock, BlockError> {
  const { header, txs } = block;
  if (header.chainId !== ctx.chainId) return blockErr('bad-chain', `block is for chain ${JSON.stringify(header.chainId)}`);
  if (!Number.isSafeInteger(header.proposer) || header.proposer < 0 || header.proposer >= ctx.validatorCount) {
    return blockErr('bad-proposer', `proposer ${header.proposer} is not one of the ${ctx.validatorCount} validators`);
  }
  if (header.txCount !== txs.length) return blockErr('bad-tx-count', `header says ${header.txCount} txs, the block has ${txs.length}`);
  if (txs.length > ctx.maxBlockTxs) return blockErr('too-large', `${txs.length} txs, the limit is ${ctx.maxBlockTxs}`);

  // Cheap checks over every tx first; signatures and state only once the block holds together.
  const hashes: Hash[] = new Array<Hash>(txs.length);
  const firstIndex = new Map<string, number>();
  let bytes = 0;
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i] as Tx;
    const fault = checkTxShape(tx, ctx.chainId);
    if (fault !== undefined) return invalidTx(i, fault);
    const hash = hashTx(tx);
    const id = toHex(hash);
    const first = firstIndex.get(id);
    if (first !== undefined) {
      return { ok: false, error: { code: 'duplicate-tx', message: `tx ${i} repeats tx ${first}`, index: i, firstIndex: first } };
    }
    firstIndex.set(id, i);
    hashes[i] = hash;
    bytes += txSize(tx);
  }
  if (bytes > ctx.maxBlockBytes) return blockErr('too-large', `txs total ${bytes} bytes, the limit is ${ctx.maxBlockBytes}`);
  if (!bodyMatchesHeader(block)) return blockErr('bad-tx-root', 'tx root does not match the txs');

  const overlay = new StateOverlay(parent);
  const receipts: Receipt[] = new Array<Receipt>(txs.length);
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i] as Tx;
    const hash = hashes[i] as Hash;
    const badSignature = checkSignature(tx, hash, ctx.verifier, ctx);
    if (badSignature !== undefined) return invalidTx(i, badSignature);
    const applied = applyToOverlay(overlay, tx, hash, { height: header.height, index: i });
    if (!applied.ok) return invalidTx(i, applied.error);
    receipts[i] = applied.value;
  }
  const { state, writes } = overlay.commit();
  if (!bytesEqual(state.root, header.stateRoot)) return blockErr('bad-state-root', 'state root after the txs does not match the header');
  return { ok: true, value: { state, receipts, writes } };
}

/** What a header must agree with in its parent: the previous block's header, or genesis for height 1. */
export interface ParentLink {
  readonly height: number;
  readonly hash: Hash;
  readonly timestamp: number;
}

export function checkHeaderLinks(header: BlockHeader, parent: ParentLink, chainId: string): Result<void, BlockError> {
  if (header.chainId !== chainId) return blockErr('bad-chain', `block is for chain ${JSON.stringify(header.chainId)}`);
  if (header.height !== parent.height + 1) return blockErr('bad-height', `height ${header.height} does not follow ${parent.height}`);
  if (!bytesEqual(header.parentHash, parent.hash)) return blockErr('bad-parent', 'parent hash is not the previous block');
  if (!Number.isSafeInteger(header.timestamp) || header.timestamp < parent.timestamp) {
    return blockErr('bad-timestamp', `timestamp ${header.timestamp} is before the parent's ${parent.timestamp}`);
  }
  return { ok: true, value: undefined };
}

// ---------------------------------------------------------------------------------------
// Proposing

/** The header fields a proposer chooses; txCount, txRoot and stateRoot are computed. */
export interface BlockFields {
  readonly chainId: string;
  readonly height: number;
  readonly parentHash: Hash;
  readonly view: number;
  readonly proposer: number;
  readonly timestamp: number;
}

export interface RejectedTx {
  readonly tx: Tx;
  /** Absent when the tx failed its shape checks (wrong chain, malformed, too large): it may not encode. */
  readonly txHash?: Hash;
  readonly error: TxError;
}

export interface BuiltBlock {
  readonly block: Block;
  readonly executed: ExecutedBlock;
  /** Candidates left out because they are invalid here (the mempool may drop them). */
  readonly rejected: readonly RejectedTx[];
}

/**
 * The proposer's side of executeBlock: takes candidates in order, leaves out (and reports)
 * those that fail, and stops at the first candidate that would exceed maxBlockTxs or
 * maxBlockBytes (later candidates are not pulled from the iterable). The block it returns
 * passes executeBlock against the same parent with the same result.
 */
export function buildBlock(parent: LedgerState, candidates: Iterable<Tx>, fields: BlockFields, ctx: ExecutionContext): BuiltBlock {
  if (fields.chainId !== ctx.chainId) throw new RangeError(`buildBlock: fields are for chain ${fields.chainId}, the context for ${ctx.chainId}`);
  const overlay = new StateOverlay(parent);
  const txs: Tx[] = [];
  const hashes: Hash[] = [];
  const receipts: Receipt[] = [];
  const rejected: RejectedTx[] = [];
  let bytes = 0;
  if (ctx.maxBlockTxs > 0) {
    for (const tx of candidates) {
      const fault = checkTxShape(tx, ctx.chainId);
      if (fault !== undefined) {
        rejected.push({ tx, error: fault });
        continue;
      }
      const size = txSize(tx);
      if (bytes + size > ctx.maxBlockBytes) break;
      const hash = hashTx(tx);
      const badSignature = checkSignature(tx, hash, ctx.verifier, ctx);
      if (badSignature !== undefined) {
        rejected.push({ tx, txHash: hash, error: badSignature });
        continue;
      }
      const applied = applyToOverlay(overlay, tx, hash, { height: fields.height, index: txs.length });
      if (!applied.ok) {
        rejected.push({ tx, txHash: hash, error: applied.error });
        continue;
      }
      receipts.push(applied.value);
      txs.push(tx);
      hashes.push(hash);
      bytes += size;
      if (txs.length >= ctx.maxBlockTxs) break;
    }
  }
  const { state, writes } = overlay.commit();
  const header: BlockHeader = {
    chainId: fields.chainId,
    height: fields.height,
    parentHash: fields.parentHash,
    view: fields.view,
    proposer: fields.proposer,
    timestamp: fields.timestamp,
    txCount: txs.length,
    txRoot: merkleRoot(hashes),
    stateRoot: state.root,
  };
  return { block: { header, txs }, executed: { state, receipts, writes }, rejected };
}
