/**
 * The PBFT replica: a deterministic state machine. `step(event)` returns the effects to
 * carry out, in order; nothing in here reads a clock, touches the network or disk, or
 * draws a random number. See DESIGN.md ("The consensus core") and view-change.ts.
 *
 * Normal case, per height h in view v (several heights in flight, up to `windowSize`):
 *   primary: PRE-PREPARE(v, h, block) built from the mempool on top of h-1;
 *   everyone: execute the block on its parent's state, then PREPARE(v, h, hash);
 *   2f+1 PREPAREs: prepared; once h-1 is committed locally: COMMIT(v, h, hash);
 *   2f+1 COMMITs: committed, in strict height order; the COMMITs are its certificate.
 * No vote for a slot is ever signed twice with different content, even across restarts.
 * COMMITs (with the prepared certificate behind them), VIEW-CHANGEs and NEW-VIEWs are
 * persisted before they leave (`persist: true`) and replayed from the WAL. PRE-PREPAREs
 * and PREPAREs are not: a restarted replica instead signs none in any view it may have
 * been in before (`silentThrough`), since it cannot know what it sent there. Two of the
 * three synced writes on a block's path are gone; the price is that a restarted primary,
 * or a restart that leaves fewer than 2f+1 replicas able to PREPARE, costs a view change.
 */
import { bytesEqual, toHex } from '../crypto/bytes.js';
import type { Hash } from '../crypto/index.js';
import type {
  Block,
  BlockHeader,
  BlockRequest,
  BlockResponse,
  Checkpoint,
  Commit,
  ConsensusMessage,
  NewView,
  PrePrepare,
  Prepare,
  PreparedCertificate,
  QuorumCertificate,
  Status,
  ViewChange,
} from '../codec/types.js';
import { LIMITS } from '../codec/types.js';
import {
  encodeCheckpointPayload,
  encodeNewViewForSigning,
  encodeViewChangeForSigning,
  encodeVotePayload,
} from '../codec/consensus.js';
import { checkNewView, checkQuorumCertificate, checkViewChange, type ValidatorSet } from './certificates.js';
import { planNewView, type NewViewPlan } from './view-change.js';
import {
  faultTolerance,
  primaryOf,
  quorumSize,
  type ConsensusCrypto,
  type Effect,
  type Evidence,
  type ReplicaConfig,
  type ReplicaEvent,
  type RestoredState,
} from './types.js';
import { CatchUp, MAX_SYNC_AHEAD } from './catch-up.js';
import { ViewChangeBook } from './view-change-book.js';
import { VoteBook } from './votes.js';
import { replayWal, signedKey } from './wal-replay.js';

type Execution = 'pending' | 'valid' | 'invalid';

interface KnownBlock {
  readonly block: Block;
  readonly hash: Hash;
  readonly height: number;
  execution: Execution | undefined;
}

/** A proposal accepted in the current view at one height. */
interface Slot {
  readonly height: number;
  readonly hash: Hash;
  readonly hashHex: string;
  readonly block: Block;
}

interface CommittedTip {
  readonly height: number;
  readonly hash: Hash;
  readonly hashHex: string;
  readonly timestamp: number;
  readonly certificate: QuorumCertificate | null;
}

interface ActivePlan {
  readonly baseHeight: number;
  readonly lastPlanned: number;
  readonly reproposals: ReadonlyMap<number, { readonly hash: Hash; readonly hashHex: string; readonly header: BlockHeader }>;
}

interface OutboxEntry {
  readonly message: ConsensusMessage;
  readonly height: number;
  sentAt: number;
}

/** VIEW-CHANGEs remembered per validator (the highest views win). */
const MAX_VIEW_CHANGES_PER_VALIDATOR = 4;
const MAX_EVIDENCE_KEYS = 4096;
/** Heights of recent commits remembered, to vote for re-proposals of blocks already committed here. */
const RECENT_COMMITS = 256;
/** How often (in heights) the record of what this replica signed is trimmed. */
const SIGNED_PRUNE_EVERY = 64;

export class Replica {
  private readonly n: number;
  private readonly f: number;
  private readonly quorum: number;
  private readonly set: ValidatorSet;
  private readonly self: number;
  private readonly genesisHex: string;

  private now: number;
  private currentView = 0;
  private viewChanging = false;
  /** When the current view (or the wait for its NEW-VIEW) began. */
  private viewStartedAt: number;
  /** When 2f+1 replicas were first seen asking for the view being changed to. */
  private quorumSince: number | undefined;
  /** Views started without a commit since: the exponent of the timeout backoff. */
  private failedViews = 0;
  /** The last commit, or the moment pending work appeared while idle. */
  private lastProgressAt: number;
  private nextRetransmitAt: number;

  private committedTip: CommittedTip;
  private readonly recentCommits = new Map<number, string>();
  private stableCheckpoint: { height: number; hashHex: string };

  private readonly blocks = new Map<string, KnownBlock>();
  private readonly slots = new Map<number, Slot>();
  private readonly prePreparesSeen = new Map<string, PrePrepare>();
  private readonly prepares = new VoteBook<Prepare>();
  private readonly commits = new VoteBook<Commit>();
  private readonly checkpoints = new VoteBook<Checkpoint>();
  private readonly preparedCerts = new Map<number, PreparedCertificate>();

  /** `${kind}:${view}:${height}` -> hash hex of what this replica signed. Never contradicted. */
  private readonly signed = new Map<string, string>();
  private readonly outbox = new Map<string, OutboxEntry>();
  private ownViewChange: ViewChange | null = null;
  /**
   * This replica signs no new PRE-PREPARE or PREPARE in views up to this one: it ran before
   * on this WAL, and in those views it may have signed some that the WAL does not hold.
   * -1 on a first start. A view change past it lifts the silence.
   */
  private silentThrough = -1;
  /**
   * Blocks this replica proposed, by `${view}:${height}`, kept until that height commits:
   * a slot it signed must be proposed again with exactly that block (after a restart the
   * WAL supplies them), never with a new one.
   */
  private readonly ownProposals = new Map<string, Block>();

