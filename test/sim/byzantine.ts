/**
 * Byzantine strategies for up to f validators. Each wraps a real replica (or replaces it,
 * for 'silent'): what the replica sends passes through `outgoing`, which may rewrite, drop
 * or multiply it; `onTick` may inject messages; `answerFetch` may answer catch-up requests
 * with garbage. Every signature a strategy makes is its own (see forge.ts).
 */
import type { Block, BlockHeader, ConsensusMessage, QuorumCertificate, Tx, ViewChange } from '../../src/codec/types.js';
import { primaryOf } from '../../src/consensus/types.js';
import { bytesEqual, toHex, type Hash } from '../../src/crypto/index.js';
import { computeTxRoot, hashBlockHeader } from '../../src/ledger/block.js';
import { FORGERY_MODES, type Forger } from './forge.js';
import type { CommittedBlock } from './node.js';
import type { Prng } from './prng.js';

export const STRATEGIES = [
  'silent',
  'equivocate',
  'twins',
  'bad-signatures',
  'unknown-digests',
  'forged-certs',
  'bad-new-view',
  'stale-future',
  'junk-flood',
  'invalid-block',
  'selective',
  'chaos',
] as const;

export type StrategyName = (typeof STRATEGIES)[number];

export function isStrategy(name: string): name is StrategyName {
  return (STRATEGIES as readonly string[]).includes(name);
}

/** What the cluster lets a Byzantine node see and do. */
export interface ByzantineHost {
  readonly self: number;
  readonly n: number;
  readonly prng: Prng;
  readonly forger: Forger;
  readonly maxClockSkewMs: number;
  /** This node's clock. */
  now(): number;
  /** The highest view this node has seen (its replica's, or any message's). */
  view(): number;
  /** Its committed chain. */
  chain(): readonly CommittedBlock[];
  /** Sends straight to validator `to`, bypassing `outgoing`. */
  send(to: number, m: ConsensusMessage): void;
  /** The other validators' indexes. */
  others(): readonly number[];
  /** A different valid block for the same slot as `block` (for equivocation), if one can be built. */
  alternative(block: Block): Block | undefined;
}

/** How a node answers a catch-up request: honestly, not at all, or with these blocks. */
export type FetchAnswer = 'honest' | 'ignore' | readonly CommittedBlock[];

export interface Behavior {
  readonly strategy: StrategyName;
  /** False when the node runs no replica at all. */
  readonly runsReplica: boolean;
  outgoing(m: ConsensusMessage, to: number): readonly ConsensusMessage[];
  onTick(): void;
  answerFetch(from: number, to: number): FetchAnswer;
  /** Sees every message the node receives (for replay and view tracking). */
  observe(from: number, m: ConsensusMessage): void;
}

const RECENT = 64;

/** Shared plumbing: message memory, rate limiting, and honest defaults. */
abstract class Strategy implements Behavior {
  abstract readonly strategy: StrategyName;
  readonly runsReplica: boolean = true;
  protected readonly recent: ConsensusMessage[] = [];
  protected readonly recentBlocks: Block[] = [];
  private lastAct = -Infinity;

  constructor(protected readonly host: ByzantineHost) {}

  outgoing(m: ConsensusMessage, _to: number): readonly ConsensusMessage[] {
    return [m];
  }

  onTick(): void {}

  answerFetch(_from: number, _to: number): FetchAnswer {
    return 'honest';
  }

  observe(_from: number, m: ConsensusMessage): void {
    this.recent.push(m);
    if (this.recent.length > RECENT) this.recent.shift();
    if (m.type === 'pre-prepare' || m.type === 'block-response') {
      this.recentBlocks.push(m.block);
      if (this.recentBlocks.length > 8) this.recentBlocks.shift();
    }
  }

  /** True at most once per `everyMs` of this node's clock. */
  protected due(everyMs: number): boolean {
    const now = this.host.now();
    if (now - this.lastAct < everyMs) return false;
    this.lastAct = now;
    return true;
  }

