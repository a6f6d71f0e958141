/**
 * FOR TESTS ONLY: a Byzantine validator, for chaos runs against real processes.
 *
 * `ledger-node start --unsafe-byzantine <mode>` (refused unless LEDGER_UNSAFE_BYZANTINE=1
 * is also set, so a typo in production can never turn it on) makes the node's driver hand
 * every turn's effects to a ByzantineTransformer before carrying them out. The transformer
 * rewrites outgoing consensus messages and adds messages of its own; everything else (WAL,
 * execution, commits) passes through untouched, so the node keeps a real replica and a
 * real chain underneath and misbehaves only on the wire.
 *
 * It holds this validator's key and no other: whatever it signs, it signs as itself. A
 * Byzantine validator can lie and contradict itself, but it cannot speak for others; the
 * modes below are what such a validator can do.
 *
 * - equivocate: as primary, sends one block to some peers and a different valid block
 *   (same txs, another timestamp) to the rest, each pre-prepare signed by itself, and
 *   votes to match each group; as a backup, votes for different digests to different peers.
 * - bad-signatures: half of its signed messages leave with a corrupted signature, or with
 *   a corrupted signature inside a certificate they carry (re-signed on the outside).
 * - garbage-votes: votes and checkpoints for random digests, in place of real votes and
 *   on their own, just ahead of the chain.
 * - stale-views: replays its own old messages and signs votes, proposals, view-changes and
 *   checkpoints for views and heights long gone.
 * - flood: correctly signed, plausible messages about nothing, at a high but bounded rate.
 * - mixed: each of the above in turn, for a period each.
 */
import { err, ok, type Result } from '../codec/result.js';
import { encodeCheckpointPayload, encodeViewChangeForSigning, encodeVotePayload } from '../codec/consensus.js';
import type { Block, ConsensusMessage, PreparedCertificate, QuorumCertificate } from '../codec/types.js';
import type { Effect } from '../consensus/types.js';
import { primaryOf } from '../consensus/types.js';
import { bytesEqual } from '../crypto/bytes.js';
import { sign, type Hash, type KeyPair, type Signature, type SignatureKind } from '../crypto/index.js';
import { hashBlockHeader } from '../ledger/block.js';
import type { Genesis } from '../ledger/genesis.js';

export const BYZANTINE_MODES = ['equivocate', 'bad-signatures', 'garbage-votes', 'stale-views', 'flood', 'mixed'] as const;
export type ByzantineMode = (typeof BYZANTINE_MODES)[number];
/** The single behaviours `mixed` cycles through. */
export type ByzantineBehaviour = Exclude<ByzantineMode, 'mixed'>;
const BEHAVIOURS: readonly ByzantineBehaviour[] = ['equivocate', 'bad-signatures', 'garbage-votes', 'stale-views', 'flood'];

/** The environment variable that must be "1" for --unsafe-byzantine to be accepted. */
export const BYZANTINE_ENV = 'LEDGER_UNSAFE_BYZANTINE';

export interface ByzantineError {
  readonly code: 'not-enabled' | 'unknown-mode';
  readonly message: string;
}

/** Checks a requested mode: it must be known, and the environment must opt in. */
export function parseByzantineMode(mode: string, env: Readonly<Record<string, string | undefined>>): Result<ByzantineMode, ByzantineError> {
  if (!(BYZANTINE_MODES as readonly string[]).includes(mode)) {
    return err({ code: 'unknown-mode', message: `--unsafe-byzantine: unknown mode "${mode}" (one of ${BYZANTINE_MODES.join(', ')})` });
  }
  if (env[BYZANTINE_ENV] !== '1') {
    return err({
      code: 'not-enabled',
      message: `--unsafe-byzantine makes this validator attack its own network; it is refused unless ${BYZANTINE_ENV}=1 is set too (tests only)`,
    });
  }
  return ok(mode as ByzantineMode);
}

/** The warning printed when a node starts Byzantine. */
export function byzantineWarning(mode: ByzantineMode): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    `!!! UNSAFE: this validator runs in BYZANTINE test mode "${mode}".`,
    '!!! It deliberately sends invalid, conflicting and junk consensus messages.',
    '!!! Never run this against a network you care about.',
    bar,
    '',
  ].join('\n');
}