  private readonly viewChanges = new ViewChangeBook();
  private newView: NewView | null = null;
  private plan: ActivePlan | null = null;

  private mempoolPending = 0;
  private building: number | null = null;

  private readonly catchUp: CatchUp;
  private readonly helpedAt = new Map<number, number>();
  private readonly bodyServedAt = new Map<number, number>();
  private readonly statusCheckedAt = new Map<number, number>();
  private readonly evidenceKeys = new Set<string>();

  constructor(
    private readonly config: ReplicaConfig,
    private readonly crypto: ConsensusCrypto,
    restored: RestoredState,
  ) {
    this.n = config.validators.length;
    this.f = faultTolerance(this.n);
    this.quorum = quorumSize(this.n);
    this.self = config.self;
    if (this.self < 0 || this.self >= this.n) throw new RangeError(`replica index ${this.self} outside 0..${this.n - 1}`);
    if (config.windowSize < 1 || config.windowSize > LIMITS.preparedPerViewChange) {
      throw new RangeError(`windowSize must be 1..${LIMITS.preparedPerViewChange}`);
    }
    this.set = { chainId: config.chainId, validators: config.validators, crypto };
    this.genesisHex = toHex(config.genesisHash);
    this.now = restored.now;
    this.viewStartedAt = restored.now;
    this.lastProgressAt = restored.now;
    this.nextRetransmitAt = restored.now + config.retransmitMs;
    const c = restored.committed;
    this.committedTip = { height: c.height, hash: c.hash, hashHex: toHex(c.hash), timestamp: c.timestamp, certificate: c.certificate };
    this.stableCheckpoint = { height: 0, hashHex: this.genesisHex };
    this.catchUp = new CatchUp(this.set, config.retransmitMs, 4 * config.windowSize, c.height);
    for (const { certificate: cert, block } of restored.prepared ?? []) {
      const held = this.preparedCerts.get(cert.height);
      if (cert.height <= c.height || (held !== undefined && cert.view <= held.view)) continue;
      const hash = crypto.hashHeader(cert.header);
      if (!bytesEqual(hash, crypto.hashHeader(block.header))) continue; // not the certified block: ignore the record
      this.preparedCerts.set(cert.height, cert);
      this.rememberBlock(block, hash, toHex(hash), cert.height);
    }
    this.restoreFromWal(restored.wal, restored.ranBefore);
  }

  // ------------------------------------------------------------------------------------
  // Public face

  get view(): number {
    return this.currentView;
  }

  get committedHeight(): number {
    return this.committedTip.height;
  }

  get isViewChanging(): boolean {
    return this.viewChanging;
  }

  get isPrimary(): boolean {
    return primaryOf(this.currentView, this.n) === this.self;
  }

  status(): {
    view: number;
    viewChanging: boolean;
    primary: number;
    committedHeight: number;
    committedHash: Hash;
    stableCheckpoint: number;
    inFlight: number;
    catchingUp: boolean;
  } {
    return {
      view: this.currentView,
      viewChanging: this.viewChanging,
      primary: primaryOf(this.currentView, this.n),
      committedHeight: this.committedTip.height,
      committedHash: this.committedTip.hash,
      stableCheckpoint: this.stableCheckpoint.height,
      inFlight: this.slots.size,
      catchingUp: this.catchUp.knownHeight > this.committedTip.height + 1,
    };
  }

  step(event: ReplicaEvent): Effect[] {
    const out: Effect[] = [];
    switch (event.type) {
      case 'tick':
        this.onTick(event.now, out);
        break;
      case 'message':
        if (Number.isInteger(event.from) && event.from >= 0 && event.from < this.n && event.from !== this.self) {
          this.onMessage(event.from, event.message, out);
        }
        break;
      case 'mempool':
        this.onMempool(event.pending);
        break;
      case 'proposal-built':
        this.onProposalBuilt(event.height, event.block, out);
        break;
      case 'executed':
        this.onExecuted(event.blockHash, event.valid, out);
        break;
      case 'synced':
        this.catchUp.offer(event.block, event.certificate, this.committedTip.height);
        break;
    }
    this.advance(out);
    if (this.config.checkInvariants === true) this.checkInvariants();
    else this.checkCheapInvariants();
    return out;
  }

  // ------------------------------------------------------------------------------------
  // Events

  private onTick(now: number, out: Effect[]): void {
    if (now > this.now) this.now = now;
    if (this.viewChanging) {
      // PBFT's rule: the wait for a NEW-VIEW is timed only from the moment 2f+1 replicas
      // asked for this view (or a later one). A replica that is alone (cut off, or just
      // faster) stays one view ahead instead of racing away; when the others need it they
      // time out into its view, and the NEW-VIEW brings everyone together.
      this.noteViewChangeQuorum();
      if (this.quorumSince !== undefined && this.now - this.quorumSince >= this.timeout()) this.startViewChange(this.currentView + 1, out);
    } else if (!this.hasPendingWork()) {
      this.lastProgressAt = this.now;
    } else if (this.now - this.lastProgressAt >= this.timeout()) {
      this.startViewChange(this.currentView + 1, out);
    }
    if (this.now >= this.nextRetransmitAt) {
      this.retransmit(out);
      this.nextRetransmitAt = this.now + this.config.retransmitMs;
    }
    this.maybeFetch(out);
  }

  private onMempool(pending: number): void {
    if (pending > 0 && this.mempoolPending === 0 && !this.hasPendingWork()) this.lastProgressAt = this.now;
    this.mempoolPending = Math.max(0, pending);
  }

  private onMessage(from: number, message: ConsensusMessage, out: Effect[]): void {
    // Peers speak only for themselves; proofs carry others' words. A NEW-VIEW is the one
    // message relayed as is: it proves itself (the primary's signature, 2f+1 VIEW-CHANGEs),
    // and any replica may hand it to a peer stuck in an older view.
    if (message.validator !== from && message.type !== 'new-view') return;
    switch (message.type) {
      case 'pre-prepare':
        return this.onPrePrepare(message, out);
      case 'prepare':
        return this.onPrepare(message, out);
      case 'commit':
        return this.onCommit(message, out);
      case 'checkpoint':
        return this.onCheckpoint(message, out);
      case 'view-change':
        return this.onViewChange(message, out);
      case 'new-view':
        return this.onNewView(message, out);
      case 'block-request':
        return this.onBlockRequest(message, out);
      case 'block-response':
        return this.onBlockResponse(message);
      case 'status':
        return this.onStatus(message, out);
    }
  }

