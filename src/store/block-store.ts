import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { blockHeaderSize, decodeBlock, decodeBlockHeader, decodeQuorumCertificate, encodeBlock, encodeQuorumCertificate } from '../codec/block.js';
import { decodeTx } from '../codec/tx.js';
import type { Block, BlockHeader, QuorumCertificate, Tx } from '../codec/types.js';
import { bytesEqual, fromHex, makeVerifier, toHex, type Hash, type PublicKey, type Verifier } from '../crypto/index.js';
import { hashBlockHeader, verifyQuorumCertificate } from '../ledger/block.js';
import { genesisHash, genesisState, type Genesis } from '../ledger/genesis.js';
import { SparseMerkleTree } from '../ledger/smt.js';
import { LedgerState } from '../ledger/state.js';
import { hashTx, senderAddress, txSize } from '../ledger/tx.js';
import { ioError, openDb, type ByteLevel, type StoreDb } from './db.js';
import { StoreError } from './errors.js';
import {
  decodeSenderEntry,
  decodeTip,
  decodeTxLocation,
  encodeTip,
  encodeTxLocation,
  encodeTxSpan,
  FORMAT_VERSION,
  META_FORMAT,
  META_GENESIS,
  META_TIP,
  readU32,
  readU64,
  u32Bytes,
  senderKey,
  u64Key,
  type SenderTxRef,
  type TipRecord,
  type TxLocation,
} from './layout.js';
import { FileWal } from './file-wal.js';

export interface BlockStoreOptions {
  /** Checks certificate signatures; defaults to makeVerifier(genesis.chainId). */
  readonly verifier?: Verifier;
  /** The LevelDB directory, absolute or relative to the node home (default "data"). */
  readonly dataDir?: string;
  /**
   * Create and initialise the store when there is none (default true). With false, a home
   * without a store is refused with 'missing' and nothing is written on open.
   */
  readonly create?: boolean;
  /** The consensus WAL directory, absolute or relative to the node home (default "wal"). */
  readonly walDir?: string;
  /**
   * fsync every block append (default true). A validator turns this off: its consensus WAL
   * already holds, synced, every block it voted to commit, so a block lost from an unsynced
   * append is still there (and certified, so peers serve it again); the node then syncs the
   * store with `syncToDisk` before it trims that WAL.
   */
  readonly sync?: boolean;
}

/** What `append` writes to the state: hex state key -> new value, or null to delete. */
export type StateWrites = ReadonlyMap<string, Uint8Array | null>;

export interface Tip {
  readonly height: number;
  /** The tip block's hash; the genesis hash while nothing is appended. */
  readonly hash: Hash;
}

export interface BlockRange {
  /** First height, inclusive (default 1). */
  readonly from?: number;
  /** Last height, inclusive (default: the tip). */
  readonly to?: number;
  /** Newest first (default false). */
  readonly reverse?: boolean;
}

export interface StoredHeader {
  readonly height: number;
  readonly header: BlockHeader;
}

export interface StoredBlock {
  readonly height: number;
  readonly block: Block;
}

interface TipState extends Tip {
  /** The state root the stored state must have: the tip header's, or genesis state's. */
  readonly stateRoot: Hash | undefined;
}

/**
 * The node's durable chain: certified blocks by height, their indexes, the current
 * application state and the consensus WAL, in one LevelDB (layout: ./layout.ts).
 *
 * Append-only: a block is added only on top of the tip, together with everything derived
 * from it, in one atomic batch; blocks, certificates and indexes are never rewritten or
 * deleted. Only the state entries change, since they are the current state by definition.
 */
/** Shared state of a store's parts, so that all refuse work once the store is closed. */
interface Lifecycle {
  closed: boolean;
}

interface PendingAppend {
  readonly block: Block;
  readonly qc: QuorumCertificate;
  readonly writes: StateWrites;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class BlockStore {
  private current: TipState;
  private readonly rows: RowKeys;
  /** Appends waiting for the next group write, in call order. */
  private readonly pending: PendingAppend[] = [];
  /** The group writer, while one runs. */
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly db: StoreDb,
    readonly genesis: Genesis,
    readonly genesisHash: Hash,
    private readonly walLog: FileWal | undefined,
    tip: TipState,
    private readonly sync: boolean,
    private readonly lifecycle: Lifecycle,
  ) {
    this.current = tip;
    this.rows = rowKeys(db);
  }

