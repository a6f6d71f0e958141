/**
 * The simulator's judge. It watches every commit of every honest node and every message an
 * honest node signs, and stops the run at the first broken rule with enough context to
 * find it again (node, height, view, hashes). The rules:
 *
 * - agreement: no two honest nodes commit different blocks at one height;
 * - validity: every committed tx was signed by a client and submitted as valid, and no tx
 *   is committed twice (at two heights);
 * - certificates: every committed block's certificate verifies against the validator set;
 * - no equivocation: an honest validator never signs two different digests for one
 *   (type, view, height), across restarts too (the checker outlives the replicas);
 * - honest messages carry their sender's index and a signature that verifies;
 * - evidence only ever names a validator that really signed both conflicting messages, and
 *   never an honest one;
 * - liveness (run.ts asks): once faults stop (the network heals, crashed nodes restart,
 *   clients resubmit), every honest node commits every valid tx within `livenessBoundMs`.
 */
import type { Block, ConsensusMessage, QuorumCertificate, Tx } from '../../src/codec/types.js';
import {
  encodeCheckpointPayload,
  encodeNewViewForSigning,
  encodeViewChangeForSigning,
  encodeVotePayload,
} from '../../src/codec/consensus.js';
import type { Evidence } from '../../src/consensus/types.js';
import { bytesEqual, toHex, type Hash, type PublicKey, type Verifier } from '../../src/crypto/index.js';
import { hashBlockHeader, verifyQuorumCertificate } from '../../src/ledger/block.js';
import { hashTx, verifyTxSignature } from '../../src/ledger/tx.js';
import { messageDigest, shortHash } from './transcript.js';

export type ViolationKind =
  | 'agreement'
  | 'validity'
  | 'certificate'
  | 'equivocation'
  | 'bad-message'
  | 'evidence'
  | 'invariant'
  | 'exception'
  | 'contract'
  | 'liveness';

export interface Violation {
  readonly kind: ViolationKind;
  /** Virtual ms since the run began. */
  readonly time: number;
  /** The node concerned, e.g. "r2" (or "" for the cluster as a whole). */
  readonly node: string;
  readonly message: string;
  /** height, view, hashes: whatever locates the fault. */
  readonly context: Readonly<Record<string, string | number>>;
}

/** Thrown to stop a run at its first violation; the runner catches it. */
/**
 * The liveness bound after faults stop: 60 s, or more when the view timeout may have backed
 * off further. Convergence can legitimately take about three capped timeouts: one for a
 * replica to notice the stalled view, one for the NEW-VIEW wait, and one for a straggler's
 * timer to bring it into the others' view. Plus slack for the work itself.
 */
export function livenessBoundMs(maxViewTimeoutMs: number): number {
  return Math.max(60_000, 3 * maxViewTimeoutMs + 10_000);
}

export class ViolationError extends Error {
  constructor(readonly violation: Violation) {
    super(`${violation.kind} at t=${violation.time}ms ${violation.node}: ${violation.message}`);
    this.name = 'ViolationError';
  }
}

export interface CheckedNode {
  readonly name: string;
  /** The validator index it signs as. */
  readonly index: number;
}

export class Checker {
  /** height -> the block hash the first honest node committed there, and who. */
  private readonly committed = new Map<number, { hash: string; node: string }>();
  /** tx hash (hex) -> height it was committed at. */
  private readonly txHeights = new Map<string, number>();
  /** tx hash (hex) -> whether the client meant it to be valid. */
  private readonly submitted = new Map<string, boolean>();
  /** Valid submitted txs not committed yet (for liveness). */
  private readonly unconfirmed = new Set<string>();
  /** `${validator}/${type}/${view}/${height}` -> digest (hex) an honest validator signed. */
  private readonly signedDigests = new Map<string, string>();
  private readonly checkedMessages = new WeakSet<ConsensusMessage>();
  /** The highest height at which a submitted valid tx was committed. */
  private maxTxHeight = 0;
  readonly evidence: Evidence[] = [];
  commits = 0;

  constructor(
    private readonly validators: readonly PublicKey[],
    private readonly verifier: Verifier,
    private readonly clock: () => number,
  ) {}