  private onPrePrepare(m: PrePrepare, out: Effect[]): void {
    if (primaryOf(m.view, this.n) !== m.validator) return;
    if (m.view !== this.currentView || this.viewChanging) return; // retransmission brings it again when we are there
    const h = m.height;
    const header = m.block.header;
    if (header.height !== h || header.chainId !== this.config.chainId) return;
    if (h > this.committedTip.height + 2 * this.config.windowSize) return;
    const hash = this.crypto.hashHeader(header);
    const hashHex = toHex(hash);
    const seenKey = `${m.view}:${h}`;
    const seen = this.prePreparesSeen.get(seenKey);
    if (seen !== undefined && toHex(this.crypto.hashHeader(seen.block.header)) === hashHex) return; // a resend
    if (!this.verifyVote('pre-prepare', m.validator, m.view, h, hash, m.signature)) return this.misbehaved(m.validator, 'bad pre-prepare signature', out);

    if (seen !== undefined) {
      const seenHash = this.crypto.hashHeader(seen.block.header);
      if (!bytesEqual(seenHash, hash)) {
        this.reportEvidence('pre-prepare', m.validator, m.view, h, seen, m, out);
        this.startViewChange(this.currentView + 1, out); // an equivocating primary is replaced
      }
      return;
    }
    this.prePreparesSeen.set(seenKey, m);

    if (h <= this.committedTip.height) {
      this.voteForCommitted(h, hash, hashHex, out);
      return;
    }
    const planned = this.plan?.reproposals.get(h);
    if (planned !== undefined) {
      if (planned.hashHex !== hashHex) return; // the primary deviates from its own NEW-VIEW
    } else {
      if (this.plan !== null && h <= this.plan.lastPlanned) return;
      if (header.view !== m.view || header.proposer !== m.validator) return;
      if (header.timestamp > this.now + this.config.maxClockSkewMs) return;
    }
    if (!this.crypto.bodyMatchesHeader(m.block)) {
      // The primary signed a header whose body does not match it: provably faulty.
      this.startViewChange(this.currentView + 1, out);
      return;
    }
    this.rememberBlock(m.block, hash, hashHex, h);
    this.slots.set(h, { height: h, hash, hashHex, block: m.block });
  }

  private onPrepare(m: Prepare, out: Effect[]): void {
    if (m.view < this.currentView || m.view > this.currentView + 1) return;
    if (!this.heightInWindow(m.height)) return;
    const hashHex = toHex(m.blockHash);
    if (this.prepares.holds(m.view, m.height, m.validator, hashHex)) return; // a resend: no second verification
    if (this.prepares.count(m.view, m.height, hashHex) >= this.quorum) return; // see `onCommit`
    if (!this.verifyVote('prepare', m.validator, m.view, m.height, m.blockHash, m.signature)) return this.misbehaved(m.validator, 'bad prepare signature', out);
    const result = this.prepares.add(m.view, m.height, m.blockHash, hashHex, m);
    if (result.kind === 'conflict') this.reportEvidence('prepare', m.validator, m.view, m.height, result.previous, m, out);
  }

  private onCommit(m: Commit, out: Effect[]): void {
    // Commits from the previous view still complete a certificate: a QC proves a commit in any view.
    if (m.view + 1 < this.currentView || m.view > this.currentView + 1) return;
    if (!this.heightInWindow(m.height)) return;
    const hashHex = toHex(m.blockHash);
    if (this.commits.holds(m.view, m.height, m.validator, hashHex)) return; // a resend: no second verification
    // The quorum for this block is complete: one more matching vote can change nothing (the
    // certificate takes 2f+1 signatures), so it is not worth a signature check, the most
    // expensive step of a vote. A vote for another block is still checked: it may be evidence.
    if (this.commits.count(m.view, m.height, hashHex) >= this.quorum) return;
    if (!this.verifyVote('commit', m.validator, m.view, m.height, m.blockHash, m.signature)) return this.misbehaved(m.validator, 'bad commit signature', out);
    const result = this.commits.add(m.view, m.height, m.blockHash, hashHex, m);
    if (result.kind === 'conflict') this.reportEvidence('commit', m.validator, m.view, m.height, result.previous, m, out);
  }

  private onCheckpoint(m: Checkpoint, out: Effect[]): void {
    const interval = this.config.checkpointInterval;
    if (m.height % interval !== 0 || m.height <= this.stableCheckpoint.height) return;
    if (m.height > this.committedTip.height + interval * 64) return;
    const publicKey = this.config.validators[m.validator];
    if (publicKey === undefined) return;
    const hashHex = toHex(m.blockHash);
    if (this.checkpoints.holds(0, m.height, m.validator, hashHex)) return; // a resend
    const payload = encodeCheckpointPayload({ height: m.height, blockHash: m.blockHash });
    if (!this.crypto.verify(publicKey, 'checkpoint', payload, m.signature)) return this.misbehaved(m.validator, 'bad checkpoint signature', out);
    const result = this.checkpoints.add(0, m.height, m.blockHash, hashHex, m);
    if (result.kind === 'conflict') {
      this.reportEvidence('checkpoint', m.validator, 0, m.height, result.previous, m, out);
      return;
    }
    if (result.kind === 'added' && result.count >= this.quorum) this.onCheckpointQuorum(m.height, hashHex, m.blockHash, out);
  }