  /**
   * Opens the store of the node home `home` (its LevelDB at HOME/data unless
   * options.dataDir says otherwise). A fresh store is initialised for `genesis`; an
   * existing one must belong to it, and its tip must check out (block decodes, hash
   * index agrees, certificate verifies against the genesis validators).
   */
  static async open(home: string, genesis: Genesis, options: BlockStoreOptions = {}): Promise<BlockStore> {
    const location = resolve(home, options.dataDir ?? 'data');
    const db = await openDb({ home, location, createIfMissing: options.create ?? true });
    try {
      const expectedGenesis = genesisHash(genesis);
      let tip = await loadOrInitialise(db, genesis, expectedGenesis, location, options.create ?? true);
      if (tip.height > 0) {
        tip = await checkTip(db, genesis, expectedGenesis, tip, options.verifier ?? makeVerifier(genesis.chainId), location);
      }
      const lifecycle: Lifecycle = { closed: false };
      // The WAL lives beside the LevelDB, in HOME/wal, under the same lock. A read-only
      // open (create: false) leaves a home without one untouched.
      const walDir = resolve(home, options.walDir ?? 'wal');
      const wal = (options.create ?? true) || existsSync(walDir) ? await FileWal.open(walDir) : undefined;
      return new BlockStore(db, genesis, expectedGenesis, wal, tip, options.sync ?? true, lifecycle);
    } catch (err) {
      // Release the LevelDB lock: a refused store must not stay locked by this process.
      await db.root.close().catch(() => {});
      throw err instanceof StoreError ? err : ioError(`store ${location} cannot be opened`, err);
    }
  }

  /** The consensus WAL (see file-wal.ts). */
  get wal(): FileWal {
    if (this.walLog === undefined) throw new StoreError('missing', 'this store was opened without a consensus WAL');
    return this.walLog;
  }

  get closed(): boolean {
    return this.lifecycle.closed;
  }

  tip(): Tip {
    return { height: this.current.height, hash: this.current.hash };
  }

  /**
   * Appends the block at tip + 1 with its certificate and the state writes its execution
   * produced, in one atomic (and by default fsync'ed) batch. Refuses, without writing,
   * a block that is not next ('not-next'), does not extend the tip ('bad-parent') or
   * whose certificate is for something else ('cert-mismatch'). The certificate's
   * signatures are the caller's to check (consensus made them, catch-up verified them).
   */
  append(block: Block, qc: QuorumCertificate, writes: StateWrites): Promise<void> {
    // Refused at call time once closing has begun; an append accepted before that is
    // still written (close waits for the queue).
    if (this.lifecycle.closed) return Promise.reject(new StoreError('closed', 'the store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ block, qc, writes, resolve, reject });
      this.startFlush();
    });
  }

