/**
 * An in-memory chain with the read surface of BlockStore that NodeQueries uses
 * (src/node/queries.ts QueryStore), for RPC tests that need no disk. Same contract as the
 * store: heights from 1, ranges clamped to the tip, the sender index in (height, index)
 * order. test/rpc/reads.test.ts runs the same read tests over this and a real BlockStore.
 */
import type { Block, BlockHeader, QuorumCertificate, Tx } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import type { Hash } from '../../src/crypto/hash.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { hashTx, senderAddress } from '../../src/ledger/tx.js';
import type { QueryStore } from '../../src/node/queries.js';
import type { BlockRange, SenderTxRef, StoredHeader, Tip, TxLocation } from '../../src/store/index.js';

export class MemoryStore implements QueryStore {
  private readonly blocks: { readonly block: Block; readonly qc: QuorumCertificate; readonly hash: Hash }[] = [];
  private readonly heightByHash = new Map<string, number>();
  private readonly txIndex = new Map<string, TxLocation>();
  private readonly senderIndex = new Map<string, TxLocation[]>();

  constructor(private readonly genesisHash: Hash) {}

  append(block: Block, qc: QuorumCertificate): void {
    const height = block.header.height;
    if (height !== this.blocks.length + 1) throw new Error(`MemoryStore: block ${height} is not next`);
    const hash = hashBlockHeader(block.header);
    this.blocks.push({ block, qc, hash });
    this.heightByHash.set(toHex(hash), height);
    block.txs.forEach((tx, index) => {
      this.txIndex.set(toHex(hashTx(tx)), { height, index });
      const sender = senderAddress(tx);
      const list = this.senderIndex.get(sender) ?? [];
      list.push({ height, index });
      this.senderIndex.set(sender, list);
    });
  }

  tip(): Tip {
    const top = this.blocks[this.blocks.length - 1];
    return { height: this.blocks.length, hash: top?.hash ?? this.genesisHash };
  }

  private at(height: number): (typeof this.blocks)[number] | undefined {
    return Number.isSafeInteger(height) && height >= 1 ? this.blocks[height - 1] : undefined;
  }

  private clamp(range: BlockRange): { from: number; to: number } {
    return { from: Math.max(1, range.from ?? 1), to: Math.min(range.to ?? this.blocks.length, this.blocks.length) };
  }

  async getBlock(height: number): Promise<Block | undefined> {
    return this.at(height)?.block;
  }

  async getCertificate(height: number): Promise<QuorumCertificate | undefined> {
    return this.at(height)?.qc;
  }

  async getHeader(height: number): Promise<BlockHeader | undefined> {
    return this.at(height)?.block.header;
  }

  async getHeightByHash(hash: Hash): Promise<number | undefined> {
    return this.heightByHash.get(toHex(hash));
  }

  async getTxLocation(hash: Hash): Promise<TxLocation | undefined> {
    return this.txIndex.get(toHex(hash));
  }

  async *iterateHeaders(range: BlockRange = {}): AsyncGenerator<StoredHeader> {
    const { from, to } = this.clamp(range);
    const heights = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
    if (range.reverse === true) heights.reverse();
    for (const height of heights) yield { height, header: (this.at(height) as { block: Block }).block.header };
  }

  async *iterateSenderTxs(sender: string, range: BlockRange = {}): AsyncGenerator<SenderTxRef> {
    const { from, to } = this.clamp(range);
    const list = (this.senderIndex.get(sender) ?? []).filter((l) => l.height >= from && l.height <= to);
    if (range.reverse === true) list.reverse();
    // Offsets are the LevelDB store's business; this double finds txs by (height, index).
    for (const { height, index } of list) yield { height, index, offset: 0, length: 0 };
  }

  async getTxsByRef(refs: readonly SenderTxRef[]): Promise<Tx[]> {
    return refs.map((ref) => {
      const tx = this.at(ref.height)?.block.txs[ref.index];
      if (tx === undefined) throw new Error(`MemoryStore: no tx ${ref.height}/${ref.index}`);
      return tx;
    });
  }
}
