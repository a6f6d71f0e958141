/**
 * A readable account of a run, one line per event that matters (a message sent, a block
 * committed, a crash, a partition), in the style `t=120ms r2 -> all PREPARE v0 h3 ab12..`.
 * Scenario tests check key lines of it, and one transcript is kept under testdata/.
 */
import type { ConsensusMessage } from '../../src/codec/types.js';
import { toHex, type Hash } from '../../src/crypto/index.js';
import { hashBlockHeader } from '../../src/ledger/block.js';

export function shortHash(hash: Hash): string {
  return `${toHex(hash.subarray(0, 2))}..`;
}

/** The digest a message is about: the block it proposes, votes for or returns. */
export function messageDigest(m: ConsensusMessage): Hash | undefined {
  switch (m.type) {
    case 'pre-prepare':
      return hashBlockHeader(m.block.header);
    case 'prepare':
    case 'commit':
    case 'checkpoint':
    case 'block-request':
      return m.blockHash;
    case 'block-response':
      return hashBlockHeader(m.block.header);
    case 'view-change':
    case 'new-view':
    case 'status':
      return undefined;
  }
}

export function describeMessage(m: ConsensusMessage): string {
  switch (m.type) {
    case 'pre-prepare':
      return `PRE-PREPARE v${m.view} h${m.height} ${shortHash(hashBlockHeader(m.block.header))} txs=${m.block.txs.length}`;
    case 'prepare':
      return `PREPARE v${m.view} h${m.height} ${shortHash(m.blockHash)}`;
    case 'commit':
      return `COMMIT v${m.view} h${m.height} ${shortHash(m.blockHash)}`;
    case 'checkpoint':
      return `CHECKPOINT h${m.height} ${shortHash(m.blockHash)}`;
    case 'view-change': {
      const prepared = m.prepared.map((p) => `h${p.height}:v${p.view}:${shortHash(hashBlockHeader(p.header))}`).join(' ');
      return `VIEW-CHANGE v${m.newView} committed=h${m.committed?.height ?? 0} prepared=[${prepared}]`;
    }
    case 'new-view':
      return `NEW-VIEW v${m.view} proof=[${m.viewChanges.map((vc) => vc.validator).join(',')}]`;
    case 'block-request':
      return `BLOCK-REQUEST h${m.height} ${shortHash(m.blockHash)}`;
    case 'block-response':
      return `BLOCK-RESPONSE h${m.block.header.height} ${shortHash(hashBlockHeader(m.block.header))}`;
    case 'status':
      return `STATUS v${m.view} committed=h${m.committed?.height ?? 0}`;
  }
}

/** Collects lines; `echo` also prints each as it comes (--verbose). */
export class Transcript {
  readonly lines: string[] = [];

  constructor(private readonly echo?: (line: string) => void) {}

  add(time: number, text: string): void {
    const line = `t=${time}ms ${text}`;
    this.lines.push(line);
    this.echo?.(line);
  }

  /** The lines that contain every one of `parts`. */
  grep(...parts: string[]): string[] {
    return this.lines.filter((l) => parts.every((p) => l.includes(p)));
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
