/**
 * How a replica that is behind gets back: it learns, from proofs only (a commit
 * certificate in a STATUS, 2f+1 CHECKPOINTs, a NEW-VIEW's base), that some height is
 * committed; it then asks for certified blocks (the driver fetches them from any peer)
 * and buffers each one that proves itself until its turn to commit comes. Missing block
 * bodies (a commit certificate without the block, a re-proposal the new primary lacks)
 * are asked for by hash, and only an answer to a question asked is taken.
 */
import { bytesEqual } from '../crypto/bytes.js';
import type { Hash } from '../crypto/index.js';
import type { Block, QuorumCertificate } from '../codec/types.js';
import { checkQuorumCertificate, type ValidatorSet } from './certificates.js';

/** Certified blocks fetched ahead of the commit point are kept for at most this many heights. */
export const MAX_SYNC_AHEAD = 1024;

export interface CertifiedBlock {
  readonly block: Block;
  readonly hash: Hash;
  readonly certificate: QuorumCertificate;
}

export class CatchUp {
  private readonly synced = new Map<number, CertifiedBlock>();
  private known: number;
  private fetchedTo = 0;
  private fetchAt = Number.NEGATIVE_INFINITY;
  private readonly bodyRequests = new Map<string, number>();

  constructor(
    private readonly set: ValidatorSet,
    private readonly retransmitMs: number,
    private readonly maxBodyRequests: number,
    committedHeight: number,
  ) {
    this.known = committedHeight;
  }

  /** The highest height known (from a proof) to be committed somewhere. */
  get knownHeight(): number {
    return this.known;
  }

  get bufferedHeights(): IterableIterator<number> {
    return this.synced.keys();
  }

  get buffered(): number {
    return this.synced.size;
  }

  learn(height: number): void {
    if (height > this.known) this.known = height;
  }

  /** Checks a fetched block against its certificate and buffers it; false if it proves nothing. */
  offer(block: Block, certificate: QuorumCertificate, committedHeight: number): boolean {
    const h = certificate.height;
    if (h <= committedHeight || h > committedHeight + MAX_SYNC_AHEAD || this.synced.has(h)) return false;
    if (block.header.height !== h || block.header.chainId !== this.set.chainId) return false;
    const hash = this.set.crypto.hashHeader(block.header);
    if (!bytesEqual(hash, certificate.blockHash)) return false;
    if (!this.set.crypto.bodyMatchesHeader(block)) return false;
    if (checkQuorumCertificate(this.set, certificate) !== undefined) return false;
    this.synced.set(h, { block, hash, certificate });
    this.learn(h);
    return true;
  }

  /** The buffered block at `height` if it extends `parentHash`. */
  next(height: number, parentHash: Hash): CertifiedBlock | undefined {
    const entry = this.synced.get(height);
    return entry !== undefined && bytesEqual(entry.block.header.parentHash, parentHash) ? entry : undefined;
  }

  /**
   * A fetch to start now, if this replica is behind: from the commit point when no fetch
   * is under way (or the last one went quiet), or, while one is, the next range past it
   * once less than half of MAX_SYNC_AHEAD is left to commit of what was asked. Waiting for
   * the whole range to commit before asking for more left the main thread with nothing to
   * do for a round trip at every range's end.
   */
  fetchRange(now: number, committedHeight: number, lastProgressAt: number): { fromHeight: number; toHeight: number } | undefined {
    if (this.known <= committedHeight) return undefined;
    const stalled = now - lastProgressAt >= this.retransmitMs;
    if (this.known < committedHeight + 2 && !stalled) return undefined; // one height behind is normal pipelining
    const toHeight = Math.min(this.known, committedHeight + MAX_SYNC_AHEAD);
    const inProgress = this.fetchedTo > committedHeight && now - this.fetchAt < this.retransmitMs * 2;
    let fromHeight = committedHeight + 1;
    if (inProgress) {
      const runningLow = this.fetchedTo - committedHeight < MAX_SYNC_AHEAD / 2;
      if (!runningLow || toHeight <= this.fetchedTo) return undefined;
      fromHeight = this.fetchedTo + 1;
    }
    this.fetchedTo = toHeight;
    this.fetchAt = now;
    return { fromHeight, toHeight };
  }

  /** Whether to ask peers for a block body now (not asked recently, and few questions open). */
  shouldRequestBody(now: number, hashHex: string): boolean {
    const last = this.bodyRequests.get(hashHex);
    if (last !== undefined && now - last < this.retransmitMs) return false;
    if (last === undefined && this.bodyRequests.size >= this.maxBodyRequests) return false;
    this.bodyRequests.set(hashHex, now);
    return true;
  }

  /** Whether a body with this hash was asked for (and not answered yet). */
  asked(hashHex: string): boolean {
    return this.bodyRequests.has(hashHex);
  }

  /** Takes an answer to a body question; false when nobody asked for it. */
  answerBody(hashHex: string): boolean {
    return this.bodyRequests.delete(hashHex);
  }

  /** Forgets what a commit at `height` made moot, and stale questions. */
  prune(height: number, now: number): void {
    for (const key of this.synced.keys()) if (key <= height) this.synced.delete(key);
    for (const [hex, at] of this.bodyRequests) if (now - at > 4 * this.retransmitMs) this.bodyRequests.delete(hex);
  }
}