  protected get f(): Forger {
    return this.host.forger;
  }

  protected get prng(): Prng {
    return this.host.prng;
  }

  protected height(): number {
    return this.host.chain().length;
  }

  protected lastCertificate(): QuorumCertificate | null {
    const chain = this.host.chain();
    return chain[chain.length - 1]?.certificate ?? null;
  }

  protected broadcast(m: ConsensusMessage): void {
    for (const to of this.host.others()) this.host.send(to, m);
  }

  protected randomPeer(): number {
    return this.prng.pick(this.host.others());
  }
}

class Silent extends Strategy {
  readonly strategy = 'silent' as const;
  override readonly runsReplica = false;
  override outgoing(): readonly ConsensusMessage[] {
    return [];
  }
  override answerFetch(): FetchAnswer {
    return 'ignore';
  }
}

/** Twins are two live nodes with one key; the cluster creates the second. Each behaves honestly. */
class Twins extends Strategy {
  readonly strategy = 'twins' as const;
}

interface EquivocationSlot {
  readonly original: Hash;
  readonly alt: Block | undefined;
  readonly altHash: Hash | undefined;
  readonly groupB: ReadonlySet<number>;
  /** A validator that gets both proposals (and so can prove the equivocation), if any. */
  readonly witness: number | undefined;
}

/** As primary, proposes two valid blocks for one slot, each to part of the validators, and votes to match. */
class Equivocate extends Strategy {
  readonly strategy = 'equivocate' as const;
  private readonly slots = new Map<string, EquivocationSlot>();

  override outgoing(m: ConsensusMessage, to: number): readonly ConsensusMessage[] {
    if (m.type === 'pre-prepare') {
      const key = `${m.view}/${m.height}`;
      let slot = this.slots.get(key);
      if (slot === undefined) {
        const alt = this.host.alternative(m.block);
        const others = this.prng.shuffle([...this.host.others()]);
        const cut = others.length < 2 ? others.length : this.prng.range(1, others.length - 1);
        const witness = this.prng.chance(0.25) ? this.prng.pick(others) : undefined;
        slot = { original: hashBlockHeader(m.block.header), alt, altHash: alt && hashBlockHeader(alt.header), groupB: new Set(others.slice(0, cut)), witness };
        this.slots.set(key, slot);
        if (this.slots.size > 64) this.slots.delete(this.slots.keys().next().value as string);
      }
      if (slot.alt === undefined) return [m];
      const alt = this.f.prePrepare(m.view, m.height, slot.alt);
      if (slot.witness === to) return [m, alt];
      return slot.groupB.has(to) ? [alt] : [m];
    }
    if (m.type === 'prepare' || m.type === 'commit') {
      const slot = this.slots.get(`${m.view}/${m.height}`);
      if (slot?.altHash !== undefined && slot.groupB.has(to) && bytesEqual(slot.original, m.blockHash)) {
        return [m.type === 'prepare' ? this.f.prepare(m.view, m.height, slot.altHash) : this.f.commit(m.view, m.height, slot.altHash)];
      }
    }
    return [m];
  }
}

/** Corrupts signatures, claims other senders, and breaks signatures inside certificates. */
class BadSignatures extends Strategy {
  readonly strategy = 'bad-signatures' as const;

  override outgoing(m: ConsensusMessage): readonly ConsensusMessage[] {
    const r = this.prng.float();
    if (r < 0.35) return [this.f.withBadSignature(m)];
    if (r < 0.45 && m.type !== 'block-request' && m.type !== 'block-response' && m.type !== 'status') {
      // Claims to be someone else, with our own signature: never verifies for that someone.
      return [{ ...m, validator: this.randomPeer() }];
    }
    if (r < 0.6 && m.type === 'view-change' && m.prepared.length > 0) {
      const prepared = m.prepared.map((c) => ({
        ...c,
        signatures: c.signatures.map((s, i) => (i === 0 ? { ...s, signature: this.f.corrupt(s.signature) } : s)),
      }));
      return [this.f.viewChange(m.newView, m.committed, prepared)];
    }
    if (r < 0.7 && m.type === 'view-change' && m.committed !== null) {
      const c = m.committed;
      return [this.f.viewChange(m.newView, { ...c, signatures: c.signatures.map((s) => ({ ...s, signature: this.f.corrupt(s.signature) })) }, m.prepared)];
    }
    return [m];
  }
}