  fail(kind: ViolationKind, node: string, message: string, context: Record<string, string | number> = {}): never {
    throw new ViolationError({ kind, time: this.clock(), node, message, context });
  }

  // -------------------------------------------------------------------------------------
  // Clients

  /**
   * Registers a client's tx. A tx meant to be valid must verify now; since a tx's hash covers
   * its signature, a committed tx whose hash is registered valid needs no second check.
   */
  onSubmit(tx: Tx, valid: boolean): void {
    const h = toHex(hashTx(tx));
    if (this.submitted.has(h)) return;
    if (valid && !verifyTxSignature(tx, this.verifier)) throw new Error(`simulator bug: client tx ${h.slice(0, 8)} does not verify`);
    this.submitted.set(h, valid);
    if (valid && !this.txHeights.has(h)) this.unconfirmed.add(h);
  }

  /** Valid submitted txs that no honest node has committed yet. */
  get unconfirmedCount(): number {
    return this.unconfirmed.size;
  }

  /** The height every honest node must reach for all valid submitted txs to be committed everywhere. */
  get requiredHeight(): number {
    return this.maxTxHeight;
  }

  get submittedCount(): number {
    return this.submitted.size;
  }

  isUnconfirmedTx(tx: Tx): boolean {
    return this.unconfirmed.has(toHex(hashTx(tx)));
  }

  // -------------------------------------------------------------------------------------
  // Commits

  onCommit(node: CheckedNode, block: Block, blockHash: Hash, certificate: QuorumCertificate): void {
    const height = block.header.height;
    const hex = toHex(blockHash);
    const ctx = { height, view: block.header.view, hash: shortHash(blockHash) };
    if (!bytesEqual(hashBlockHeader(block.header), blockHash)) {
      this.fail('contract', node.name, `commit effect's blockHash is not the hash of its header`, ctx);
    }
    const first = this.committed.get(height);
    if (first === undefined) {
      this.committed.set(height, { hash: hex, node: node.name });
    } else if (first.hash !== hex) {
      this.fail('agreement', node.name, `committed ${shortHash(blockHash)} at height ${height}, but ${first.node} committed ${first.hash.slice(0, 4)}..`, {
        ...ctx,
        other: first.node,
        otherHash: first.hash,
        thisHash: hex,
      });
    }
    const qc = verifyQuorumCertificate(certificate, this.validators, this.verifier, { height, blockHash });
    if (!qc.ok) this.fail('certificate', node.name, `certificate of height ${height} does not verify: ${qc.error.code} (${qc.error.message})`, ctx);
    if (first === undefined) this.checkTxs(node, block, ctx);
    this.commits++;
  }

  private checkTxs(node: CheckedNode, block: Block, ctx: Record<string, string | number>): void {
    const height = block.header.height;
    for (const tx of block.txs) {
      const h = toHex(hashTx(tx));
      const valid = this.submitted.get(h);
      if (valid === undefined) this.fail('validity', node.name, `committed tx ${h.slice(0, 8)} that no client submitted`, ctx);
      if (!valid) this.fail('validity', node.name, `committed tx ${h.slice(0, 8)} that its client made invalid`, ctx);
      const earlier = this.txHeights.get(h);
      if (earlier !== undefined && earlier !== height) {
        this.fail('validity', node.name, `tx ${h.slice(0, 8)} committed twice, at heights ${earlier} and ${height}`, ctx);
      }
      this.txHeights.set(h, height);
      if (this.unconfirmed.delete(h) && height > this.maxTxHeight) this.maxTxHeight = height;
    }
  }

  /** The block hash honest nodes committed at `height`, if any did. */
  committedAt(height: number): string | undefined {
    return this.committed.get(height)?.hash;
  }

  // -------------------------------------------------------------------------------------
  // Messages honest nodes sign

