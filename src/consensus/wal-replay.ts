/**
 * What a restarted replica learns from its own WAL: every vote it signed (so it never
 * signs a different one for the same slot), the highest view it reached, its latest
 * VIEW-CHANGE and the latest NEW-VIEW it accepted (so it rejoins the view it was in, with
 * that view's re-proposal plan). Pure: the caller decides what to do with it.
 */
import { toHex } from '../crypto/bytes.js';
import type { Hash } from '../crypto/index.js';
import type { BlockHeader, ConsensusMessage, NewView, PrePrepare, ViewChange } from '../codec/types.js';

export interface WalReplay {
  /** `${kind}:${view}:${height}` -> hash hex of what was signed. */
  readonly signed: Map<string, string>;
  readonly maxView: number;
  readonly ownViewChange: ViewChange | null;
  readonly latestNewView: NewView | null;
  /** This replica's own PRE-PREPAREs (with their blocks): a restarted primary re-sends these, never new ones. */
  readonly ownPrePrepares: readonly PrePrepare[];
}

export function signedKey(kind: 'pre-prepare' | 'prepare' | 'commit', view: number, height: number): string {
  return `${kind}:${view}:${height}`;
}

export function replayWal(wal: readonly ConsensusMessage[], self: number, hashHeader: (h: BlockHeader) => Hash): WalReplay {
  const signed = new Map<string, string>();
  let maxView = 0;
  let ownViewChange: ViewChange | null = null;
  let latestNewView: NewView | null = null;
  const ownPrePrepares: PrePrepare[] = [];
  for (const m of wal) {
    switch (m.type) {
      case 'pre-prepare':
        signed.set(signedKey('pre-prepare', m.view, m.height), toHex(hashHeader(m.block.header)));
        if (m.validator === self) ownPrePrepares.push(m);
        maxView = Math.max(maxView, m.view);
        break;
      case 'prepare':
      case 'commit':
        signed.set(signedKey(m.type, m.view, m.height), toHex(m.blockHash));
        maxView = Math.max(maxView, m.view);
        break;
      case 'view-change':
        if (m.validator === self && (ownViewChange === null || m.newView > ownViewChange.newView)) ownViewChange = m;
        maxView = Math.max(maxView, m.newView);
        break;
      case 'new-view':
        if (latestNewView === null || m.view > latestNewView.view) latestNewView = m;
        maxView = Math.max(maxView, m.view);
        break;
      default:
        break;
    }
  }
  return { signed, maxView, ownViewChange, latestNewView, ownPrePrepares };
}
