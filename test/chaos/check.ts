/**
 * The end-of-run checks, on the stopped nodes' stores: every honest chain block by block,
 * every acknowledged tx exactly once in each and where the node said it was, no tx twice,
 * and `ledgerctl verify` (which re-executes everything from genesis) on every home.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { toHex } from '../../src/crypto/index.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { parseGenesis } from '../../src/ledger/genesis.js';
import { hashTx } from '../../src/ledger/tx.js';
import { BlockStore } from '../../src/store/index.js';
import type { AckedTx } from './load.js';

export interface ChainScan {
  readonly node: number;
  readonly tipHeight: number;
  readonly tipHash: string;
  /** blockHashes[h - 1] is the hash of block h. */
  readonly blockHashes: readonly string[];
  /** Every tx hash in the chain with where it is; a hash seen twice is listed in `duplicates`. */
  readonly txs: ReadonlyMap<string, { readonly height: number; readonly index: number }>;
  readonly duplicates: readonly string[];
}

export async function scanChain(node: number, home: string): Promise<ChainScan> {
  const genesis = parseGenesis(await readFile(join(home, '..', 'genesis.json'), 'utf8'));
  if (!genesis.ok) throw new Error(`genesis of ${home}: ${genesis.error.message}`);
  const store = await BlockStore.open(home, genesis.value, { create: false });
  try {
    const tip = store.tip();
    const blockHashes: string[] = [];
    const txs = new Map<string, { height: number; index: number }>();
    const duplicates: string[] = [];
    for (let h = 1; h <= tip.height; h++) {
      const block = await store.getBlock(h);
      if (block === undefined) throw new Error(`node${node}: no block at height ${h} below its tip ${tip.height}`);
      blockHashes.push(toHex(hashBlockHeader(block.header)));
      block.txs.forEach((tx, index) => {
        const hash = toHex(hashTx(tx));
        if (txs.has(hash)) duplicates.push(hash);
        else txs.set(hash, { height: h, index });
      });
    }
    return { node, tipHeight: tip.height, tipHash: toHex(tip.hash), blockHashes, txs, duplicates };
  } finally {
    await store.close();
  }
}

export interface ChainComparison {
  readonly identical: boolean;
  /** One line per difference (empty when identical). */
  readonly differences: readonly string[];
}

/** Identical chains: the same tip, and the same block at every height. */
export function compareChains(scans: readonly ChainScan[]): ChainComparison {
  const differences: string[] = [];
  const first = scans[0];
  if (first === undefined) return { identical: true, differences };
  for (const s of scans.slice(1)) {
    const common = Math.min(first.tipHeight, s.tipHeight);
    for (let h = 1; h <= common; h++) {
      if (first.blockHashes[h - 1] !== s.blockHashes[h - 1]) {
        differences.push(`node${first.node} and node${s.node} DIVERGE at height ${h}: ${first.blockHashes[h - 1]} vs ${s.blockHashes[h - 1]}`);
        break;
      }
    }
    if (first.tipHeight !== s.tipHeight) differences.push(`node${first.node} ends at height ${first.tipHeight}, node${s.node} at ${s.tipHeight}`);
  }
  return { identical: differences.length === 0, differences };
}

export interface TxCheck {
  /** Acknowledged txs missing from at least one honest chain. */
  readonly lost: readonly string[];
  /** Txs found more than once in some honest chain. */
  readonly duplicated: readonly string[];
  /** Acknowledged txs found somewhere other than the node said. */
  readonly misplaced: readonly string[];
  /** Signed but unacknowledged txs that committed anyway (informational). */
  readonly committedUnacked: number;
}

export function checkTxs(acked: ReadonlyMap<string, AckedTx>, signed: ReadonlySet<string>, scans: readonly ChainScan[]): TxCheck {
  const lost = new Set<string>();
  const duplicated = new Set<string>();
  const misplaced = new Set<string>();
  for (const scan of scans) {
    for (const d of scan.duplicates) duplicated.add(d);
    for (const [hash, ack] of acked) {
      const at = scan.txs.get(hash);
      if (at === undefined) lost.add(hash);
      else if (at.height !== ack.height || at.index !== ack.index) misplaced.add(`${hash} acked at ${ack.height}/${ack.index} by node${ack.node}, node${scan.node} has it at ${at.height}/${at.index}`);
    }
  }
  let committedUnacked = 0;
  const first = scans[0];
  if (first !== undefined) for (const hash of signed) if (!acked.has(hash) && first.txs.has(hash)) committedUnacked++;
  return { lost: [...lost], duplicated: [...duplicated], misplaced: [...misplaced], committedUnacked };
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly output: string;
}

/** `ledgerctl verify --home HOME`, in this process. */
export async function verifyHome(home: string): Promise<VerifyResult> {
  const out: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), cwd: home };
  const code = await runLedgerctl(['verify', '--home', home], io);
  return { ok: code === 0, output: out.join('') };
}