  private startFlush(): void {
    if (this.flushing !== undefined) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // An append may have arrived after the writer's last look at the queue.
      if (this.pending.length > 0) this.startFlush();
    });
  }

  /**
   * Group commit: every append waiting when a write starts goes into that one atomic,
   * synced batch. Under load the node commits blocks faster than one fsync each, and a
   * queue of single-block writes would make durability (and so every client's commit
   * notification) fall further behind with every block.
   */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending.splice(0);
      const batch = this.db.root.batch();
      let tip = this.current;
      const accepted: PendingAppend[] = [];
      for (const entry of group) {
        try {
          tip = this.addToBatch(batch, entry, tip);
          accepted.push(entry);
        } catch (err) {
          entry.reject(err);
        }
      }
      if (accepted.length === 0) {
        await batch.close();
        continue;
      }
      try {
        await batch.write({ sync: this.sync });
      } catch (err) {
        const failure = ioError(`blocks ${accepted[0]?.block.header.height}..${tip.height} cannot be written`, err);
        for (const entry of accepted) entry.reject(failure);
        continue;
      }
      this.current = tip;
      for (const entry of accepted) entry.resolve();
    }
  }

  /** Checks that `entry` extends `tip` and adds its rows to `batch`; returns the new tip. */
  private addToBatch(batch: ReturnType<StoreDb['root']['batch']>, entry: PendingAppend, tip: TipState): TipState {
    const { block, qc, writes } = entry;
    const { header } = block;
    if (header.height !== tip.height + 1) {
      throw new StoreError('not-next', `block ${header.height} is not next: the tip is at height ${tip.height}`);
    }
    if (!bytesEqual(header.parentHash, tip.hash)) {
      throw new StoreError(
        'bad-parent',
        `block ${header.height}: parent hash ${toHex(header.parentHash)} is not the tip's hash ${toHex(tip.hash)}`,
      );
    }
    const blockHash = hashBlockHeader(header);
    if (qc.height !== header.height || !bytesEqual(qc.blockHash, blockHash)) {
      throw new StoreError(
        'cert-mismatch',
        `block ${header.height} (${toHex(blockHash)}): the certificate is for block ${qc.height} (${toHex(qc.blockHash)})`,
      );
    }
    const heightKey = u64Key(header.height);
    const rows = this.rows;
    const blockBytes = encodeBlock(block);
    const headerBytes = blockHeaderSize(header);
    batch.put(rows.block(heightKey), blockBytes);
    // The block's encoding starts with its header's.
    batch.put(rows.header(heightKey), blockBytes.slice(0, headerBytes));
    batch.put(rows.cert(heightKey), encodeQuorumCertificate(qc));
    batch.put(rows.blockHash(blockHash), heightKey);
    // A tx hash is unique on a chain (the sender's nonce is part of it and is never
    // reused), so these index rows are new too. Txs follow the header and a u32 count.
    let offset = headerBytes + 4;
    block.txs.forEach((tx, index) => {
      const length = txSize(tx);
      batch.put(rows.tx(hashTx(tx)), encodeTxLocation(header.height, index));
      batch.put(rows.sender(senderKey(fromHex(senderAddress(tx)), header.height, index)), encodeTxSpan(offset, length));
      offset += length;
    });
    for (const [hexKey, value] of writes) {
      if (value === null) batch.del(rows.state(fromHex(hexKey)));
      else batch.put(rows.state(fromHex(hexKey)), value);
    }
    batch.put(rows.meta(META_TIP), encodeTip({ height: header.height, hash: blockHash }));
    return { height: header.height, hash: blockHash, stateRoot: header.stateRoot };
  }

  async getBlock(height: number): Promise<Block | undefined> {
    const bytes = await this.getBlockBytes(height);
    return bytes === undefined ? undefined : decodeStored('block', height, bytes, decodeBlock);
  }

  /** The block's stored encoding (what the sync protocol sends as is). */
  async getBlockBytes(height: number): Promise<Uint8Array | undefined> {
    if (!isHeight(height)) return undefined;
    return this.read(`block ${height} cannot be read`, () => this.db.block.get(u64Key(height)));
  }

  async getCertificate(height: number): Promise<QuorumCertificate | undefined> {
    const bytes = await this.getCertificateBytes(height);
    return bytes === undefined ? undefined : decodeStored('certificate', height, bytes, decodeQuorumCertificate);
  }

  async getCertificateBytes(height: number): Promise<Uint8Array | undefined> {
    if (!isHeight(height)) return undefined;
    return this.read(`certificate ${height} cannot be read`, () => this.db.cert.get(u64Key(height)));
  }

  /**
   * The stored encodings of the blocks and their certificates at heights
   * fromHeight..toHeight, in order, ending before the first height that lacks either: two
   * LevelDB reads in all, where a get per row would pay a thread-pool round trip each.
   */
  async getCertifiedBlockBytes(fromHeight: number, toHeight: number): Promise<{ block: Uint8Array; certificate: Uint8Array }[]> {
    if (!isHeight(fromHeight) || !Number.isSafeInteger(toHeight) || toHeight < fromHeight) return [];
    const keys = Array.from({ length: toHeight - fromHeight + 1 }, (_, i) => u64Key(fromHeight + i));
    const [blocks, certificates] = await this.read(`blocks ${fromHeight}..${toHeight} cannot be read`, () =>
      Promise.all([this.db.block.getMany(keys), this.db.cert.getMany(keys)]),
    );
    const out: { block: Uint8Array; certificate: Uint8Array }[] = [];
    for (let i = 0; i < keys.length; i++) {
      const block = blocks[i];
      const certificate = certificates[i];
      if (block === undefined || certificate === undefined) break;
      out.push({ block, certificate });
    }
    return out;
  }

  /** The height of the block with this hash, if stored. */
  async getHeightByHash(hash: Hash): Promise<number | undefined> {
    const value = await this.read('block hash index cannot be read', () => this.db.blockHash.get(hash));
    if (value === undefined) return undefined;
    if (value.length !== 8) throw corrupt(`block hash index entry for ${toHex(hash)} is ${value.length} bytes, not 8`);
    return readU64(value, 0);
  }

  async getBlockByHash(hash: Hash): Promise<StoredBlock | undefined> {
    const height = await this.getHeightByHash(hash);
    if (height === undefined) return undefined;
    const block = await this.getBlock(height);
    if (block === undefined) throw corrupt(`block hash index names height ${height}, which has no block`);
    return { height, block };
  }

  /** Where a committed tx is: its block height and index in the block. */
  async getTxLocation(txHash: Hash): Promise<TxLocation | undefined> {
    const value = await this.read('tx index cannot be read', () => this.db.tx.get(txHash));
    if (value === undefined) return undefined;
    const location = decodeTxLocation(value);
    if (location === undefined) throw corrupt(`tx index entry for ${toHex(txHash)} is ${value.length} bytes, not 12`);
    return location;
  }

  /** getTxLocation for many hashes in one LevelDB read, in the same order. */
  async getTxLocations(txHashes: readonly Hash[]): Promise<(TxLocation | undefined)[]> {
    if (txHashes.length === 0) return [];
    const values = await this.read('tx index cannot be read', () => this.db.tx.getMany([...txHashes]));
    return values.map((value, i) => {
      if (value === undefined) return undefined;
      const location = decodeTxLocation(value);
      if (location === undefined) throw corrupt(`tx index entry for ${toHex(txHashes[i] as Hash)} is ${value.length} bytes, not 12`);
      return location;
    });
  }

  /** A stored block's header, without reading the block. */
  async getHeader(height: number): Promise<BlockHeader | undefined> {
    if (!isHeight(height)) return undefined;
    const bytes = await this.read(`header ${height} cannot be read`, () => this.db.header.get(u64Key(height)));
    return bytes === undefined ? undefined : decodeStored('header', height, bytes, decodeBlockHeader);
  }

  /** Headers over [from, to] (clamped to what is stored), in height order or newest first. */
  async *iterateHeaders(range: BlockRange = {}): AsyncGenerator<StoredHeader> {
    this.assertOpen();
    const from = Math.max(1, range.from ?? 1);
    const to = Math.min(range.to ?? this.current.height, this.current.height);
    if (to < from) return;
    const iterator = this.db.header.iterator({ gte: u64Key(from), lte: u64Key(to), reverse: range.reverse ?? false });
    try {
      for await (const [key, bytes] of iterator) {
        const height = readU64(key, 0);
        yield { height, header: decodeStored('header', height, bytes, decodeBlockHeader) };
      }
    } catch (err) {
      throw this.failure('headers cannot be read', err);
    } finally {
      await iterator.close().catch(() => {});
    }
  }

  /**
   * The txs sent by `sender` (40 hex) in blocks [from, to] (clamped to what is stored), in
   * chain order (height, then index in the block) or newest first: the sender index.
   */
  async *iterateSenderTxs(sender: string, range: BlockRange = {}): AsyncGenerator<SenderTxRef> {
    this.assertOpen();
    const from = Math.max(1, range.from ?? 1);
    const to = Math.min(range.to ?? this.current.height, this.current.height);
    if (to < from) return;
    const address = fromHex(sender);
    const iterator = this.db.sender.iterator({
      gte: senderKey(address, from, 0),
      lte: senderKey(address, to, 0xffff_ffff),
      reverse: range.reverse ?? false,
    });
    try {
      for await (const [key, value] of iterator) {
        const ref = decodeSenderEntry(key, value);
        if (ref === undefined) throw corrupt(`sender index entry of ${key.length} + ${value.length} bytes, not 32 + 8`);
        yield ref;
      }
    } catch (err) {
      throw this.failure('sender index cannot be read', err);
    } finally {
      await iterator.close().catch(() => {});
    }
  }

  /** The txs that sender index entries point to, in the same order; each block row is read once. */
  async getTxsByRef(refs: readonly SenderTxRef[]): Promise<Tx[]> {
    const heights = [...new Set(refs.map((r) => r.height))];
    const rows = await this.read('blocks cannot be read', () => this.db.block.getMany(heights.map(u64Key)));
    const byHeight = new Map(heights.map((h, i) => [h, rows[i]]));
    return refs.map((ref) => {
      const row = byHeight.get(ref.height);
      if (row === undefined) throw corrupt(`the sender index names block ${ref.height}, which is not stored`);
      const decoded = ref.offset + ref.length <= row.length ? decodeTx(row.subarray(ref.offset, ref.offset + ref.length)) : undefined;
      if (decoded === undefined || !decoded.ok) throw corrupt(`the sender index entry for block ${ref.height} tx ${ref.index} does not point at a tx`);
      return decoded.value;
    });
  }

  /** Blocks over [from, to] (clamped to what is stored), in height order or newest first. */
  async *iterateBlocks(range: BlockRange = {}): AsyncGenerator<StoredBlock> {
    this.assertOpen();
    const from = Math.max(1, range.from ?? 1);
    const to = Math.min(range.to ?? this.current.height, this.current.height);
    if (to < from) return;
    const iterator = this.db.block.iterator({ gte: u64Key(from), lte: u64Key(to), reverse: range.reverse ?? false });
    try {
      for await (const [key, bytes] of iterator) {
        const height = readU64(key, 0);
        yield { height, block: decodeStored('block', height, bytes, decodeBlock) };
      }
    } catch (err) {
      throw this.failure('blocks cannot be read', err);
    } finally {
      await iterator.close().catch(() => {});
    }
  }

  /**
   * Rebuilds the application state from the stored entries and checks that its root is
   * the tip's state root (the genesis state's before any block).
   */
  async loadState(): Promise<LedgerState> {
    this.assertOpen();
    const tip = this.current;
    let entries: [Uint8Array, Uint8Array][];
    try {
      entries = await this.db.state.iterator().all();
    } catch (err) {
      throw this.failure('state cannot be read', err);
    }
    const state = LedgerState.fromTree(SparseMerkleTree.fromEntries(entries));
    const expected = tip.stateRoot ?? genesisState(this.genesis).root;
    if (!bytesEqual(state.root, expected)) {
      throw corrupt(
        `stored state (${entries.length} entries) has root ${toHex(state.root)}, ` +
          `but block ${tip.height} says ${toHex(expected)}`,
      );
    }
    return state;
  }

  /**
   * Refuses further calls, lets the appends already accepted finish, then closes the
   * LevelDB (releasing its lock). Idempotent.
   */
  /**
   * Makes every append so far durable: waits for the queued appends, then writes the tip
   * row again with a synced write (a synced LevelDB write makes all earlier writes durable
   * too). Resolves with the height now on disk.
   */
  async syncToDisk(): Promise<number> {
    this.assertOpen();
    return this.syncTip();
  }

  private async syncTip(): Promise<number> {
    while (this.flushing !== undefined) await this.flushing;
    const tip = this.current;
    // The write takes the group writer's place, so no append's batch (and its newer tip)
    // can land while it is in flight: LevelDB may apply concurrent writes in either order.
    const batch = this.db.root.batch();
    batch.put(META_TIP, encodeTip({ height: tip.height, hash: tip.hash }), { sublevel: this.db.meta });
    const write = batch.write({ sync: true });
    this.flushing = write.then(
      () => {},
      () => {},
    );
    void this.flushing.finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.startFlush();
    });
    try {
      await write;
    } catch (err) {
      throw ioError(`the store cannot be synced at height ${tip.height}`, err);
    }
    return tip.height;
  }

  async close(): Promise<void> {
    if (this.lifecycle.closed) return;
    this.lifecycle.closed = true;
    try {
      // Appends accepted before this are still written (and, unsynced ones, synced now).
      if (this.sync) while (this.flushing !== undefined) await this.flushing;
      else await this.syncTip().catch(() => {}); // a failed sync must not keep the store locked
      await this.walLog?.close();
      await this.db.root.close();
    } catch (err) {
      throw ioError('store cannot be closed', err);
    }
  }

  private assertOpen(): void {
    if (this.lifecycle.closed) throw new StoreError('closed', 'the store is closed');
  }

  private async read<T>(what: string, get: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await get();
    } catch (err) {
      throw this.failure(what, err);
    }
  }

  private failure(what: string, err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    if (this.lifecycle.closed) return new StoreError('closed', 'the store is closed', { cause: err });
    return ioError(what, err);
  }
}