export interface ByzantineOptions {
  readonly mode: ByzantineMode;
  /** This validator's own key: the only one it ever signs with. */
  readonly keyPair: KeyPair;
  readonly chainId: string;
  /** This validator's index, and the number of validators. */
  readonly self: number;
  readonly n: number;
  /** The genesis checkpoint interval (junk checkpoints land on its multiples). Default 1. */
  readonly checkpointInterval?: number;
  /** Uniform in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** How long `mixed` keeps each behaviour. Default 10 s. */
  readonly mixedPeriodMs?: number;
  /** Messages per second in `flood` (bounded to 1..5000). Default 300. */
  readonly floodPerSecond?: number;
}

/** What the transformer did so far (for logs and tests). */
export interface ByzantineStats {
  /** Outgoing messages replaced, corrupted or split per peer. */
  rewritten: number;
  /** Messages it made up and sent on its own. */
  injected: number;
}

/** One equivocated slot: which peers get the alternative, and what it is. */
interface Split {
  readonly original: Hash;
  readonly alternative: Hash;
  readonly altPrePrepare: ConsensusMessage | undefined;
  readonly groupB: ReadonlySet<number>;
}

const RECENT_MESSAGES = 64;
const RECENT_BLOCKS = 8;
const MAX_SPLITS = 256;
const GARBAGE_EVERY_MS = 150;
const STALE_EVERY_MS = 120;

export class ByzantineTransformer {
  readonly stats: ByzantineStats = { rewritten: 0, injected: 0 };
  private readonly random: () => number;
  private readonly others: readonly number[];
  private readonly checkpointInterval: number;
  private readonly mixedPeriodMs: number;
  private readonly floodPerSecond: number;
  private readonly mixedOffset: number;

  private view = 0;
  private height = 0;
  private lastCertificate: QuorumCertificate | null = null;
  private readonly recentBlocks: Block[] = [];
  /** This validator's own signed messages as the honest replica made them (for replays). */
  private readonly sent: ConsensusMessage[] = [];
  private readonly splits = new Map<string, Split>();
  private startedAt: number | undefined;
  private lastInjectAt = Number.NEGATIVE_INFINITY;
  private floodBudget = 0;
  private lastFloodAt: number | undefined;

  constructor(private readonly options: ByzantineOptions) {
    this.random = options.random ?? Math.random;
    this.others = Array.from({ length: options.n }, (_, i) => i).filter((i) => i !== options.self);
    this.checkpointInterval = Math.max(1, options.checkpointInterval ?? 1);
    this.mixedPeriodMs = Math.max(1, options.mixedPeriodMs ?? 10_000);
    this.floodPerSecond = Math.min(5000, Math.max(1, options.floodPerSecond ?? 300));
    this.mixedOffset = this.int(BEHAVIOURS.length);
  }

  get mode(): ByzantineMode {
    return this.options.mode;
  }

  /** The behaviour in force at `now` (for `mixed`, it changes every period). */
  behaviourAt(now: number): ByzantineBehaviour {
    if (this.options.mode !== 'mixed') return this.options.mode;
    this.startedAt ??= now;
    const period = Math.floor((now - this.startedAt) / this.mixedPeriodMs);
    return BEHAVIOURS[(period + this.mixedOffset) % BEHAVIOURS.length] as ByzantineBehaviour;
  }

  /**
   * Rewrites one turn's effects. A rewritten message that the replica wanted persisted is
   * persisted as the replica made it (so a restart restores the honest replica's own
   * history), and what actually leaves is sent without a WAL entry.
   */
  transform(effects: readonly Effect[], now: number): Effect[] {
    const behaviour = this.behaviourAt(now);
    const out: Effect[] = [];
    for (const effect of effects) {
      this.observe(effect);
      if (effect.type === 'send') {
        const rewritten = this.rewrite(effect.message, effect.to, behaviour);
        if (rewritten.length === 1 && rewritten[0] === effect.message) {
          out.push(effect);
          continue;
        }
        this.stats.rewritten++;
        if (effect.persist) out.push({ type: 'persist', message: effect.message });
        for (const message of rewritten) out.push({ type: 'send', to: effect.to, message, persist: false });
      } else if (effect.type === 'broadcast') {
        const perPeer = this.others.map((to) => ({ to, messages: this.rewrite(effect.message, to, behaviour) }));
        if (perPeer.every((p) => p.messages.length === 1 && p.messages[0] === effect.message)) {
          out.push(effect);
          continue;
        }
        this.stats.rewritten++;
        if (effect.persist) out.push({ type: 'persist', message: effect.message });
        for (const { to, messages } of perPeer) for (const message of messages) out.push({ type: 'send', to, message, persist: false });
      } else {
        out.push(effect);
      }
    }
    this.inject(behaviour, now, out);
    return out;
  }

