import { ioError, type StoreDb } from './db.js';
import { StoreError } from './errors.js';
import { META_WAL_FLOOR, readU64, u64Key } from './layout.js';

export interface WalEntry {
  readonly seq: number;
  readonly bytes: Uint8Array;
}

/** Shared by the store and its WAL so that both refuse work once the store is closed. */
export interface Lifecycle {
  closed: boolean;
}

/**
 * The consensus write-ahead log: opaque entries (the consensus core's persisted votes and
 * state) under increasing sequence numbers. A vote may leave the node only after the WAL
 * entry that records it is on disk, so `append` resolves only after a synced write.
 * Sequence numbers are never reused, also across truncation and restarts.
 */
export class ConsensusWal {
  private nextSeq: number;

  private constructor(
    private readonly db: StoreDb,
    private readonly lifecycle: Lifecycle,
    nextSeq: number,
  ) {
    this.nextSeq = nextSeq;
  }

  static async open(db: StoreDb, lifecycle: Lifecycle): Promise<ConsensusWal> {
    let next = 0;
    try {
      // Truncation records its point, so numbers stay unique even when it emptied the log.
      const floor = await db.meta.get(META_WAL_FLOOR);
      if (floor !== undefined && floor.length === 8) next = readU64(floor, 0);
      for (const key of await db.wal.keys({ reverse: true, limit: 1 }).all()) next = Math.max(next, readU64(key, 0) + 1);
    } catch (err) {
      throw ioError('consensus WAL cannot be read', err);
    }
    return new ConsensusWal(db, lifecycle, next);
  }

  /** The sequence number the next appended entry will get. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  /**
   * Appends entries under consecutive sequence numbers in one synced batch and returns the
   * first one's number. Resolves only once LevelDB has fsync'ed the write.
   */
  async append(entries: readonly Uint8Array[]): Promise<number> {
    this.assertOpen();
    const first = this.nextSeq;
    if (entries.length === 0) return first;
    // Numbers are taken before the await so that concurrent appends never share one.
    this.nextSeq += entries.length;
    try {
      await this.writeSynced((batch) => {
        entries.forEach((bytes, i) => batch.put(u64Key(first + i), bytes, { sublevel: this.db.wal }));
      });
    } catch (err) {
      throw this.failure('consensus WAL append failed', err);
    }
    return first;
  }

  /** Every entry still in the log, in sequence order. */
  async readAll(): Promise<WalEntry[]> {
    this.assertOpen();
    const out: WalEntry[] = [];
    try {
      for (const [key, bytes] of await this.db.wal.iterator().all()) out.push({ seq: readU64(key, 0), bytes });
    } catch (err) {
      throw this.failure('consensus WAL cannot be read', err);
    }
    return out;
  }

  /** Drops every entry whose sequence number is below `seq` (synced, like append). */
  async truncateBelow(seq: number): Promise<void> {
    this.assertOpen();
    if (!Number.isSafeInteger(seq) || seq <= 0) return;
    try {
      const keys = await this.db.wal.keys({ lt: u64Key(seq) }).all();
      if (keys.length === 0) return;
      const floor = Math.min(seq, this.nextSeq);
      await this.writeSynced((batch) => {
        for (const key of keys) batch.del(key, { sublevel: this.db.wal });
        batch.put(META_WAL_FLOOR, u64Key(floor), { sublevel: this.db.meta });
      });
    } catch (err) {
      throw this.failure('consensus WAL truncation failed', err);
    }
  }

  /** The sublevel's own batch() cannot take LevelDB's `sync` option; the root's chained batch can. */
  private async writeSynced(fill: (batch: ReturnType<StoreDb['root']['batch']>) => void): Promise<void> {
    const batch = this.db.root.batch();
    try {
      fill(batch);
    } catch (err) {
      await batch.close();
      throw err;
    }
    await batch.write({ sync: true });
  }

  private assertOpen(): void {
    if (this.lifecycle.closed) throw new StoreError('closed', 'the store is closed');
  }

  private failure(what: string, err: unknown): StoreError {
    if (this.lifecycle.closed) return new StoreError('closed', 'the store is closed', { cause: err });
    return ioError(what, err);
  }
}