  private onViewChange(m: ViewChange, out: Effect[]): void {
    const current = this.currentView;
    if (m.newView < current || (m.newView === current && !this.viewChanging)) {
      this.helpLaggard(m.validator, out); // it is behind us: show it the NEW-VIEW we are in
      return;
    }
    const publicKey = this.config.validators[m.validator];
    if (publicKey === undefined) return;
    const { signature, ...unsigned } = m;
    if (!this.crypto.verify(publicKey, 'view-change', encodeViewChangeForSigning(unsigned), signature)) return;
    if (!this.viewChanges.add(m)) return;
    if (this.viewChanging) this.noteViewChangeQuorum();
    const target = this.viewChanges.joinTarget(this.currentView, this.f, this.self);
    if (target !== undefined) this.startViewChange(target, out); // f+1 want it: at least one honest does
    this.maybeSendNewView(out);
  }

  private onNewView(m: NewView, out: Effect[]): void {
    if (m.view < this.currentView || (m.view === this.currentView && !this.viewChanging)) return;
    if (checkNewView(this.set, m, primaryOf(m.view, this.n)) !== undefined) return;
    const plan = planNewView(m.viewChanges, this.config.genesisHash, (h) => this.crypto.hashHeader(h));
    out.push({ type: 'persist', message: m });
    this.enterView(m, plan, out);
  }

  private onBlockRequest(m: BlockRequest, out: Effect[]): void {
    const known = this.blocks.get(toHex(m.blockHash));
    if (known === undefined) return;
    const last = this.bodyServedAt.get(m.validator) ?? Number.NEGATIVE_INFINITY;
    if (this.now - last < this.config.retransmitMs / 4) return; // bounded work per peer
    this.bodyServedAt.set(m.validator, this.now);
    const response: BlockResponse = { type: 'block-response', validator: this.self, block: known.block };
    out.push({ type: 'send', to: m.validator, message: response, persist: false });
  }

  private onBlockResponse(m: BlockResponse): void {
    const hash = this.crypto.hashHeader(m.block.header);
    const hashHex = toHex(hash);
    if (!this.catchUp.asked(hashHex)) return; // unsolicited: not even worth a tx root
    if (!this.crypto.bodyMatchesHeader(m.block)) return;
    this.catchUp.answerBody(hashHex);
    this.rememberBlock(m.block, hash, hashHex, m.block.header.height);
  }

  private onStatus(m: Status, out: Effect[]): void {
    if (m.view < this.currentView) this.helpLaggard(m.validator, out);
    const qc = m.committed;
    if (qc === null || qc.height <= this.catchUp.knownHeight) return;
    // Checking a certificate costs 2f+1 verifies: at most one status per peer per period.
    const last = this.statusCheckedAt.get(m.validator) ?? Number.NEGATIVE_INFINITY;
    if (this.now - last < this.config.retransmitMs / 2) return;
    this.statusCheckedAt.set(m.validator, this.now);
    if (checkQuorumCertificate(this.set, qc) !== undefined) return;
    this.catchUp.learn(qc.height);
  }

  private onProposalBuilt(height: number, block: Block | null, out: Effect[]): void {
    if (this.building !== height) return;
    this.building = null;
    if (block === null) {
      this.mempoolPending = 0;
      return;
    }
    if (this.viewChanging || !this.isPrimary || block.header.view !== this.currentView || block.header.height !== height) return;
    // Catch-up may have committed this height while the block was being built.
    if (height <= this.committedTip.height || this.slots.has(height)) return;
    const hash = this.crypto.hashHeader(block.header);
    const hashHex = toHex(hash);
    const known = this.rememberBlock(block, hash, hashHex, height);
    known.execution = 'valid'; // the driver built it by executing it
    this.sendPrePrepare(height, block, hash, hashHex, out);
  }

  private onExecuted(blockHash: Hash, valid: boolean, out: Effect[]): void {
    const hashHex = toHex(blockHash);
    const known = this.blocks.get(hashHex);
    if (known === undefined || known.execution !== 'pending') return;
    known.execution = valid ? 'valid' : 'invalid';
    if (!valid) {
      const slot = this.slots.get(known.height);
      const fresh = this.plan === null || known.height > this.plan.lastPlanned;
      if (slot !== undefined && slot.hashHex === hashHex && fresh && !this.viewChanging) {
        this.startViewChange(this.currentView + 1, out); // a primary that proposes an invalid block is replaced
      }
    }
  }

  // ------------------------------------------------------------------------------------
  // The normal case

  /** Runs every rule that may fire after an event, until none does. */
  private advance(out: Effect[]): void {
    while (this.commitNext(out)) {
      // each commit may unlock the next height
    }
    this.driveSlots(out);
    while (this.commitNext(out)) {
      this.driveSlots(out);
    }
    this.propose(out);
  }

  /** Execute, PREPARE and COMMIT along the accepted proposals, lowest height first. */
  private driveSlots(out: Effect[]): void {
    if (this.viewChanging) return;
    let parentHash = this.committedTip.hash;
    for (let h = this.committedTip.height + 1; ; h++) {
      const slot = this.slots.get(h);
      if (slot === undefined) return;
      if (!bytesEqual(slot.block.header.parentHash, parentHash)) return;
      const known = this.blocks.get(slot.hashHex);
      if (known === undefined) return;
      if (known.execution === undefined) {
        known.execution = 'pending';
        out.push({ type: 'execute', height: h, blockHash: slot.hash, block: slot.block });
        return;
      }
      if (known.execution !== 'valid') return;
      this.sendVote('prepare', h, slot.hash, slot.hashHex, out);
      if (this.prepares.count(this.currentView, h, slot.hashHex) >= this.quorum) {
        this.recordPrepared(h, slot, out);
        if (h === this.committedTip.height + 1) this.sendVote('commit', h, slot.hash, slot.hashHex, out);
      }
      parentHash = slot.hash;
    }
  }

  private recordPrepared(height: number, slot: Slot, out: Effect[]): void {
    const existing = this.preparedCerts.get(height);
    if (existing !== undefined && existing.view >= this.currentView) return;
    const certificate: PreparedCertificate = {
      view: this.currentView,
      height,
      header: slot.block.header,
      signatures: this.prepares.signatures(this.currentView, height, slot.hashHex),
    };
    this.preparedCerts.set(height, certificate);
    // On disk before the COMMIT it allows leaves (the driver persists a step's records first).
    out.push({ type: 'persist-prepared', certificate, block: slot.block });
  }

