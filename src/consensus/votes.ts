/**
 * Vote tallies for one message kind: at most one vote per (view, height, validator). A
 * second, different vote from the same validator for the same slot is a conflict, which
 * the caller turns into evidence; it never counts twice.
 */
import type { Hash, Signature } from '../crypto/index.js';
import type { ValidatorSignature } from '../codec/types.js';

export interface SignedVote {
  readonly validator: number;
  readonly signature: Signature;
}

interface Recorded<M> {
  readonly hashHex: string;
  readonly hash: Hash;
  readonly message: M;
}

export type AddResult<M> =
  | { readonly kind: 'added'; readonly count: number }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'conflict'; readonly previous: M };

function slotKey(view: number, height: number): string {
  return `${view}:${height}`;
}

export class VoteBook<M extends SignedVote> {
  private readonly slots = new Map<string, { view: number; height: number; votes: Map<number, Recorded<M>> }>();

  add(view: number, height: number, hash: Hash, hashHex: string, message: M): AddResult<M> {
    const key = slotKey(view, height);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { view, height, votes: new Map() };
      this.slots.set(key, slot);
    }
    const previous = slot.votes.get(message.validator);
    if (previous !== undefined) {
      return previous.hashHex === hashHex ? { kind: 'duplicate' } : { kind: 'conflict', previous: previous.message };
    }
    slot.votes.set(message.validator, { hashHex, hash, message });
    return { kind: 'added', count: this.count(view, height, hashHex) };
  }

  /** Whether `validator` already has exactly this vote here (a resent duplicate costs no verification). */
  holds(view: number, height: number, validator: number, hashHex: string): boolean {
    return this.slots.get(slotKey(view, height))?.votes.get(validator)?.hashHex === hashHex;
  }

  count(view: number, height: number, hashHex: string): number {
    const slot = this.slots.get(slotKey(view, height));
    if (slot === undefined) return 0;
    let n = 0;
    for (const vote of slot.votes.values()) if (vote.hashHex === hashHex) n++;
    return n;
  }

  /** The matching votes' signatures, sorted by validator: the shape certificates take. */
  signatures(view: number, height: number, hashHex: string): ValidatorSignature[] {
    const slot = this.slots.get(slotKey(view, height));
    if (slot === undefined) return [];
    const out: ValidatorSignature[] = [];
    for (const [validator, vote] of slot.votes) {
      if (vote.hashHex === hashHex) out.push({ validator, signature: vote.message.signature });
    }
    return out.sort((a, b) => a.validator - b.validator);
  }

  /** Every (view, hash) that reached `quorum` votes at `height`. */
  quorums(height: number, quorum: number): { view: number; hash: Hash; hashHex: string }[] {
    const found: { view: number; hash: Hash; hashHex: string }[] = [];
    for (const slot of this.slots.values()) {
      if (slot.height !== height) continue;
      const counts = new Map<string, { n: number; hash: Hash }>();
      for (const vote of slot.votes.values()) {
        const entry = counts.get(vote.hashHex) ?? { n: 0, hash: vote.hash };
        entry.n++;
        counts.set(vote.hashHex, entry);
      }
      for (const [hashHex, { n, hash }] of counts) if (n >= quorum) found.push({ view: slot.view, hash, hashHex });
    }
    return found.sort((a, b) => b.view - a.view);
  }

  /** Drops every slot for which `keep(view, height)` is false. */
  prune(keep: (view: number, height: number) => boolean): void {
    for (const [key, slot] of this.slots) if (!keep(slot.view, slot.height)) this.slots.delete(key);
  }

  get size(): number {
    return this.slots.size;
  }
}