  /**
   * `executed(hash, height)` says whether the node's driver executed that block as valid (or
   * committed it): an honest replica never signs a PREPARE or COMMIT for anything else.
   */
  onHonestSend(node: CheckedNode, m: ConsensusMessage, executed?: (blockHash: Hash, height: number) => boolean): void {
    if (this.checkedMessages.has(m)) return;
    this.checkedMessages.add(m);
    if (!this.signatureValid(m)) {
      this.fail('bad-message', node.name, `sent a ${m.type} whose signature does not verify`, { type: m.type, validator: m.validator });
    }
    if (m.validator !== node.index) {
      // Relaying a NEW-VIEW signed by its primary is fine (it proves itself); anything else
      // naming another validator is a message this node had no business sending.
      if (m.type === 'new-view') return;
      this.fail('bad-message', node.name, `sent a ${m.type} naming validator ${m.validator}, not itself (${node.index})`);
    }
    if (!this.signatureValid(m)) {
      this.fail('bad-message', node.name, `sent a ${m.type} whose signature does not verify`, { type: m.type });
    }
    let key: string;
    switch (m.type) {
      case 'pre-prepare':
      case 'prepare':
      case 'commit':
        key = `${m.validator}/${m.type}/${m.view}/${m.height}`;
        break;
      case 'checkpoint':
        key = `${m.validator}/checkpoint/${m.height}`;
        break;
      default:
        return;
    }
    const digest = toHex(messageDigest(m) as Hash);
    const before = this.signedDigests.get(key);
    if (before === undefined) {
      this.signedDigests.set(key, digest);
      // A vote signed for the first time (a re-sent one may predate a restart that wiped the
      // driver's speculative states) must be for a block this node executed as valid.
      if ((m.type === 'prepare' || m.type === 'commit') && executed !== undefined && !executed(m.blockHash, m.height)) {
        this.fail('validity', node.name, `signed ${m.type} v${m.view} h${m.height} ${digest.slice(0, 4)}.. for a block it never executed as valid`, {
          type: m.type,
          view: m.view,
          height: m.height,
          hash: digest,
        });
      }
    } else if (before !== digest) {
      this.fail('equivocation', node.name, `honest validator ${m.validator} signed two ${m.type}s for one slot: ${before.slice(0, 4)}.. and ${digest.slice(0, 4)}..`, {
        type: m.type,
        view: 'view' in m ? m.view : -1,
        height: m.height,
        first: before,
        second: digest,
      });
    }
  }

  /** Whether a signed message's signature verifies under its claimed sender's key. */
  signatureValid(m: ConsensusMessage): boolean {
    if (m.type === 'block-request' || m.type === 'block-response' || m.type === 'status') return true;
    const key = this.validators[m.validator];
    if (key === undefined) return false;
    switch (m.type) {
      case 'pre-prepare':
        return this.verifier.verify(key, 'pre-prepare', encodeVotePayload({ view: m.view, height: m.height, blockHash: hashBlockHeader(m.block.header) }), m.signature);
      case 'prepare':
      case 'commit':
        return this.verifier.verify(key, m.type, encodeVotePayload({ view: m.view, height: m.height, blockHash: m.blockHash }), m.signature);
      case 'checkpoint':
        return this.verifier.verify(key, 'checkpoint', encodeCheckpointPayload({ height: m.height, blockHash: m.blockHash }), m.signature);
      case 'view-change': {
        const { signature, ...rest } = m;
        return this.verifier.verify(key, 'view-change', encodeViewChangeForSigning(rest), signature);
      }
      case 'new-view': {
        const { signature, ...rest } = m;
        return this.verifier.verify(key, 'new-view', encodeNewViewForSigning(rest), signature);
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // Evidence

  onEvidence(node: CheckedNode, e: Evidence, honest: (validator: number) => boolean): void {
    this.evidence.push(e);
    const ctx = { accused: e.validator, kind: e.kind, view: e.view, height: e.height };
    if (honest(e.validator)) this.fail('evidence', node.name, `reported evidence against honest validator ${e.validator}`, ctx);
    for (const m of [e.first, e.second]) {
      if (m.validator !== e.validator || m.type !== e.kind || !this.signatureValid(m)) {
        this.fail('evidence', node.name, `evidence against ${e.validator} holds a message it did not sign`, ctx);
      }
    }
    const a = messageDigest(e.first);
    const b = messageDigest(e.second);
    if (a !== undefined && b !== undefined && bytesEqual(a, b)) {
      this.fail('evidence', node.name, `evidence against ${e.validator} holds two messages for the same digest`, ctx);
    }
  }
}
