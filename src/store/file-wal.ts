/**
 * The consensus write-ahead log as plain append-only segment files, not LevelDB.
 *
 * Why: every vote waits for its WAL write before it leaves the node, so the WAL's sync
 * latency is on the commit path of every block. A LevelDB synced batch cost 2-6 ms here
 * under load; an fdatasync of an appended record costs ~0.2 ms. The log needs nothing
 * LevelDB offers (no keys, no reads but one replay at start), so it is a file.
 *
 * Layout: HOME/wal/ holds segments `<first seq, 16 digits>.wal` and a `floor` file. A
 * record is
 *
 *   length u32 BE | crc32 u32 BE (of seq and payload) | seq u64 BE | payload
 *
 * Segments are opened with O_DSYNC, so an append is one write that returns once the
 * records are on disk: one trip through the thread pool, not two (write, then fdatasync),
 * each of which also waited for the busy event loop to pick up its completion. Appends
 * resolve only then. On open, each segment is read to its end; a bad or short record at the end of the
 * LAST segment is a torn write that was never acknowledged (so its vote was never sent):
 * it is cut off. A bad record anywhere else means the log is corrupt, and opening fails
 * with where. Truncation records a floor (entries below it are gone for good; sequence
 * numbers are never reused) and deletes the segments wholly below it.
 *
 * Truncation never holds up an append: its syncs (the floor file, the directory) run on
 * the thread pool and beside the writer, which it waits for only to rotate the open segment.
 * Votes wait on appends, and a truncation's three syncs, in line with them and on the event
 * loop, stalled every vote for 150-750 ms now and then with four nodes on one disk.
 */
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StoreError } from './errors.js';

/** Append-only, and every write durable when it returns (data, and the size it grew to). */
const SEGMENT_FLAGS = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_DSYNC;

export interface WalEntry {
  readonly seq: number;
  readonly bytes: Uint8Array;
}

const HEADER_BYTES = 16;
/** A single vote or NEW-VIEW is far below this; anything larger is corruption. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** Start a new segment past this size (by default), so that truncation can delete whole files. */
const SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_RE = /^(\d{16})\.wal$/;