  /** Commits height tip+1 if a certificate and the body for it are at hand. */
  private commitNext(out: Effect[]): boolean {
    const h = this.committedTip.height + 1;
    const fetched = this.catchUp.next(h, this.committedTip.hash);
    if (fetched !== undefined) {
      this.commit(fetched.block, fetched.hash, fetched.certificate, out);
      return true;
    }
    for (const { view, hash, hashHex } of this.commits.quorums(h, this.quorum)) {
      const known = this.blocks.get(hashHex);
      if (known === undefined) {
        this.requestBody(h, hash, hashHex, out);
        continue;
      }
      if (!bytesEqual(known.block.header.parentHash, this.committedTip.hash)) continue;
      const certificate: QuorumCertificate = {
        view,
        height: h,
        blockHash: hash,
        signatures: this.commits.signatures(view, h, hashHex),
      };
      this.commit(known.block, hash, certificate, out);
      return true;
    }
    return false;
  }

  private commit(block: Block, hash: Hash, certificate: QuorumCertificate, out: Effect[]): void {
    const h = block.header.height;
    const hashHex = toHex(hash);
    out.push({ type: 'commit', block, blockHash: hash, certificate });
    this.committedTip = { height: h, hash, hashHex, timestamp: block.header.timestamp, certificate };
    this.catchUp.learn(h);
    this.recentCommits.set(h, hashHex);
    this.recentCommits.delete(h - RECENT_COMMITS);
    this.lastProgressAt = this.now;
    this.failedViews = 0;
    this.pruneThrough(h);
    if (h % this.config.checkpointInterval === 0) this.sendCheckpoint(h, hash, hashHex, out);
  }

  /** Drops everything about heights at or below a committed height. */
  private pruneThrough(h: number): void {
    this.slots.delete(h);
    for (const [key, block] of this.ownProposals) if (block.header.height <= h) this.ownProposals.delete(key);
    for (const [hex, known] of this.blocks) if (known.height <= h) this.blocks.delete(hex);
    for (const key of this.preparedCerts.keys()) if (key <= h) this.preparedCerts.delete(key);
    for (const [key, m] of this.prePreparesSeen) if (m.height <= h) this.prePreparesSeen.delete(key);
    for (const [key, entry] of this.outbox) if (entry.height <= h) this.outbox.delete(key);
    this.catchUp.prune(h, this.now);
    if (h % SIGNED_PRUNE_EVERY === 0) this.pruneSigned(h - RECENT_COMMITS);
    this.prepares.prune((_view, height) => height > h);
    this.commits.prune((_view, height) => height > h);
  }

  /**
   * Forgets what this replica signed at heights at or below `h`. Safe once no vote can be
   * cast there again: proposals below the committed tip are ignored, and the one exception,
   * a vote for a re-proposal of a committed block (voteForCommitted), only reaches back
   * RECENT_COMMITS heights, so `h` stays that far below the tip. Without this the record
   * grew by ~3 entries per block for the life of the process (a 1M-tx soak: ~25,000 blocks).
   */
  private pruneSigned(h: number): void {
    if (h <= 0) return;
    for (const key of this.signed.keys()) {
      if (Number(key.slice(key.lastIndexOf(':') + 1)) <= h) this.signed.delete(key);
    }
  }

  /** A re-proposal of a block this replica already committed: vote for it so others reach quorum. */
  private voteForCommitted(h: number, hash: Hash, hashHex: string, out: Effect[]): void {
    if (this.recentCommits.get(h) !== hashHex) return;
    this.sendVote('prepare', h, hash, hashHex, out);
    this.sendVote('commit', h, hash, hashHex, out);
  }

  /** Signs, persists and broadcasts PREPARE or COMMIT, unless already signed (or it would contradict what was). */
  private sendVote(kind: 'prepare' | 'commit', height: number, hash: Hash, hashHex: string, out: Effect[]): void {
    const view = this.currentView;
    const key = signedKey(kind, view, height);
    const previous = this.signed.get(key);
    if (previous !== undefined && previous !== hashHex) return; // signed otherwise (perhaps before a restart): never twice
    if (previous !== undefined && this.outbox.has(`${kind}:${height}`)) return; // sent already
    if (previous === undefined && kind === 'prepare' && this.isSilent(view)) return; // may have signed another before a restart
    this.signed.set(key, hashHex);
    // Ed25519 is deterministic: re-signing a vote restored from the WAL yields the same bytes.
    const signature = this.crypto.sign(kind, encodeVotePayload({ view, height, blockHash: hash }));
    const message: Prepare | Commit = { type: kind, view, height, blockHash: hash, validator: this.self, signature };
    this.outbox.set(`${kind}:${height}`, { message, height, sentAt: this.now });
    // A COMMIT is remembered (with the certificate behind it); a PREPARE is covered by the silence after a restart.
    out.push({ type: 'broadcast', message, persist: previous === undefined && kind === 'commit' });
    if (message.type === 'prepare') this.prepares.add(view, height, hash, hashHex, message);
    else this.commits.add(view, height, hash, hashHex, message);
  }

  /** Whether this replica may have signed PRE-PREPAREs or PREPAREs in `view` before a restart that it does not remember. */
  private isSilent(view: number): boolean {
    return view <= this.silentThrough;
  }

  private sendCheckpoint(height: number, hash: Hash, hashHex: string, out: Effect[]): void {
    const signature = this.crypto.sign('checkpoint', encodeCheckpointPayload({ height, blockHash: hash }));
    const message: Checkpoint = { type: 'checkpoint', height, blockHash: hash, validator: this.self, signature };
    // A checkpoint names a committed block: it cannot contradict anything, so it needs no WAL entry.
    out.push({ type: 'broadcast', message, persist: false });
    const result = this.checkpoints.add(0, height, hash, hashHex, message);
    if (result.kind === 'added' && result.count >= this.quorum) this.onCheckpointQuorum(height, hashHex, hash, out);
  }

