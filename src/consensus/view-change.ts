/**
 * What a new view must re-propose, derived from the 2f+1 VIEW-CHANGEs in its NEW-VIEW by a
 * rule every replica recomputes (so the new primary's word counts for nothing).
 *
 * The rule:
 * 1. Base: the highest committed certificate among the VIEW-CHANGEs (genesis if none).
 * 2. Walk up from base+1: at each height take, among the prepared certificates whose
 *    header names the previously chosen block as parent, the one from the highest view
 *    (ties: the lowest hash, deterministically); stop at the first height without one.
 * The new view re-proposes exactly the chosen blocks, then proposes fresh ones above.
 *
 * Why this is safe. Honest replicas send COMMIT for height h only once h-1 is committed
 * locally and h is prepared (2f+1 PREPAREs) in that view. Suppose block K commits at
 * height k in view w: at least f+1 honest replicas sent COMMIT, so each had committed
 * k-1 and holds a prepared certificate for K from view w. Any 2f+1 VIEW-CHANGEs include
 * one of them, so the base is at least k-1. If the base is k or more, K is below it and
 * is never re-proposed differently. If the base is k-1, its block is K's parent (agreement
 * at k-1, by induction), and by PBFT's usual argument every prepared certificate at k
 * from a view after w is for K (in each later view the walk reached k and picked K, the
 * highest-view certificate), so the walk picks K. Heights above k can hold no committed
 * block yet, so whatever the walk keeps there is safe. This is why a committed
 * certificate serves here where PBFT uses a checkpoint: every block carries one anyway.
 */
import { compareBytes } from '../crypto/bytes.js';
import type { Hash } from '../crypto/index.js';
import type { BlockHeader, QuorumCertificate, ViewChange } from '../codec/types.js';

export interface NewViewPlan {
  readonly base: { readonly height: number; readonly hash: Hash; readonly certificate: QuorumCertificate | null };
  /** Consecutive heights from base.height + 1, each chaining to the one before. */
  readonly reproposals: readonly { readonly height: number; readonly hash: Hash; readonly header: BlockHeader }[];
}

/** Computes the plan. The view-changes must already be verified (certificates.ts). */
export function planNewView(
  viewChanges: readonly ViewChange[],
  genesisHash: Hash,
  hashHeader: (header: BlockHeader) => Hash,
): NewViewPlan {
  let base: NewViewPlan['base'] = { height: 0, hash: genesisHash, certificate: null };
  for (const vc of viewChanges) {
    const qc = vc.committed;
    if (qc !== null && qc.height > base.height) base = { height: qc.height, hash: qc.blockHash, certificate: qc };
  }

  const byHeight = new Map<number, { view: number; header: BlockHeader; hash: Hash }[]>();
  for (const vc of viewChanges) {
    for (const cert of vc.prepared) {
      if (cert.height <= base.height) continue;
      const list = byHeight.get(cert.height) ?? [];
      list.push({ view: cert.view, header: cert.header, hash: hashHeader(cert.header) });
      byHeight.set(cert.height, list);
    }
  }

  const reproposals: { height: number; hash: Hash; header: BlockHeader }[] = [];
  let parent = base.hash;
  for (let height = base.height + 1; ; height++) {
    let best: { view: number; header: BlockHeader; hash: Hash } | undefined;
    for (const candidate of byHeight.get(height) ?? []) {
      if (compareBytes(candidate.header.parentHash, parent) !== 0) continue;
      if (
        best === undefined ||
        candidate.view > best.view ||
        (candidate.view === best.view && compareBytes(candidate.hash, best.hash) < 0)
      ) {
        best = candidate;
      }
    }
    if (best === undefined) break;
    reproposals.push({ height, hash: best.hash, header: best.header });
    parent = best.hash;
  }
  return { base, reproposals };
}