function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(16, '0')}.wal`;
}

function checksum(seq: number, payload: Uint8Array): number {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, BigInt(seq));
  return crc32(payload, crc32(head)) >>> 0;
}

interface Segment {
  readonly firstSeq: number;
  readonly path: string;
  /** The last sequence number in it, or firstSeq - 1 when empty. */
  lastSeq: number;
  bytes: number;
}

interface PendingWrite {
  readonly first: number;
  readonly entries: readonly Uint8Array[];
  readonly resolve: (first: number) => void;
  readonly reject: (err: unknown) => void;
}

export class FileWal {
  private closed = false;
  /** Appends waiting for the next group write, in sequence order. */
  private readonly waiting: PendingWrite[] = [];
  private writer: Promise<void> | undefined;
  /** Set when a write failed: the log's tail is unknown, so nothing more may be appended. */
  private failed: StoreError | undefined;
  /** The writer and segment rotation, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Truncations, one at a time, beside the writer. */
  private truncations: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly segments: Segment[],
    private handle: FileHandle,
    private nextSeq: number,
    private floor: number,
  ) {}

  /** Opens (creating if needed) the WAL in `dir`, repairing a torn tail and refusing a corrupt log. */
  static async open(dir: string, options: { readonly segmentBytes?: number } = {}): Promise<FileWal> {
    const segmentBytes = options.segmentBytes ?? SEGMENT_BYTES;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const floor = await readFloor(dir);
      const names = (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
      const segments: Segment[] = [];
      let nextSeq = floor;
      for (const [i, name] of names.entries()) {
        const firstSeq = Number((SEGMENT_RE.exec(name) as RegExpExecArray)[1]);
        const path = join(dir, name);
        const isLast = i === names.length - 1;
        const data = await readFile(path);
        const scan = scanSegment(data, firstSeq);
        if (scan.fault !== undefined) {
          // Only the last append can be torn, and nothing valid follows a torn tail. A
          // record that checks out after the fault means the damage is in the middle:
          // acknowledged votes would be lost, so refuse rather than cut.
          if (!isLast || validRecordAfter(data, scan.validBytes + 1, scan.lastSeq + 1)) {
            throw new StoreError('corrupt', `consensus WAL segment ${path} is corrupt at byte ${scan.validBytes}: ${scan.fault}`);
          }
          await truncate(path, scan.validBytes); // a torn tail: never acknowledged, never sent
        }
        segments.push({ firstSeq, path, lastSeq: scan.lastSeq, bytes: scan.validBytes });
        nextSeq = Math.max(nextSeq, firstSeq, scan.lastSeq + 1);
      }
      // Appends go on where the open segment ends, so its next record must be nextSeq. It
      // is not when the floor is past its end (say, a crash right after a truncation
      // rotated in a segment for entries that were never written): then appending to it
      // would leave a gap the next open reads as a torn tail. Start a fresh one instead;
      // the old one lies wholly below the floor and goes with the next truncation.
      const tail = segments[segments.length - 1];
      if (tail === undefined || tail.lastSeq + 1 !== nextSeq) {
        const path = join(dir, segmentName(nextSeq));
        await writeFile(path, new Uint8Array(0), { mode: 0o600 });
        await syncDirectory(dir);
        segments.push({ firstSeq: nextSeq, path, lastSeq: nextSeq - 1, bytes: 0 });
      }
      const last = segments[segments.length - 1] as Segment;
      const handle = await open(last.path, SEGMENT_FLAGS, 0o600);
      return new FileWal(dir, segmentBytes, segments, handle, nextSeq, floor);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('io', `consensus WAL ${dir} cannot be opened: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The sequence number the next appended entry will get. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  /**
   * Appends entries under consecutive sequence numbers; resolves once they are on disk.
   * Group commit: appends made while a write is in flight go to disk together in the next
   * (synced) write, so a busy replica pays one sync per batch, not per call.
   */
  append(entries: readonly Uint8Array[]): Promise<number> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    const first = this.nextSeq;
    if (entries.length === 0) return Promise.resolve(first);
    for (const e of entries) {
      if (e.length > MAX_RECORD_BYTES) return Promise.reject(new RangeError(`WAL entry of ${e.length} bytes is above ${MAX_RECORD_BYTES}`));
    }
    this.nextSeq += entries.length;
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ first, entries, resolve, reject });
      this.startWriter();
    });
  }

  private startWriter(): void {
    if (this.writer !== undefined) return;
    this.writer = this.serialize(() => this.writeWaiting()).finally(() => {
      this.writer = undefined;
      // An append may have arrived after the writer's last look at the queue.
      if (this.waiting.length > 0) this.startWriter();
    });
  }

  private async writeWaiting(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0);
      if (this.failed !== undefined) {
        for (const g of group) g.reject(this.failed);
        continue;
      }
      let size = 0;
      for (const g of group) for (const e of g.entries) size += HEADER_BYTES + e.length;
      const buffer = Buffer.allocUnsafe(size);
      let at = 0;
      for (const g of group) {
        g.entries.forEach((payload, i) => {
          const seq = g.first + i;
          buffer.writeUInt32BE(payload.length, at);
          buffer.writeUInt32BE(checksum(seq, payload), at + 4);
          buffer.writeBigUInt64BE(BigInt(seq), at + 8);
          buffer.set(payload, at + HEADER_BYTES);
          at += HEADER_BYTES + payload.length;
        });
      }
      const segment = this.segments[this.segments.length - 1] as Segment;
      try {
        for (let written = 0; written < buffer.length; ) {
          const { bytesWritten } = await this.handle.write(buffer, written, buffer.length - written);
          written += bytesWritten;
        }
      } catch (err) {
        this.failed = new StoreError('io', `consensus WAL append failed: ${(err as Error).message}`, { cause: err });
        for (const g of group) g.reject(this.failed);
        continue;
      }
      const last = group[group.length - 1] as PendingWrite;
      segment.lastSeq = last.first + last.entries.length - 1;
      segment.bytes += size;
      for (const g of group) g.resolve(g.first);
      if (segment.bytes >= this.segmentBytes) await this.rotate();
    }
  }

  /** Every entry still in the log (at or above the floor), in sequence order. */
  async readAll(): Promise<WalEntry[]> {
    const refusal = this.refusal();
    if (refusal !== undefined) throw refusal;
    return this.serialize(async () => {
      const out: WalEntry[] = [];
      for (const segment of this.segments) {
        const scan = scanSegment(await readFile(segment.path), segment.firstSeq);
        for (const entry of scan.entries) if (entry.seq >= this.floor) out.push(entry);
      }
      return out;
    });
  }

  /** Drops every entry below `seq`: records the floor durably, then deletes segments wholly below it. */
  truncateBelow(seq: number): Promise<void> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    if (!Number.isSafeInteger(seq) || seq <= this.floor) return Promise.resolve();
    const floor = Math.min(seq, this.nextSeq);
    const run = this.truncations.then(async () => {
      if (floor <= this.floor) return; // an earlier call already went further
      try {
        await writeFloor(this.dir, floor);
        this.floor = floor;
        // The open segment goes too once all of it is below the floor: start a fresh one.
        // Only this step takes the writer's turn; appends may change the open segment.
        await this.serialize(async () => {
          const current = this.segments[this.segments.length - 1] as Segment;
          if (current.lastSeq >= current.firstSeq && current.lastSeq < floor) await this.rotate();
        });
        // Segments below the open one are never written again.
        while (this.segments.length > 1 && (this.segments[0] as Segment).lastSeq < floor) {
          const dead = this.segments.shift() as Segment;
          await rm(dead.path, { force: true });
        }
        await syncDirectory(this.dir);
      } catch (err) {
        throw new StoreError('io', `consensus WAL truncation failed: ${(err as Error).message}`, { cause: err });
      }
    });
    this.truncations = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writer !== undefined) await this.writer.catch(() => {});
    await this.truncations;
    await this.queue.catch(() => {});
    await this.handle.close();
  }

  /**
   * Starts a new segment after the open one. Runs in the writer's turn, so the open
   * segment's lastSeq covers every entry written; the new one starts right after it, not
   * at nextSeq: appends made meanwhile already hold sequence numbers and wait to go into
   * the new segment, which a name past them would make unreadable.
   */
  private async rotate(): Promise<void> {
    const firstSeq = (this.segments[this.segments.length - 1] as Segment).lastSeq + 1;
    await this.handle.close();
    const path = join(this.dir, segmentName(firstSeq));
    this.handle = await open(path, SEGMENT_FLAGS, 0o600);
    await syncDirectory(this.dir);
    this.segments.push({ firstSeq, path, lastSeq: firstSeq - 1, bytes: 0 });
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }

  private refusal(): StoreError | undefined {
    if (this.closed) return new StoreError('closed', 'the store is closed');
    return this.failed;
  }
}