  // ------------------------------------------------------------------------------------
  // What the honest replica underneath does

  private observe(effect: Effect): void {
    switch (effect.type) {
      case 'view-entered':
        this.view = Math.max(this.view, effect.view);
        break;
      case 'execute':
        this.rememberBlock(effect.block);
        break;
      case 'commit':
        this.height = Math.max(this.height, effect.block.header.height);
        this.lastCertificate = effect.certificate;
        this.rememberBlock(effect.block);
        break;
      case 'send':
      case 'broadcast': {
        const m = effect.message;
        if (m.type === 'pre-prepare' || m.type === 'prepare' || m.type === 'commit') this.view = Math.max(this.view, m.view);
        else if (m.type === 'view-change') this.view = Math.max(this.view, m.newView);
        if (m.type !== 'status' && m.type !== 'block-request' && m.type !== 'block-response') {
          this.sent.push(m);
          if (this.sent.length > RECENT_MESSAGES) this.sent.shift();
        }
        break;
      }
      default:
        break;
    }
  }

  private rememberBlock(block: Block): void {
    if (this.recentBlocks.includes(block)) return;
    this.recentBlocks.push(block);
    if (this.recentBlocks.length > RECENT_BLOCKS) this.recentBlocks.shift();
  }

  // ------------------------------------------------------------------------------------
  // Rewriting what leaves

  private rewrite(m: ConsensusMessage, to: number, behaviour: ByzantineBehaviour): readonly ConsensusMessage[] {
    switch (behaviour) {
      case 'equivocate':
        return [this.equivocate(m, to)];
      case 'bad-signatures':
        return [this.chance(0.5) ? this.badSignature(m) : m];
      case 'garbage-votes':
        return [this.garbageVote(m)];
      case 'stale-views':
      case 'flood':
        return [m];
    }
  }

  private equivocate(m: ConsensusMessage, to: number): ConsensusMessage {
    switch (m.type) {
      case 'pre-prepare': {
        const split = this.splitFor(`${m.view}/${m.height}`, hashBlockHeader(m.block.header), () => {
          const header = { ...m.block.header, timestamp: m.block.header.timestamp + 1 };
          const block: Block = { header, txs: m.block.txs };
          return { hash: hashBlockHeader(header), prePrepare: this.prePrepare(m.view, m.height, block) };
        });
        return split.groupB.has(to) && split.altPrePrepare !== undefined ? split.altPrePrepare : m;
      }
      case 'prepare':
      case 'commit': {
        // As primary, the slot split when the pre-prepare left; as a backup, split now.
        const split = this.splitFor(`${m.view}/${m.height}`, m.blockHash, () => ({ hash: this.randomHash(), prePrepare: undefined }));
        if (!split.groupB.has(to) || !bytesEqual(split.original, m.blockHash)) return m;
        return this.vote(m.type, m.view, m.height, split.alternative);
      }
      case 'checkpoint': {
        const split = this.splitFor(`checkpoint/${m.height}`, m.blockHash, () => ({ hash: this.randomHash(), prePrepare: undefined }));
        return split.groupB.has(to) ? this.checkpoint(m.height, split.alternative) : m;
      }
      default:
        return m;
    }
  }