/** Votes for digests nobody proposed, alone and in place of its real votes. */
class UnknownDigests extends Strategy {
  readonly strategy = 'unknown-digests' as const;

  override outgoing(m: ConsensusMessage): readonly ConsensusMessage[] {
    if ((m.type === 'prepare' || m.type === 'commit') && this.prng.chance(0.5)) {
      const hash = this.f.randomHash();
      return [m.type === 'prepare' ? this.f.prepare(m.view, m.height, hash) : this.f.commit(m.view, m.height, hash)];
    }
    if (m.type === 'checkpoint' && this.prng.chance(0.5)) return [this.f.checkpoint(m.height, this.f.randomHash())];
    return [m];
  }

  override onTick(): void {
    if (!this.due(150)) return;
    const view = this.host.view();
    const height = this.height() + 1 + this.prng.int(3);
    const hash = this.f.randomHash();
    this.broadcast(this.f.prepare(view, height, hash));
    this.broadcast(this.f.commit(view, height, hash));
    if (this.prng.chance(0.3)) this.broadcast(this.f.checkpoint(height, hash));
  }
}

/** Answers catch-up with certificates that do not hold, and puts forged certificates in view-changes. */
class ForgedCerts extends Strategy {
  readonly strategy = 'forged-certs' as const;

  override answerFetch(from: number, to: number): FetchAnswer {
    const mode = this.prng.pick(FORGERY_MODES);
    const chain = this.host.chain();
    const honest = chain.slice(Math.max(0, from - 1), Math.min(to, chain.length));
    switch (this.prng.int(4)) {
      case 0:
        // Real blocks, certificates that do not hold.
        return honest.map((c) => ({ ...c, certificate: this.f.forgedCertificate(c.certificate.view, c.certificate.height, c.blockHash, mode) }));
      case 1: {
        // A fabricated block on top of what it has, "certified".
        const base = chain[Math.min(from, chain.length) - 2];
        const parent = base?.block ?? this.recentBlocks[0];
        if (parent === undefined) return [];
        const fake = fabricate(parent.header, from, this.f.randomHash(), this.host.now());
        const blockHash = hashBlockHeader(fake.header);
        return [{ block: fake, blockHash, certificate: this.f.forgedCertificate(this.host.view(), from, blockHash, mode) }];
      }
      case 2:
        // Real certificates attached to the wrong blocks.
        return honest.length < 2 ? honest.map((c) => ({ ...c, block: { ...c.block, txs: c.block.txs.slice(1) } })) : honest.map((c, i) => ({ ...c, certificate: (honest[(i + 1) % honest.length] as CommittedBlock).certificate }));
      default:
        // Real headers and certificates, bodies that do not match.
        return honest.map((c) => ({ ...c, block: { ...c.block, txs: [...c.block.txs].reverse().slice(0, Math.max(0, c.block.txs.length - 1)) } }));
    }
  }

  override outgoing(m: ConsensusMessage): readonly ConsensusMessage[] {
    if (m.type === 'view-change' && this.prng.chance(0.6)) return [this.forgedViewChange(m.newView)];
    if (m.type === 'status' && this.prng.chance(0.5)) return [this.forgedStatus()];
    if (m.type === 'block-response' && m.block.txs.length > 0) return [{ ...m, block: { ...m.block, txs: m.block.txs.slice(1) } }];
    return [m];
  }

  override onTick(): void {
    if (this.due(700)) this.host.send(this.randomPeer(), this.forgedStatus());
  }