  private onCheckpointQuorum(height: number, hashHex: string, hash: Hash, out: Effect[]): void {
    if (height > this.committedTip.height) {
      this.catchUp.learn(height); // 2f+1 say it is committed: we are behind
      return;
    }
    if (height <= this.stableCheckpoint.height) return;
    this.stableCheckpoint = { height, hashHex };
    this.checkpoints.prune((_view, h) => h > height);
    out.push({ type: 'stable-checkpoint', height, blockHash: hash });
  }

  // ------------------------------------------------------------------------------------
  // Proposing (primary)

  private propose(out: Effect[]): void {
    if (this.viewChanging || !this.isPrimary || this.isSilent(this.currentView)) return;
    const plan = this.plan;
    if (plan !== null) {
      for (const [h, planned] of plan.reproposals) {
        if (h <= this.committedTip.height || this.slots.has(h)) continue;
        if (h > this.committedTip.height + this.config.windowSize) break; // after catching up to the plan's base
        const known = this.blocks.get(planned.hashHex);
        if (known === undefined) this.requestBody(h, planned.hash, planned.hashHex, out);
        else this.sendPrePrepare(h, known.block, planned.hash, planned.hashHex, out);
      }
    }
    if (this.building !== null) return;
    let top = Math.max(this.committedTip.height, plan?.lastPlanned ?? 0);
    for (const h of this.slots.keys()) if (h > top) top = h;
    const next = top + 1;
    if (this.resendOwnProposal(next, out)) return;
    if (this.mempoolPending <= 0) return;
    const inFlight = next - 1 - this.committedTip.height;
    if (inFlight >= Math.min(this.config.maxProposalsInFlight ?? this.config.windowSize, this.config.windowSize)) return;
    const minPipelined = this.config.minPipelinedTxs;
    if (minPipelined !== undefined && inFlight > 0 && this.freshPendingTxs(next) < minPipelined) return;
    let parentHash: Hash;
    let parentTimestamp: number;
    if (top === this.committedTip.height) {
      parentHash = this.committedTip.hash;
      parentTimestamp = this.committedTip.timestamp;
    } else {
      const parent = this.slots.get(top);
      if (parent === undefined || this.blocks.get(parent.hashHex)?.execution !== 'valid') return;
      parentHash = parent.hash;
      parentTimestamp = parent.block.header.timestamp;
    }
    this.building = next;
    out.push({
      type: 'build-proposal',
      height: next,
      view: this.currentView,
      proposer: this.self,
      parentHash,
      timestamp: Math.max(this.now, parentTimestamp),
    });
  }

  /**
   * Pending txs not yet in a block in flight: the mempool's count still includes txs of
   * uncommitted blocks, whose sizes the slots know. An estimate (a slot may hold a block
   * another primary proposed with txs this mempool never had), good enough for a policy.
   */
  private freshPendingTxs(below: number): number {
    let inBlocks = 0;
    for (let h = this.committedTip.height + 1; h < below; h++) inBlocks += this.slots.get(h)?.block.txs.length ?? 0;
    return this.mempoolPending - inBlocks;
  }

  /**
   * If this replica already signed a proposal for (view, height) — before a restart, say —
   * it proposes that block again and returns true. It also returns true, proposing
   * nothing, when it signed one whose block it no longer has: then the slot is lost for
   * this view and the view timer replaces this primary. Either way no new block is built.
   */
  private resendOwnProposal(height: number, out: Effect[]): boolean {
    const signedHex = this.signed.get(signedKey('pre-prepare', this.currentView, height));
    if (signedHex === undefined) return false;
    const block = this.ownProposals.get(`${this.currentView}:${height}`);
    if (block === undefined) return true;
    const hash = this.crypto.hashHeader(block.header);
    const hashHex = toHex(hash);
    if (hashHex !== signedHex) return true;
    const parentOk = height === this.committedTip.height + 1
      ? bytesEqual(block.header.parentHash, this.committedTip.hash)
      : this.slots.get(height - 1)?.hashHex === toHex(block.header.parentHash);
    if (!parentOk) return true;
    this.rememberBlock(block, hash, hashHex, height);
    this.sendPrePrepare(height, block, hash, hashHex, out);
    return true;
  }

  private sendPrePrepare(height: number, block: Block, hash: Hash, hashHex: string, out: Effect[]): void {
    const view = this.currentView;
    const key = signedKey('pre-prepare', view, height);
    const previous = this.signed.get(key);
    if (previous !== undefined && previous !== hashHex) return; // never propose two blocks for one slot
    if (previous === undefined && this.isSilent(view)) return; // may have proposed another before a restart
    this.signed.set(key, hashHex);
    this.ownProposals.set(`${view}:${height}`, block);
    const signature = this.crypto.sign('pre-prepare', encodeVotePayload({ view, height, blockHash: hash }));
    const message: PrePrepare = { type: 'pre-prepare', view, height, validator: this.self, block, signature };
    this.outbox.set(`pre-prepare:${height}`, { message, height, sentAt: this.now });
    out.push({ type: 'broadcast', message, persist: false }); // covered by the silence after a restart
    this.prePreparesSeen.set(`${view}:${height}`, message);
    this.slots.set(height, { height, hash, hashHex, block });
  }

  // ------------------------------------------------------------------------------------
  // View change

  private timeout(): number {
    const factor = 2 ** Math.min(this.failedViews, 20);
    return Math.min(this.config.maxViewTimeoutMs, this.config.viewTimeoutMs * factor);
  }

  private hasPendingWork(): boolean {
    return (
      this.mempoolPending > 0 ||
      this.slots.size > 0 ||
      this.building !== null ||
      this.catchUp.knownHeight > this.committedTip.height
    );
  }