  /** The split for a slot, made once: later messages (and retransmissions) for it stay consistent. */
  private splitFor(key: string, original: Hash, alternative: () => { hash: Hash; prePrepare: ConsensusMessage | undefined }): Split {
    const existing = this.splits.get(key);
    if (existing !== undefined) return existing;
    const shuffled = [...this.others];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
    }
    // A proper, non-empty part of the others gets the alternative.
    const cut = shuffled.length < 2 ? shuffled.length : 1 + this.int(shuffled.length - 1);
    const alt = alternative();
    const split: Split = { original, alternative: alt.hash, altPrePrepare: alt.prePrepare, groupB: new Set(shuffled.slice(0, cut)) };
    this.splits.set(key, split);
    if (this.splits.size > MAX_SPLITS) this.splits.delete(this.splits.keys().next().value as string);
    return split;
  }

  private badSignature(m: ConsensusMessage): ConsensusMessage {
    switch (m.type) {
      case 'view-change': {
        // A valid outer signature over a certificate that does not hold.
        if (m.committed !== null && this.chance(0.5)) {
          const committed = { ...m.committed, signatures: m.committed.signatures.map((s) => ({ ...s, signature: this.corrupt(s.signature) })) };
          return this.viewChange(m.newView, committed, m.prepared);
        }
        return { ...m, signature: this.corrupt(m.signature) };
      }
      case 'status':
        if (m.committed === null) return m;
        return { ...m, committed: { ...m.committed, signatures: m.committed.signatures.map((s) => ({ ...s, signature: this.corrupt(s.signature) })) } };
      case 'block-request':
      case 'block-response':
        return m;
      default:
        return { ...m, signature: this.chance(0.5) ? this.corrupt(m.signature) : this.randomBytes(64) };
    }
  }

  private garbageVote(m: ConsensusMessage): ConsensusMessage {
    if ((m.type === 'prepare' || m.type === 'commit') && this.chance(0.5)) return this.vote(m.type, m.view, m.height, this.randomHash());
    if (m.type === 'checkpoint' && this.chance(0.5)) return this.checkpoint(m.height, this.randomHash());
    return m;
  }

  // ------------------------------------------------------------------------------------
  // What it sends on its own

  private inject(behaviour: ByzantineBehaviour, now: number, out: Effect[]): void {
    switch (behaviour) {
      case 'garbage-votes':
        if (this.due(now, GARBAGE_EVERY_MS)) this.injectGarbage(out);
        break;
      case 'stale-views':
        if (this.due(now, STALE_EVERY_MS)) this.injectStale(out);
        break;
      case 'flood':
        this.injectFlood(now, out);
        break;
      default:
        break;
    }
  }

  private due(now: number, everyMs: number): boolean {
    if (now - this.lastInjectAt < everyMs) return false;
    this.lastInjectAt = now;
    return true;
  }

  private emit(out: Effect[], to: number | 'all', message: ConsensusMessage): void {
    this.stats.injected++;
    out.push(to === 'all' ? { type: 'broadcast', message, persist: false } : { type: 'send', to, message, persist: false });
  }

  /** Votes for digests nobody proposed, at the next few heights of the current view. */
  private injectGarbage(out: Effect[]): void {
    const height = this.height + 1 + this.int(3);
    const hash = this.randomHash();
    this.emit(out, 'all', this.vote('prepare', this.view, height, hash));
    this.emit(out, 'all', this.vote('commit', this.view, height, hash));
    if (this.chance(0.3)) this.emit(out, 'all', this.checkpoint(this.nextCheckpointHeight(), hash));
  }

  /** One message from the past: a replay of its own, or something newly signed for a view or height long gone. */
  private injectStale(out: Effect[]): void {
    const to = this.pick(this.others);
    const oldView = this.view > 0 ? this.int(this.view) : 0;
    const oldHeight = this.height > 1 ? 1 + this.int(this.height - 1) : 1;
    switch (this.int(7)) {
      case 0: {
        const replay = this.sent.length > 0 ? this.pick(this.sent) : undefined;
        if (replay !== undefined) this.emit(out, to, replay);
        break;
      }
      case 1:
        this.emit(out, to, this.vote('prepare', oldView, oldHeight, this.randomHash()));
        break;
      case 2:
        this.emit(out, to, this.vote('commit', oldView, oldHeight, this.pick([this.randomHash(), this.lastCertificate?.blockHash ?? this.randomHash()])));
        break;
      case 3: {
        const block = this.recentBlocks.length > 0 ? this.pick(this.recentBlocks) : undefined;
        // A view it once led (or would have), so the pre-prepare passes the primary check.
        const ledView = this.latestViewLedAtOrBelow(oldView);
        if (block !== undefined && ledView !== undefined) this.emit(out, to, this.prePrepare(ledView, block.header.height, block));
        break;
      }
      case 4:
        this.emit(out, to, this.viewChange(Math.max(1, oldView), this.lastCertificate, []));
        break;
      case 5:
        this.emit(out, to, { type: 'status', validator: this.options.self, view: oldView, committed: this.lastCertificate });
        break;
      default: {
        const interval = this.checkpointInterval;
        const h = Math.max(interval, Math.floor(oldHeight / interval) * interval);
        this.emit(out, to, this.checkpoint(h, this.randomHash()));
      }
    }
  }

  /** Correctly signed, plausible junk, at `floodPerSecond` (a burst never beyond a tenth of a second's worth). */
  private injectFlood(now: number, out: Effect[]): void {
    const last = this.lastFloodAt ?? now;
    this.lastFloodAt = now;
    const rate = this.floodPerSecond;
    this.floodBudget = Math.min(Math.max(1, rate / 10), this.floodBudget + ((now - last) * rate) / 1000);
    while (this.floodBudget >= 1) {
      this.floodBudget -= 1;
      const to = this.pick(this.others);
      const height = this.height + this.int(11);
      const hash = this.randomHash();
      switch (this.int(7)) {
        case 0:
          this.emit(out, to, this.vote('prepare', this.view, height, hash));
          break;
        case 1:
          this.emit(out, to, this.vote('commit', this.view, height, hash));
          break;
        case 2:
          this.emit(out, to, { type: 'block-request', validator: this.options.self, height, blockHash: hash });
          break;
        case 3:
          this.emit(out, to, this.checkpoint(this.nextCheckpointHeight(), hash));
          break;
        case 4:
          this.emit(out, to, this.viewChange(this.view + 1 + this.int(3), this.lastCertificate, []));
          break;
        case 5: {
          const block = this.recentBlocks.length > 0 ? this.pick(this.recentBlocks) : undefined;
          if (block !== undefined) this.emit(out, to, { type: 'block-response', validator: this.options.self, block });
          break;
        }
        default:
          this.emit(out, to, { type: 'status', validator: this.options.self, view: this.view, committed: this.lastCertificate });
      }
    }
  }

  private nextCheckpointHeight(): number {
    const interval = this.checkpointInterval;
    return (Math.floor(this.height / interval) + 1 + this.int(2)) * interval;
  }

  private latestViewLedAtOrBelow(view: number): number | undefined {
    for (let v = view; v >= 0; v--) if (primaryOf(v, this.options.n) === this.options.self) return v;
    return undefined;
  }

  // ------------------------------------------------------------------------------------
  // Signing, always with its own key

  private signAs(kind: SignatureKind, payload: Uint8Array): Signature {
    return sign(this.options.keyPair, kind, this.options.chainId, payload);
  }

  private prePrepare(view: number, height: number, block: Block): ConsensusMessage {
    const signature = this.signAs('pre-prepare', encodeVotePayload({ view, height, blockHash: hashBlockHeader(block.header) }));
    return { type: 'pre-prepare', view, height, validator: this.options.self, block, signature };
  }

  private vote(kind: 'prepare' | 'commit', view: number, height: number, blockHash: Hash): ConsensusMessage {
    const signature = this.signAs(kind, encodeVotePayload({ view, height, blockHash }));
    return { type: kind, view, height, blockHash, validator: this.options.self, signature };
  }

  private checkpoint(height: number, blockHash: Hash): ConsensusMessage {
    const signature = this.signAs('checkpoint', encodeCheckpointPayload({ height, blockHash }));
    return { type: 'checkpoint', height, blockHash, validator: this.options.self, signature };
  }

  private viewChange(newView: number, committed: QuorumCertificate | null, prepared: readonly PreparedCertificate[]): ConsensusMessage {
    const unsigned = { type: 'view-change' as const, newView, validator: this.options.self, committed, prepared };
    return { ...unsigned, signature: this.signAs('view-change', encodeViewChangeForSigning(unsigned)) };
  }

  // ------------------------------------------------------------------------------------
  // Randomness

  private int(max: number): number {
    return Math.min(max - 1, Math.floor(this.random() * max));
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  private randomBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  private randomHash(): Hash {
    return this.randomBytes(32);
  }

  /** The same signature with one bit flipped. */
  private corrupt(signature: Signature): Signature {
    const out = Uint8Array.from(signature);
    const i = this.int(out.length);
    out[i] = (out[i] as number) ^ (1 << this.int(8));
    return out;
  }
}

/** The transformer for this node's key, or undefined when the key is not a genesis validator (the node refuses to start then). */
export function byzantineFor(mode: ByzantineMode, keyPair: KeyPair, genesis: Genesis): ByzantineTransformer | undefined {
  const self = genesis.validators.findIndex((v) => bytesEqual(v.publicKey, keyPair.publicKey));
  if (self < 0) return undefined;
  return new ByzantineTransformer({
    mode,
    keyPair,
    chainId: genesis.chainId,
    self,
    n: genesis.validators.length,
    checkpointInterval: genesis.consensus.checkpointInterval,
  });
}