  private forgedViewChange(newView: number): ViewChange {
    const mode = this.prng.pick(FORGERY_MODES);
    const chain = this.host.chain();
    const tip = chain[chain.length - 1];
    const parentHeader = tip?.block.header ?? this.recentBlocks[0]?.header;
    if (parentHeader === undefined || this.prng.chance(0.3)) {
      // A committed certificate far ahead, for a block nobody has.
      const height = this.height() + 1 + this.prng.int(20);
      return this.f.viewChange(newView, this.f.forgedCertificate(newView - 1, height, this.f.randomHash(), mode), []);
    }
    const fake = fabricate(parentHeader, parentHeader.height + 1, tip?.blockHash ?? this.f.randomHash(), this.host.now());
    return this.f.viewChange(newView, this.lastCertificate(), [this.f.forgedPrepared(Math.max(0, newView - 1), fake.header, mode)]);
  }

  private forgedStatus(): ConsensusMessage {
    const height = this.height() + 5 + this.prng.int(50);
    return {
      type: 'status',
      validator: this.host.self,
      view: this.host.view() + this.prng.int(3),
      committed: this.f.forgedCertificate(this.host.view(), height, this.f.randomHash(), this.prng.pick(FORGERY_MODES)),
    };
  }
}

/** Sends NEW-VIEWs whose proofs do not hold: empty, duplicated, for other views, or cut short. */
class BadNewView extends Strategy {
  readonly strategy = 'bad-new-view' as const;

  override outgoing(m: ConsensusMessage): readonly ConsensusMessage[] {
    if (m.type === 'new-view' && this.prng.chance(0.6)) {
      const vcs = [...m.viewChanges];
      if (this.prng.chance(0.5)) vcs.pop();
      else vcs.push(vcs[0] as ViewChange);
      return [this.f.newView(m.view, vcs)];
    }
    return [m];
  }

  override onTick(): void {
    if (!this.due(400)) return;
    let view = this.host.view() + 1;
    if (this.prng.chance(0.7)) while (primaryOf(view, this.host.n) !== this.host.self) view++;
    const own = this.f.viewChange(view, this.lastCertificate(), []);
    const seen = this.recent.filter((m): m is ViewChange => m.type === 'view-change');
    const q = this.host.n - Math.floor((this.host.n - 1) / 3);
    let proof: ViewChange[];
    switch (this.prng.int(5)) {
      case 0:
        proof = [];
        break;
      case 1:
        proof = Array.from({ length: q }, () => own);
        break;
      case 2:
        proof = [own, ...seen.slice(-(q - 1))];
        break;
      case 3:
        proof = Array.from({ length: q }, (_, i) => this.f.viewChange(view + 1 + i, null, []));
        break;
      default:
        // Our signature on view-changes that claim other senders.
        proof = [own, ...this.host.others().slice(0, q - 1).map((validator) => ({ ...own, validator }))];
    }
    if (this.prng.chance(0.5)) this.broadcast(own);
    this.broadcast(this.f.newView(view, proof));
  }
}

const FAR = 2 ** 40;

/** Messages from long-gone views and heights, and from absurdly far ahead; replays of others' messages. */
class StaleFuture extends Strategy {
  readonly strategy = 'stale-future' as const;

  override onTick(): void {
    if (!this.due(120)) return;
    const view = this.host.view();
    const height = this.height();
    const views = [0, Math.max(0, view - 1), view + 1000, FAR];
    const heights = [0, Math.max(0, height - 1), height + 1, height + 1000, FAR];
    const v = this.prng.pick(views);
    const h = this.prng.pick(heights);
    const to = this.randomPeer();
    const hash = this.f.randomHash();
    switch (this.prng.int(7)) {
      case 0:
        this.host.send(to, this.f.prepare(v, h, hash));
        break;
      case 1:
        this.host.send(to, this.f.commit(v, h, hash));
        break;
      case 2: {
        const block = this.recentBlocks[this.recentBlocks.length - 1];
        if (block !== undefined) this.host.send(to, this.f.prePrepare(v, h, block));
        break;
      }
      case 3:
        this.host.send(to, this.f.checkpoint(h, hash));
        break;
      case 4:
        this.host.send(to, this.f.viewChange(this.prng.chance(0.5) ? view + 1000 : FAR, this.lastCertificate(), []));
        break;
      case 5:
        this.host.send(to, { type: 'status', validator: this.host.self, view: v, committed: this.lastCertificate() });
        break;
      default: {
        const old = this.recent[this.prng.int(Math.max(1, this.recent.length))];
        if (old !== undefined) this.host.send(to, old);
      }
    }
  }
}

