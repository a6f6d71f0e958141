/**
 * Builds a small certified chain for store and CLI tests: blocks made by the ledger's
 * buildBlock from real signed transfers, each with real commit signatures.
 */
import type { Block, QuorumCertificate } from '../../src/codec/types.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { buildBlock, type ParentLink } from '../../src/ledger/execute.js';
import type { StateWrites } from '../../src/ledger/overlay.js';
import type { LedgerState } from '../../src/ledger/state.js';
import type { Testnet } from '../helpers/fixtures.js';

export interface CertifiedBlock {
  readonly block: Block;
  readonly qc: QuorumCertificate;
  readonly writes: StateWrites;
  readonly state: LedgerState;
}

/**
 * `count` blocks after genesis with `txsPerBlock` transfers each: account i sends to
 * account i+1 (mod the funded accounts), so nonces advance and balances move.
 */
export function buildChain(net: Testnet, count: number, txsPerBlock: number): CertifiedBlock[] {
  const funded = net.accountKeys.length;
  const nonces = new Array<bigint>(funded).fill(0n);
  let state = net.state();
  let parent: ParentLink = net.genesisLink;
  const out: CertifiedBlock[] = [];
  for (let b = 0; b < count; b++) {
    const txs = Array.from({ length: txsPerBlock }, (_, t) => {
      const from = (b * txsPerBlock + t) % funded;
      const nonce = nonces[from] ?? 0n;
      nonces[from] = nonce + 1n;
      return net.signTransfer(from, (from + 1) % funded, BigInt(1 + t), nonce);
    });
    const built = buildBlock(state, txs, net.blockFields(parent), net.ctx);
    if (built.rejected.length > 0) throw new Error(`buildChain: ${built.rejected[0]?.error.message}`);
    const { block } = built;
    out.push({ block, qc: net.certify(block.header), writes: built.executed.writes, state: built.executed.state });
    state = built.executed.state;
    parent = { height: block.header.height, hash: hashBlockHeader(block.header), timestamp: block.header.timestamp };
  }
  return out;
}
