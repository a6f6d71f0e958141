/**
 * Speculative execution for the driver. Replicas execute a proposal before they vote, so
 * blocks above the committed tip are executed on the state their parent left, which may
 * itself be speculative. The state tree is persistent (structurally shared), so each
 * executed block simply keeps its resulting state; forks that lose cost nothing to drop.
 */
import type { Block, BlockHeader, Tx } from '../codec/types.js';
import { toHex } from '../crypto/bytes.js';
import type { Hash } from '../crypto/index.js';
import {
  buildBlock,
  checkHeaderLinks,
  executeBlock,
  type ExecutedBlock,
  type ExecutionContext,
} from '../ledger/execute.js';
import type { BlockError } from '../ledger/errors.js';
import { hashTx } from '../ledger/tx.js';
import type { LedgerState } from '../ledger/state.js';
import type { Result } from '../codec/result.js';

interface Executed {
  readonly block: Block;
  readonly hash: Hash;
  readonly executed: ExecutedBlock;
}

interface Tip {
  readonly height: number;
  readonly hash: Hash;
  readonly hashHex: string;
  readonly timestamp: number;
  readonly state: LedgerState;
}

export type ExecuteOutcome = Result<ExecutedBlock, BlockError | { readonly code: 'unknown-parent'; readonly message: string }>;

export class SpeculativeExecutor {
  private tip: Tip;
  private readonly executed = new Map<string, Executed>();

  constructor(
    committed: { readonly height: number; readonly hash: Hash; readonly timestamp: number; readonly state: LedgerState },
    private readonly ctx: ExecutionContext,
    private readonly hashHeader: (header: BlockHeader) => Hash,
  ) {
    this.tip = { ...committed, hashHex: toHex(committed.hash) };
  }

  get committedState(): LedgerState {
    return this.tip.state;
  }

  get committedTimestamp(): number {
    return this.tip.timestamp;
  }

  get committedHeight(): number {
    return this.tip.height;
  }

  /** The state after `blockHash` (the committed tip or an executed proposal), if known. */
  stateAfter(blockHash: Hash): LedgerState | undefined {
    const hex = toHex(blockHash);
    if (hex === this.tip.hashHex) return this.tip.state;
    return this.executed.get(hex)?.executed.state;
  }

  private parentLink(parentHash: Hash): { height: number; hash: Hash; timestamp: number; state: LedgerState } | undefined {
    const hex = toHex(parentHash);
    if (hex === this.tip.hashHex) return this.tip;
    const parent = this.executed.get(hex);
    if (parent === undefined) return undefined;
    const h = parent.block.header;
    return { height: h.height, hash: parent.hash, timestamp: h.timestamp, state: parent.executed.state };
  }

  /** Validates and executes a proposal on its parent's state; remembers the result. */
  execute(block: Block, blockHash: Hash, trustTxs = false): ExecuteOutcome {
    const known = this.executed.get(toHex(blockHash));
    if (known !== undefined) return { ok: true, value: known.executed };
    const parent = this.parentLink(block.header.parentHash);
    if (parent === undefined) {
      return { ok: false, error: { code: 'unknown-parent', message: `parent of block ${block.header.height} is not executed here` } };
    }
    const links = checkHeaderLinks(block.header, parent, this.ctx.chainId);
    if (!links.ok) return links;
    // A certified block (catch-up) needs no tx-by-tx signature checks: 2f+1 validators
    // checked them before signing its certificate.
    const ctx = trustTxs ? { ...this.ctx, alreadyVerified: () => true } : this.ctx;
    const result = executeBlock(parent.state, block, ctx);
    if (result.ok) this.executed.set(toHex(blockHash), { block, hash: blockHash, executed: result.value });
    return result;
  }

  /** Builds a proposal from candidate txs on top of `parentHash`; null if the parent is unknown or nothing fits. */
  build(
    parentHash: Hash,
    candidates: (parent: LedgerState) => Iterable<Tx>,
    fields: { height: number; view: number; proposer: number; timestamp: number },
  ): { block: Block; hash: Hash; rejected: readonly { tx: Tx; hash?: Hash }[] } | null {
    const parent = this.parentLink(parentHash);
    if (parent === undefined) return null;
    const built = buildBlock(
      parent.state,
      candidates(parent.state),
      { chainId: this.ctx.chainId, parentHash, height: fields.height, view: fields.view, proposer: fields.proposer, timestamp: Math.max(fields.timestamp, parent.timestamp) },
      this.ctx,
    );
    const rejected = built.rejected.map((r) => (r.txHash === undefined ? { tx: r.tx } : { tx: r.tx, hash: r.txHash }));
    if (built.block.txs.length === 0) return { block: built.block, hash: this.hashHeader(built.block.header), rejected };
    const hash = this.hashHeader(built.block.header);
    this.executed.set(toHex(hash), { block: built.block, hash, executed: built.executed });
    return { block: built.block, hash, rejected };
  }

  /** Hashes of txs in executed-but-uncommitted blocks on the path to `blockHash`. */
  inFlightTxs(blockHash: Hash): Set<string> {
    const out = new Set<string>();
    let hex = toHex(blockHash);
    for (let guard = 0; hex !== this.tip.hashHex && guard < 1024; guard++) {
      const entry = this.executed.get(hex);
      if (entry === undefined) break;
      for (const tx of entry.block.txs) out.add(toHex(hashTx(tx)));
      hex = toHex(entry.block.header.parentHash);
    }
    return out;
  }

  /**
   * Moves the committed tip to `block` and returns its execution (executing it now if it
   * was never executed here, e.g. a block fetched by catch-up). Forgets every executed
   * block at or below the new height.
   */
  commit(block: Block, blockHash: Hash, certified: boolean): ExecuteOutcome {
    const result = this.execute(block, blockHash, certified);
    if (!result.ok) return result;
    const h = block.header;
    this.tip = { height: h.height, hash: blockHash, hashHex: toHex(blockHash), timestamp: h.timestamp, state: result.value.state };
    for (const [hex, entry] of this.executed) if (entry.block.header.height <= h.height) this.executed.delete(hex);
    return result;
  }

  get size(): number {
    return this.executed.size;
  }
}