/** Bursts of plausible, correctly signed messages about nothing. */
class JunkFlood extends Strategy {
  readonly strategy = 'junk-flood' as const;

  override onTick(): void {
    if (!this.due(40)) return;
    const view = this.host.view();
    const height = this.height();
    for (let i = 0, k = this.prng.range(2, 6); i < k; i++) {
      const to = this.randomPeer();
      const h = height + this.prng.range(0, 10);
      const hash = this.f.randomHash();
      switch (this.prng.int(6)) {
        case 0:
          this.host.send(to, this.f.prepare(view, h, hash));
          break;
        case 1:
          this.host.send(to, this.f.commit(view, h, hash));
          break;
        case 2:
          this.host.send(to, { type: 'block-request', validator: this.host.self, height: h, blockHash: hash });
          break;
        case 3:
          this.host.send(to, this.f.checkpoint(h, hash));
          break;
        case 4:
          this.host.send(to, this.f.viewChange(view + 1 + this.prng.int(3), this.lastCertificate(), []));
          break;
        default: {
          const block = this.recentBlocks[this.prng.int(Math.max(1, this.recentBlocks.length))];
          if (block !== undefined) this.host.send(to, { type: 'block-response', validator: this.host.self, block });
        }
      }
    }
  }
}

type InvalidMode = 'state-root' | 'future-time' | 'past-time' | 'bad-parent' | 'bad-tx-signature' | 'duplicate-tx' | 'bad-proposer' | 'tx-root';
const INVALID_MODES: readonly InvalidMode[] = ['state-root', 'future-time', 'past-time', 'bad-parent', 'bad-tx-signature', 'duplicate-tx', 'bad-proposer', 'tx-root'];

/** As primary, proposes blocks that do not execute or do not fit their parent. */
class InvalidBlock extends Strategy {
  readonly strategy = 'invalid-block' as const;
  private readonly slots = new Map<string, Block>();

  override outgoing(m: ConsensusMessage): readonly ConsensusMessage[] {
    if (m.type !== 'pre-prepare') return [m];
    const key = `${m.view}/${m.height}`;
    let bad = this.slots.get(key);
    if (bad === undefined) {
      bad = this.spoil(m.block, this.prng.pick(INVALID_MODES));
      this.slots.set(key, bad);
      if (this.slots.size > 64) this.slots.delete(this.slots.keys().next().value as string);
    }
    return [this.f.prePrepare(m.view, m.height, bad)];
  }

  private spoil(block: Block, mode: InvalidMode): Block {
    const h = block.header;
    const withTxs = (txs: readonly Tx[]): Block => ({ header: { ...h, txCount: txs.length, txRoot: computeTxRoot(txs) }, txs });
    switch (mode) {
      case 'state-root':
        return { header: { ...h, stateRoot: this.f.randomHash() }, txs: block.txs };
      case 'future-time':
        return { header: { ...h, timestamp: h.timestamp + 20 * this.host.maxClockSkewMs + 60_000 }, txs: block.txs };
      case 'past-time':
        return { header: { ...h, timestamp: 0 }, txs: block.txs };
      case 'bad-parent':
        return { header: { ...h, parentHash: this.f.randomHash() }, txs: block.txs };
      case 'bad-proposer':
        return { header: { ...h, proposer: (h.proposer + 1) % this.host.n }, txs: block.txs };
      case 'tx-root':
        return { header: { ...h, txRoot: this.f.randomHash() }, txs: block.txs };
      case 'bad-tx-signature': {
        const first = block.txs[0];
        if (first === undefined) return { header: { ...h, stateRoot: this.f.randomHash() }, txs: [] };
        return withTxs([{ ...first, signature: this.f.corrupt(first.signature) }, ...block.txs.slice(1)]);
      }
      case 'duplicate-tx': {
        const first = block.txs[0];
        if (first === undefined) return { header: { ...h, stateRoot: this.f.randomHash() }, txs: [] };
        return withTxs([...block.txs, first]);
      }
    }
  }
}