interface Scan {
  readonly entries: WalEntry[];
  readonly lastSeq: number;
  readonly validBytes: number;
  readonly fault?: string;
}

function scanSegment(data: Uint8Array, firstSeq: number): Scan {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const entries: WalEntry[] = [];
  let at = 0;
  let expected = firstSeq;
  const stop = (fault: string): Scan => ({ entries, lastSeq: expected - 1, validBytes: at, fault });
  while (at < data.length) {
    if (data.length - at < HEADER_BYTES) return stop('short record header');
    const length = view.getUint32(at);
    const crc = view.getUint32(at + 4);
    const seq = Number(view.getBigUint64(at + 8));
    if (length > MAX_RECORD_BYTES) return stop(`record length ${length}`);
    if (data.length - at - HEADER_BYTES < length) return stop('short record');
    if (seq !== expected) return stop(`sequence ${seq}, expected ${expected}`);
    const payload = data.slice(at + HEADER_BYTES, at + HEADER_BYTES + length);
    if (checksum(seq, payload) !== crc) return stop('checksum mismatch');
    entries.push({ seq, bytes: payload });
    expected++;
    at += HEADER_BYTES + length;
  }
  return { entries, lastSeq: expected - 1, validBytes: at };
}

/** Whether any record at or after byte `from` checks out (header, a later sequence number, checksum). */
function validRecordAfter(data: Uint8Array, from: number, minSeq: number): boolean {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = from; at + HEADER_BYTES <= data.length; at++) {
    const length = view.getUint32(at);
    if (length > MAX_RECORD_BYTES || at + HEADER_BYTES + length > data.length) continue;
    const seq = Number(view.getBigUint64(at + 8));
    if (seq < minSeq || seq > minSeq + 1_000_000) continue;
    const payload = data.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
    if (checksum(seq, payload) === view.getUint32(at + 4)) return true;
  }
  return false;
}

async function readFloor(dir: string): Promise<number> {
  try {
    const text = await readFile(join(dir, 'floor'), 'utf8');
    const n = Number(text.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new StoreError('corrupt', `consensus WAL floor file in ${dir} holds ${JSON.stringify(text.slice(0, 40))}`);
    return n;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** Replaces the floor file atomically (write, fsync, rename, fsync the directory). */
async function writeFloor(dir: string, floor: number): Promise<void> {
  const tmp = join(dir, 'floor.tmp');
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(`${floor}\n`);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(tmp, join(dir, 'floor'));
  await syncDirectory(dir);
}

/** Makes a created, renamed or deleted directory entry durable (on the thread pool). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
