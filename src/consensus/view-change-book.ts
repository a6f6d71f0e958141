/**
 * The VIEW-CHANGE messages a replica holds, by view and sender, and the two questions
 * asked of them: has a view enough support to give up on, and should this replica join a
 * higher view others already want (PBFT's f+1 rule). Memory is bounded: views below the
 * current one are dropped, and each validator keeps at most a few of its highest views
 * (a Byzantine sender cannot fill memory with far-future views).
 */
import type { ViewChange } from '../codec/types.js';

const MAX_VIEWS_PER_VALIDATOR = 4;

export class ViewChangeBook {
  private readonly byView = new Map<number, Map<number, ViewChange>>();

  /** Records `vc` unless its sender already has one for that view; false when ignored. */
  add(vc: ViewChange): boolean {
    let forView = this.byView.get(vc.newView);
    if (forView === undefined) {
      forView = new Map();
      this.byView.set(vc.newView, forView);
    }
    if (forView.has(vc.validator)) return false;
    forView.set(vc.validator, vc);
    this.bound(vc.validator);
    return true;
  }

  /** The VIEW-CHANGEs for exactly `view`, by sender. */
  forView(view: number): ReadonlyMap<number, ViewChange> {
    return this.byView.get(view) ?? new Map<number, ViewChange>();
  }

  /** Forgets one sender's VIEW-CHANGE for `view` (its proof did not check out). */
  remove(view: number, validator: number): void {
    this.byView.get(view)?.delete(validator);
  }

  /** How many validators (any, the caller's own included) asked for `view` or a later one. */
  support(view: number): number {
    const senders = new Set<number>();
    for (const [v, forView] of this.byView) if (v >= view) for (const validator of forView.keys()) senders.add(validator);
    return senders.size;
  }

  /**
   * The view to join, if at least f+1 OTHER validators want a view above `current`: the
   * (f+1)-th highest of their highest views, which at least one honest replica wants.
   */
  joinTarget(current: number, f: number, self: number): number | undefined {
    const highest = new Map<number, number>();
    for (const [view, senders] of this.byView) {
      if (view <= current) continue;
      for (const validator of senders.keys()) {
        if (validator !== self && (highest.get(validator) ?? -1) < view) highest.set(validator, view);
      }
    }
    if (highest.size < f + 1) return undefined;
    const target = [...highest.values()].sort((a, b) => b - a)[f];
    return target !== undefined && target > current ? target : undefined;
  }

  /** Drops every view below `view`. */
  pruneBelow(view: number): void {
    for (const v of this.byView.keys()) if (v < view) this.byView.delete(v);
  }

  private bound(validator: number): void {
    const views = [...this.byView.entries()]
      .filter(([, senders]) => senders.has(validator))
      .map(([v]) => v)
      .sort((a, b) => b - a);
    for (const v of views.slice(MAX_VIEWS_PER_VALIDATOR)) this.byView.get(v)?.delete(validator);
  }
}