  private startViewChange(target: number, out: Effect[]): void {
    if (target <= this.currentView) return;
    this.currentView = target;
    this.viewChanging = true;
    this.viewStartedAt = this.now;
    this.quorumSince = undefined;
    this.failedViews++;
    this.slots.clear();
    this.outbox.clear();
    this.plan = null;
    this.newView = null;
    this.building = null;
    this.pruneViews();

    let vc: ViewChange;
    if (this.ownViewChange !== null && this.ownViewChange.newView === target) {
      vc = this.ownViewChange; // restored from the WAL: say exactly the same again
    } else {
      const prepared = [...this.preparedCerts.values()]
        .filter((cert) => cert.height > this.committedTip.height)
        .sort((a, b) => a.height - b.height)
        .slice(0, LIMITS.preparedPerViewChange);
      const unsigned: Omit<ViewChange, 'signature'> = {
        type: 'view-change',
        newView: target,
        validator: this.self,
        committed: this.committedTip.certificate,
        prepared,
      };
      vc = { ...unsigned, signature: this.crypto.sign('view-change', encodeViewChangeForSigning(unsigned)) };
      this.ownViewChange = vc;
      out.push({ type: 'broadcast', message: vc, persist: true });
    }
    this.viewChanges.add(vc);
    this.maybeSendNewView(out);
  }

  private noteViewChangeQuorum(): void {
    if (this.quorumSince === undefined && this.viewChanges.support(this.currentView) >= this.quorum) this.quorumSince = this.now;
  }

  private maybeSendNewView(out: Effect[]): void {
    if (!this.viewChanging || primaryOf(this.currentView, this.n) !== this.self) return;
    const forView = this.viewChanges.forView(this.currentView);
    if (forView.size < this.quorum) return;
    const chosen: ViewChange[] = [];
    const own = forView.get(this.self);
    if (own !== undefined) chosen.push(own);
    const others = [...forView.entries()].filter(([v]) => v !== this.self).sort(([a], [b]) => a - b);
    for (const [validator, vc] of others) {
      if (chosen.length >= this.quorum) break;
      if (checkViewChange(this.set, vc) === undefined) chosen.push(vc);
      else this.viewChanges.remove(this.currentView, validator); // a malformed proof does not get a second look
    }
    if (chosen.length < this.quorum) return;
    const unsigned: Omit<NewView, 'signature'> = {
      type: 'new-view',
      view: this.currentView,
      validator: this.self,
      viewChanges: chosen,
    };
    const nv: NewView = { ...unsigned, signature: this.crypto.sign('new-view', encodeNewViewForSigning(unsigned)) };
    out.push({ type: 'broadcast', message: nv, persist: true });
    const plan = planNewView(chosen, this.config.genesisHash, (h) => this.crypto.hashHeader(h));
    this.enterView(nv, plan, out);
  }

  private enterView(nv: NewView, plan: NewViewPlan, out: Effect[]): void {
    this.currentView = nv.view;
    this.viewChanging = false;
    this.viewStartedAt = this.now;
    this.lastProgressAt = this.now;
    this.newView = nv;
    this.slots.clear();
    this.outbox.clear();
    this.building = null;
    this.pruneViews();
    const reproposals = new Map<number, { hash: Hash; hashHex: string; header: BlockHeader }>();
    for (const r of plan.reproposals) reproposals.set(r.height, { hash: r.hash, hashHex: toHex(r.hash), header: r.header });
    this.plan = {
      baseHeight: plan.base.height,
      lastPlanned: plan.base.height + plan.reproposals.length,
      reproposals,
    };
    // Bodies that the new view will not re-propose are dead weight now.
    // Bodies that the new view will not re-propose are dead weight now, except those of
    // prepared certificates this replica holds: a later view may pick one again, and then
    // someone must still have its body.
    const certified = new Set<string>();
    for (const cert of this.preparedCerts.values()) certified.add(toHex(this.crypto.hashHeader(cert.header)));
    for (const [hex, known] of this.blocks) {
      if (known.height > this.committedTip.height && reproposals.get(known.height)?.hashHex !== hex && !certified.has(hex)) {
        this.blocks.delete(hex);
      }
    }
    for (const key of this.ownProposals.keys()) if (!key.startsWith(`${nv.view}:`)) this.ownProposals.delete(key);
    if (plan.base.height > this.committedTip.height) this.catchUp.learn(plan.base.height);
    out.push({ type: 'view-entered', view: nv.view, primary: primaryOf(nv.view, this.n) });
  }

  /** Forgets votes and view-changes of views that can no longer matter. */
  private pruneViews(): void {
    const view = this.currentView;
    this.prepares.prune((v) => v >= view);
    this.commits.prune((v) => v + 1 >= view);
    for (const [key, m] of this.prePreparesSeen) if (m.view < view) this.prePreparesSeen.delete(key);
    this.viewChanges.pruneBelow(view);
  }

  /** A peer is in an older view than ours: send it the NEW-VIEW that proves ours. */
  private helpLaggard(peer: number, out: Effect[]): void {
    if (this.viewChanging || this.newView === null) return;
    const last = this.helpedAt.get(peer) ?? Number.NEGATIVE_INFINITY;
    if (this.now - last < this.config.retransmitMs) return;
    this.helpedAt.set(peer, this.now);
    out.push({ type: 'send', to: peer, message: this.newView, persist: false });
  }

  // ------------------------------------------------------------------------------------
  // Catch-up, retransmission, bodies

  private maybeFetch(out: Effect[]): void {
    const range = this.catchUp.fetchRange(this.now, this.committedTip.height, this.lastProgressAt);
    if (range !== undefined) out.push({ type: 'fetch', ...range });
  }

  private requestBody(height: number, blockHash: Hash, hashHex: string, out: Effect[]): void {
    if (!this.catchUp.shouldRequestBody(this.now, hashHex)) return;
    const message: BlockRequest = { type: 'block-request', validator: this.self, height, blockHash };
    out.push({ type: 'broadcast', message, persist: false });
  }

  private retransmit(out: Effect[]): void {
    if (this.viewChanging) {
      if (this.ownViewChange !== null && this.ownViewChange.newView === this.currentView) {
        out.push({ type: 'broadcast', message: this.ownViewChange, persist: false });
      }
    } else {
      for (const entry of this.outbox.values()) {
        if (this.now - entry.sentAt < this.config.retransmitMs) continue;
        entry.sentAt = this.now;
        out.push({ type: 'broadcast', message: entry.message, persist: false });
      }
    }
    const status: Status = {
      type: 'status',
      validator: this.self,
      view: this.currentView,
      committed: this.committedTip.certificate,
    };
    out.push({ type: 'broadcast', message: status, persist: false });
  }

