/**
 * Every open subscription of every WebSocket connection, indexed by what it matches, so a
 * commit costs work in proportion to the subscriptions it matches, not to all of them:
 * block subscriptions are a set, tx subscriptions are maps from sender and from tx hash.
 * With no subscriber the commit path costs a few size checks.
 *
 * Each event is serialized once and fanned out as text (see events.ts).
 */
import { toHex } from '../crypto/bytes.js';
import { blockEvent, txEvent, type CommitEvent, type SubscriptionQuery } from './events.js';

/** The owner of subscriptions: a connection. `deliver` must not throw. */
export interface Subscriber {
  deliver(subscription: string, eventJson: string): void;
}

interface Entry {
  readonly owner: Subscriber;
  readonly id: string;
  readonly query: SubscriptionQuery;
}

function addTo(index: Map<string, Set<Entry>>, key: string, entry: Entry): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(entry);
}

function removeFrom(index: Map<string, Set<Entry>>, key: string, entry: Entry): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(entry);
  if (set.size === 0) index.delete(key);
}

export class SubscriptionHub {
  private readonly owners = new Map<Subscriber, Map<string, Entry>>();
  private readonly blocks = new Set<Entry>();
  private readonly bySender = new Map<string, Set<Entry>>();
  private readonly byHash = new Map<string, Set<Entry>>();
  private total = 0;

  /** Open subscriptions, of one owner or of all. */
  count(owner?: Subscriber): number {
    if (owner === undefined) return this.total;
    return this.owners.get(owner)?.size ?? 0;
  }

  /** Adds a subscription; `id` must be new for this owner. */
  add(owner: Subscriber, id: string, query: SubscriptionQuery): void {
    let mine = this.owners.get(owner);
    if (mine === undefined) {
      mine = new Map();
      this.owners.set(owner, mine);
    }
    if (mine.has(id)) throw new Error(`subscription ${id} already exists`);
    const entry: Entry = { owner, id, query };
    mine.set(id, entry);
    this.total++;
    if (query.type === 'block') this.blocks.add(entry);
    else if ('sender' in query) addTo(this.bySender, query.sender, entry);
    else addTo(this.byHash, query.hash, entry);
  }

  /** Removes one subscription; false when the owner has none by that id. */
  remove(owner: Subscriber, id: string): boolean {
    const mine = this.owners.get(owner);
    const entry = mine?.get(id);
    if (mine === undefined || entry === undefined) return false;
    mine.delete(id);
    if (mine.size === 0) this.owners.delete(owner);
    this.unindex(entry);
    return true;
  }

  /** Removes every subscription of an owner (unsubscribe_all, or its connection closed); returns how many. */
  removeAll(owner: Subscriber): number {
    const mine = this.owners.get(owner);
    if (mine === undefined) return 0;
    this.owners.delete(owner);
    for (const entry of mine.values()) this.unindex(entry);
    return mine.size;
  }

  private unindex(entry: Entry): void {
    this.total--;
    const query = entry.query;
    if (query.type === 'block') this.blocks.delete(entry);
    else if ('sender' in query) removeFrom(this.bySender, query.sender, entry);
    else removeFrom(this.byHash, query.hash, entry);
  }

  /**
   * Hands a committed block to every matching subscription. A subscriber may drop its
   * subscriptions while this runs (a slow consumer being cut): deleting from a Set during
   * iteration is safe, and a dropped subscription gets nothing more.
   */
  publish(event: CommitEvent): void {
    if (this.total === 0) return;
    if (this.blocks.size > 0) {
      const json = JSON.stringify(blockEvent(event));
      for (const entry of this.blocks) entry.owner.deliver(entry.id, json);
    }
    if (this.bySender.size === 0 && this.byHash.size === 0) return;
    const blockHashHex = toHex(event.hash);
    for (const receipt of event.receipts) {
      const bySender = this.bySender.get(receipt.sender);
      // Hashing to hex costs per tx; only pay it when someone may match.
      const txHashHex = bySender !== undefined || this.byHash.size > 0 ? toHex(receipt.txHash) : undefined;
      if (txHashHex === undefined) continue;
      const byHash = this.byHash.get(txHashHex);
      if (bySender === undefined && byHash === undefined) continue;
      const json = JSON.stringify(txEvent(receipt, txHashHex, blockHashHex));
      if (bySender !== undefined) for (const entry of bySender) entry.owner.deliver(entry.id, json);
      if (byHash !== undefined) for (const entry of byHash) entry.owner.deliver(entry.id, json);
    }
  }
}