/**
 * Talks to some validators only: everything it sends to the others is dropped, and the
 * chosen set changes every few seconds (a primary that feeds just enough replicas to keep
 * them from complaining, or too few to make progress).
 */
class Selective extends Strategy {
  readonly strategy = 'selective' as const;
  private deaf = new Set<number>();
  private until = -Infinity;

  override outgoing(m: ConsensusMessage, to: number): readonly ConsensusMessage[] {
    this.refresh();
    return this.deaf.has(to) ? [] : [m];
  }

  override answerFetch(): FetchAnswer {
    return this.prng.chance(0.5) ? 'ignore' : 'honest';
  }

  private refresh(): void {
    const now = this.host.now();
    if (now < this.until) return;
    this.until = now + this.prng.range(1_000, 5_000);
    const others = this.host.others();
    this.deaf = new Set(others.filter(() => this.prng.chance(0.5)));
  }
}

/** Each action is taken by a randomly chosen one of the other strategies. */
class Chaos extends Strategy {
  readonly strategy = 'chaos' as const;
  private readonly parts: Strategy[];

  constructor(host: ByzantineHost) {
    super(host);
    this.parts = [
      new Equivocate(host),
      new BadSignatures(host),
      new UnknownDigests(host),
      new ForgedCerts(host),
      new BadNewView(host),
      new StaleFuture(host),
      new InvalidBlock(host),
      new Selective(host),
      new Twins(host),
    ];
  }

  override outgoing(m: ConsensusMessage, to: number): readonly ConsensusMessage[] {
    return this.prng.pick(this.parts).outgoing(m, to);
  }

  override onTick(): void {
    for (const p of this.parts) if (this.prng.chance(0.2)) p.onTick();
  }

  override answerFetch(from: number, to: number): FetchAnswer {
    return this.prng.pick(this.parts).answerFetch(from, to);
  }

  override observe(from: number, m: ConsensusMessage): void {
    for (const p of this.parts) p.observe(from, m);
  }
}

/** A header on top of `parent` at `height` that nobody proposed (its txs: none). */
function fabricate(parent: BlockHeader, height: number, parentHash: Hash, now: number): Block {
  const txs: Tx[] = [];
  return {
    header: { ...parent, height, parentHash, timestamp: Math.max(parent.timestamp, now), txCount: 0, txRoot: computeTxRoot(txs), stateRoot: parent.stateRoot },
    txs,
  };
}

export function makeBehavior(strategy: StrategyName, host: ByzantineHost): Behavior {
  switch (strategy) {
    case 'silent':
      return new Silent(host);
    case 'equivocate':
      return new Equivocate(host);
    case 'twins':
      return new Twins(host);
    case 'bad-signatures':
      return new BadSignatures(host);
    case 'unknown-digests':
      return new UnknownDigests(host);
    case 'forged-certs':
      return new ForgedCerts(host);
    case 'bad-new-view':
      return new BadNewView(host);
    case 'stale-future':
      return new StaleFuture(host);
    case 'junk-flood':
      return new JunkFlood(host);
    case 'invalid-block':
      return new InvalidBlock(host);
    case 'selective':
      return new Selective(host);
    case 'chaos':
      return new Chaos(host);
  }
}

/** For transcripts: a hash's short form when a strategy wants to log. */
export function hex8(hash: Hash): string {
  return toHex(hash).slice(0, 8);
}
