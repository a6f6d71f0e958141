/**
 * The peer table: every peer the host may talk to, by index. Indices 0..n-1 are the
 * genesis validators in genesis order; n.. are the configured observers in the order
 * given. Observers may connect, gossip txs and sync, but take no part in consensus and
 * are never dialed (they have no address in genesis; they dial us).
 */
import type { Ed25519PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { NetError } from './errors.js';
import { peerIdInMultiaddr } from './gater.js';
import { peerIdOfValidator } from './identity.js';

export type PeerRole = 'validator' | 'observer';

export interface PeerEntry {
  readonly index: number;
  readonly role: PeerRole;
  readonly peerId: Ed25519PeerId;
  /** Base58 peer id, the key libp2p events are looked up by. */
  readonly id: string;
  /** Where to dial it (with /p2p/<id>); validators only. */
  readonly address: Multiaddr | undefined;
}

export interface ValidatorEndpoint {
  readonly publicKey: Uint8Array;
  /** Multiaddr; a trailing /p2p/<id> is optional but must match the public key. */
  readonly p2p: string;
}

export class PeerTable {
  readonly entries: readonly PeerEntry[];
  readonly validatorCount: number;
  readonly #byId: ReadonlyMap<string, PeerEntry>;

  private constructor(entries: PeerEntry[], validatorCount: number) {
    this.entries = entries;
    this.validatorCount = validatorCount;
    this.#byId = new Map(entries.map((e) => [e.id, e]));
  }

  /** Throws NetError('bad-options') on a malformed key or address, or a duplicated key. */
  static build(validators: readonly ValidatorEndpoint[], observers: readonly Uint8Array[]): PeerTable {
    if (validators.length === 0) throw new NetError('bad-options', 'the validator set is empty');
    const entries: PeerEntry[] = [];
    validators.forEach((v, index) => {
      const peerId = peerIdFor(v.publicKey, `validators[${index}].publicKey`);
      entries.push({ index, role: 'validator', peerId, id: peerId.toString(), address: dialAddress(v.p2p, peerId, index) });
    });
    observers.forEach((publicKey, i) => {
      const peerId = peerIdFor(publicKey, `observers[${i}]`);
      entries.push({ index: validators.length + i, role: 'observer', peerId, id: peerId.toString(), address: undefined });
    });
    const seen = new Map<string, number>();
    for (const e of entries) {
      const earlier = seen.get(e.id);
      if (earlier !== undefined) throw new NetError('bad-options', `peers ${earlier} and ${e.index} have the same public key`);
      seen.set(e.id, e.index);
    }
    return new PeerTable(entries, validators.length);
  }

  get size(): number {
    return this.entries.length;
  }

  get(index: number): PeerEntry | undefined {
    return Number.isInteger(index) ? this.entries[index] : undefined;
  }

  byId(id: string): PeerEntry | undefined {
    return this.#byId.get(id);
  }

  /** Base58 ids of everyone admitted. */
  ids(): Set<string> {
    return new Set(this.entries.map((e) => e.id));
  }
}

function peerIdFor(publicKey: Uint8Array, field: string): Ed25519PeerId {
  try {
    return peerIdOfValidator(publicKey);
  } catch (cause) {
    throw new NetError('bad-options', `${field}: not an Ed25519 public key`, { cause });
  }
}

function dialAddress(text: string, peerId: Ed25519PeerId, index: number): Multiaddr {
  let ma: Multiaddr;
  try {
    ma = multiaddr(text);
  } catch (cause) {
    throw new NetError('bad-options', `validators[${index}].p2p: not a multiaddr: ${text}`, { cause });
  }
  const stated = peerIdInMultiaddr(ma);
  if (stated === undefined) return ma.encapsulate(`/p2p/${peerId.toString()}`);
  if (stated !== peerId.toString()) {
    throw new NetError('bad-options', `validators[${index}].p2p names peer ${stated}, but its public key is peer ${peerId.toString()}`);
  }
  return ma;
}