function isHeight(height: number): boolean {
  return Number.isSafeInteger(height) && height >= 1;
}

function corrupt(message: string): StoreError {
  return new StoreError('corrupt', message);
}

function decodeStored<T>(
  what: string,
  height: number,
  bytes: Uint8Array,
  decode: (bytes: Uint8Array) => { ok: true; value: T } | { ok: false; error: { message: string } },
): T {
  const decoded = decode(bytes);
  if (!decoded.ok) throw corrupt(`stored ${what} ${height} does not decode: ${decoded.error.message}`);
  return decoded.value;
}

/** Reads the tip record, or initialises an empty store for `genesis`. */
async function loadOrInitialise(
  db: StoreDb,
  genesis: Genesis,
  expectedGenesis: Hash,
  location: string,
  create: boolean,
): Promise<TipState> {
  const [format, storedGenesis, tipBytes] = await db.meta.getMany([META_FORMAT, META_GENESIS, META_TIP]);
  if (storedGenesis === undefined) {
    const anything = await db.root.keys({ limit: 1 }).all();
    if (anything.length > 0) throw corrupt(`store ${location} has data but no genesis hash`);
    if (!create) throw new StoreError('missing', `store ${location} is empty (it was never initialised)`);
    return initialise(db, genesis, expectedGenesis);
  }
  if (!bytesEqual(storedGenesis, expectedGenesis)) {
    throw new StoreError(
      'foreign-chain',
      `store ${location} belongs to the chain with genesis hash ${toHex(storedGenesis)}, ` +
        `but the genesis given has hash ${toHex(expectedGenesis)}`,
    );
  }
  if (format === undefined || format.length !== 4 || readU32(format, 0) !== FORMAT_VERSION) {
    const found = format === undefined || format.length !== 4 ? 'none' : String(readU32(format, 0));
    throw corrupt(`store ${location} has format version ${found}; this node reads version ${FORMAT_VERSION}`);
  }
  const tip = tipBytes === undefined ? undefined : decodeTip(tipBytes);
  if (tip === undefined) throw corrupt(`store ${location}: the tip record is missing or malformed`);
  if (tip.height === 0) {
    if (!bytesEqual(tip.hash, expectedGenesis)) throw corrupt(`store ${location}: the tip at height 0 is not the genesis hash`);
  }
  // The state root is filled in by checkTip (from the tip header) or, at height 0, lazily.
  return { ...tip, stateRoot: undefined };
}