  private rememberBlock(block: Block, hash: Hash, hashHex: string, height: number): KnownBlock {
    let known = this.blocks.get(hashHex);
    if (known === undefined) {
      known = { block, hash, height, execution: undefined };
      this.blocks.set(hashHex, known);
    }
    return known;
  }

  // ------------------------------------------------------------------------------------
  // Helpers

  private heightInWindow(height: number): boolean {
    return height > this.committedTip.height && height <= this.committedTip.height + 2 * this.config.windowSize;
  }

  private verifyVote(
    kind: 'pre-prepare' | 'prepare' | 'commit',
    validator: number,
    view: number,
    height: number,
    blockHash: Hash,
    signature: Uint8Array,
  ): boolean {
    const publicKey = this.config.validators[validator];
    if (publicKey === undefined) return false;
    return this.crypto.verify(publicKey, kind, encodeVotePayload({ view, height, blockHash }), signature);
  }

  private misbehaved(peer: number, reason: string, out: Effect[]): void {
    out.push({ type: 'misbehaviour', peer, reason });
  }

  private reportEvidence(
    kind: Evidence['kind'],
    validator: number,
    view: number,
    height: number,
    first: ConsensusMessage,
    second: ConsensusMessage,
    out: Effect[],
  ): void {
    const key = `${validator}:${kind}:${view}:${height}`;
    if (this.evidenceKeys.has(key)) return;
    if (this.evidenceKeys.size >= MAX_EVIDENCE_KEYS) this.evidenceKeys.clear();
    this.evidenceKeys.add(key);
    out.push({ type: 'evidence', evidence: { validator, kind, view, height, first, second } });
  }

  /** Rebuilds what this replica promised from its own persisted messages. */
  private restoreFromWal(wal: readonly ConsensusMessage[], ranBefore: boolean): void {
    const replay = replayWal(wal, this.self, (h) => this.crypto.hashHeader(h));
    // Every view this replica acted in is at most maxView: it enters a view only after
    // persisting the VIEW-CHANGE or NEW-VIEW that takes it there, and sends nothing in it
    // before that record is on disk (the WAL keeps the latest of each across compaction).
    if (ranBefore) this.silentThrough = replay.maxView;
    for (const [key, hashHex] of replay.signed) this.signed.set(key, hashHex);
    for (const m of replay.ownPrePrepares) if (m.height > this.committedTip.height) this.ownProposals.set(`${m.view}:${m.height}`, m.block);
    this.ownViewChange = replay.ownViewChange;
    const { maxView, latestNewView } = replay;
    if (latestNewView !== null && latestNewView.view === maxView) {
      if (checkNewView(this.set, latestNewView, primaryOf(latestNewView.view, this.n)) === undefined) {
        const plan = planNewView(latestNewView.viewChanges, this.config.genesisHash, (h) => this.crypto.hashHeader(h));
        this.enterView(latestNewView, plan, []);
        return;
      }
    }
    if (this.ownViewChange !== null && this.ownViewChange.newView === maxView) {
      this.currentView = maxView;
      this.viewChanging = true;
      this.viewChanges.add(this.ownViewChange);
      return;
    }
    if (maxView > 0) {
      // Voted in a view whose NEW-VIEW is not at hand: do not act in it; ask for the next.
      this.currentView = maxView;
      this.startViewChange(maxView + 1, []);
      this.failedViews = 0;
    }
  }

  // ------------------------------------------------------------------------------------
  // Invariants (TigerBeetle style: assert what must hold, and what must not)

  private checkCheapInvariants(): void {
    if (this.committedTip.height < this.stableCheckpoint.height) this.fail('committed below the stable checkpoint');
    if (this.viewChanging && this.slots.size > 0) this.fail('proposals accepted while changing view');
  }

  checkInvariants(): void {
    this.checkCheapInvariants();
    const tip = this.committedTip.height;
    for (const h of this.slots.keys()) {
      if (h <= tip || h > tip + 2 * this.config.windowSize) this.fail(`slot ${h} outside (${tip}, ${tip + 2 * this.config.windowSize}]`);
    }
    for (const h of this.preparedCerts.keys()) if (h <= tip) this.fail(`prepared certificate at committed height ${h}`);
    for (const h of this.catchUp.bufferedHeights) if (h <= tip) this.fail(`synced block at committed height ${h}`);
    if (!this.viewChanging && this.currentView > 0 && this.newView?.view !== this.currentView) {
      this.fail(`in view ${this.currentView} without its NEW-VIEW`);
    }
    if (this.ownViewChange !== null && this.ownViewChange.newView > this.currentView) {
      this.fail(`sent a view-change for ${this.ownViewChange.newView} but is in view ${this.currentView}`);
    }
    if (this.blocks.size > 8 * this.config.windowSize + 2 * LIMITS.preparedPerViewChange) this.fail(`${this.blocks.size} block bodies held`);
    if (this.prepares.size > 4 * this.config.windowSize + 2) this.fail(`${this.prepares.size} prepare slots held`);
    if (this.commits.size > 6 * this.config.windowSize + 2) this.fail(`${this.commits.size} commit slots held`);
    if (this.catchUp.buffered > MAX_SYNC_AHEAD) this.fail(`${this.catchUp.buffered} synced blocks held`);
    if (this.stableCheckpoint.height > 0 && this.recentCommits.has(this.stableCheckpoint.height)) {
      if (this.recentCommits.get(this.stableCheckpoint.height) !== this.stableCheckpoint.hashHex) {
        this.fail(`stable checkpoint ${this.stableCheckpoint.height} disagrees with the committed block`);
      }
    }
  }

  private fail(what: string): never {
    throw new Error(`replica ${this.self} (view ${this.currentView}, height ${this.committedTip.height}): invariant broken: ${what}`);
  }
}
