/**
 * The simulated network between nodes: every packet gets a delay drawn from the run's PRNG
 * (a floor plus an exponential tail, so packets overtake each other), may be lost or
 * duplicated, and is cut by partitions. Links are directed, so a partition may be one-way.
 * A packet is checked against partitions both when sent and when it arrives: a partition
 * that starts while a packet is in flight cuts it, as a broken connection would.
 */
import type { Prng } from './prng.js';
import type { EventQueue } from './queue.js';

export interface NetworkProfile {
  /** Every packet takes at least this long. */
  readonly minDelayMs: number;
  /** Mean of the exponential part of the delay, on top of the floor. */
  readonly meanExtraDelayMs: number;
  /** Probability that a packet is dropped. */
  readonly lossRate: number;
  /** Probability that a packet is delivered twice (with independent delays). */
  readonly duplicateRate: number;
}

export const CALM_NETWORK: NetworkProfile = { minDelayMs: 2, meanExtraDelayMs: 3, lossRate: 0, duplicateRate: 0 };

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  cut: number;
  duplicated: number;
}

export class Network {
  private profile: NetworkProfile;
  /** blocked[from * size + to] is 1 when packets from `from` cannot reach `to`. */
  private readonly blocked: Uint8Array;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, cut: 0, duplicated: 0 };

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: Prng,
    readonly size: number,
    profile: NetworkProfile = CALM_NETWORK,
  ) {
    this.profile = profile;
    this.blocked = new Uint8Array(size * size);
  }

  get currentProfile(): NetworkProfile {
    return this.profile;
  }

  setProfile(profile: NetworkProfile): void {
    this.profile = profile;
  }

  canReach(from: number, to: number): boolean {
    return this.blocked[from * this.size + to] === 0;
  }

  /** Splits the nodes into groups that cannot talk to each other (nodes in no group are cut off from all). */
  partition(groups: readonly (readonly number[])[]): void {
    const groupOf = new Int32Array(this.size).fill(-1);
    groups.forEach((g, gi) => {
      for (const node of g) groupOf[node] = gi;
    });
    for (let a = 0; a < this.size; a++) {
      for (let b = 0; b < this.size; b++) {
        const same = a === b || (groupOf[a] !== -1 && groupOf[a] === groupOf[b]);
        this.blocked[a * this.size + b] = same ? 0 : 1;
      }
    }
  }

  /** Blocks the directed link from -> to only. */
  blockLink(from: number, to: number): void {
    this.blocked[from * this.size + to] = 1;
  }

  heal(): void {
    this.blocked.fill(0);
  }

  /** True when some link is blocked. */
  get partitioned(): boolean {
    return this.blocked.includes(1);
  }

  /** Schedules `deliver` after a random delay, unless the packet is cut or lost. */
  send(from: number, to: number, deliver: () => void): void {
    this.stats.sent++;
    if (!this.canReach(from, to)) {
      this.stats.cut++;
      return;
    }
    const p = this.profile;
    if (this.prng.chance(p.lossRate)) {
      this.stats.lost++;
      return;
    }
    const copies = this.prng.chance(p.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      this.queue.after(this.delay(), () => {
        if (!this.canReach(from, to)) {
          this.stats.cut++;
          return;
        }
        this.stats.delivered++;
        deliver();
      });
    }
  }

  /** A delay for one packet under the current profile. */
  delay(): number {
    const p = this.profile;
    return p.minDelayMs + (p.meanExtraDelayMs > 0 ? this.prng.exponential(p.meanExtraDelayMs) : 0);
  }
}