/** Writes the format, the genesis hash, the genesis state and tip 0 in one batch. */
async function initialise(db: StoreDb, genesis: Genesis, expectedGenesis: Hash): Promise<TipState> {
  const batch = db.root.batch();
  batch.put(META_FORMAT, u32Bytes(FORMAT_VERSION), { sublevel: db.meta });
  batch.put(META_GENESIS, expectedGenesis, { sublevel: db.meta });
  const state = genesisState(genesis);
  for (const [key, value] of state.tree.entries()) batch.put(key, value, { sublevel: db.state });
  batch.put(META_TIP, encodeTip({ height: 0, hash: expectedGenesis }), { sublevel: db.meta });
  await batch.write({ sync: true });
  return { height: 0, hash: expectedGenesis, stateRoot: state.root };
}

/**
 * Checks the tip before anything is built on it: its block decodes and hashes to the tip
 * record, the hash index agrees, it links to the block below (or genesis), nothing is
 * stored above it, and its certificate verifies against the genesis validators.
 * Fills in the tip's state root.
 */
async function checkTip(
  db: StoreDb,
  genesis: Genesis,
  expectedGenesis: Hash,
  tip: TipState,
  verifier: Verifier,
  location: string,
): Promise<TipState> {
  const where = `store ${location}: tip block ${tip.height}`;
  const key = u64Key(tip.height);
  const [blockBytes, certBytes] = await Promise.all([db.block.get(key), db.cert.get(key)]);
  if (blockBytes === undefined) throw corrupt(`${where} is missing`);
  const block = decodeBlock(blockBytes);
  if (!block.ok) throw corrupt(`${where} does not decode: ${block.error.message}`);
  const { header } = block.value;
  if (header.height !== tip.height) throw corrupt(`${where} has height ${header.height} in its header`);
  const hash = hashBlockHeader(header);
  if (!bytesEqual(hash, tip.hash)) {
    throw corrupt(`${where} hashes to ${toHex(hash)}, but the tip record says ${toHex(tip.hash)}`);
  }
  const indexed = await db.blockHash.get(hash);
  if (indexed === undefined || indexed.length !== 8 || readU64(indexed, 0) !== tip.height) {
    throw corrupt(`${where}: the block hash index does not map ${toHex(hash)} to height ${tip.height}`);
  }
  if (tip.height === 1) {
    if (!bytesEqual(header.parentHash, expectedGenesis)) throw corrupt(`${where}: parent hash is not the genesis hash`);
  } else {
    const parent = await db.blockHash.get(header.parentHash);
    if (parent === undefined || parent.length !== 8 || readU64(parent, 0) !== tip.height - 1) {
      throw corrupt(`${where}: parent hash ${toHex(header.parentHash)} is not block ${tip.height - 1}`);
    }
  }
  if ((await db.block.get(u64Key(tip.height + 1))) !== undefined) {
    throw corrupt(`store ${location}: a block is stored at height ${tip.height + 1}, above the tip ${tip.height}`);
  }
  if (certBytes === undefined) throw corrupt(`${where}: its certificate is missing`);
  const qc = decodeQuorumCertificate(certBytes);
  if (!qc.ok) throw corrupt(`${where}: its certificate does not decode: ${qc.error.message}`);
  const validators: PublicKey[] = genesis.validators.map((v) => v.publicKey);
  const verified = verifyQuorumCertificate(qc.value, validators, verifier, { height: tip.height, blockHash: hash });
  if (!verified.ok) throw corrupt(`${where}: its certificate does not verify: ${verified.error.message}`);
  return { height: tip.height, hash, stateRoot: header.stateRoot };
}

type RowKey = (key: Uint8Array) => Uint8Array;
type RowKeys = Record<Exclude<keyof StoreDb, 'root'>, RowKey>;

/**
 * Root-level keys for each sublevel's rows. Appends write through the root db with the
 * sublevel prefix already in place: abstract-level's per-op work for a sublevel put
 * (option spreads, encoder lookups, prefixing a descendant key) cost ~4.5 µs a row,
 * 17% of a catching-up node's CPU. The rows are the same bytes; reads still go through
 * the sublevels.
 */
function rowKeys(db: StoreDb): RowKeys {
  const forSublevel = (sublevel: ByteLevel): RowKey => {
    const prefix = new TextEncoder().encode(sublevel.prefix);
    return (key) => {
      const out = new Uint8Array(prefix.length + key.length);
      out.set(prefix);
      out.set(key, prefix.length);
      return out;
    };
  };
  return {
    meta: forSublevel(db.meta),
    block: forSublevel(db.block),
    cert: forSublevel(db.cert),
    blockHash: forSublevel(db.blockHash),
    tx: forSublevel(db.tx),
    state: forSublevel(db.state),
    header: forSublevel(db.header),
    sender: forSublevel(db.sender),
  };
}
