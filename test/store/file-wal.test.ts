import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/crypto/index.js';
import { FileWal } from '../../src/store/file-wal.js';
import { StoreError } from '../../src/store/errors.js';

let dir: string;

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'ledger-wal-')), 'wal');
});

afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

const texts = async (wal: FileWal): Promise<string[]> => (await wal.readAll()).map((e) => Buffer.from(e.bytes).toString());

async function onlySegment(): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
  expect(names).toHaveLength(1);
  return join(dir, names[0] as string);
}

describe('FileWal', () => {
  it('appends under consecutive sequence numbers and replays them after reopening', async () => {
    const wal = await FileWal.open(dir);
    expect(await wal.append([utf8('a'), utf8('b')])).toBe(0);
    expect(await wal.append([utf8('c')])).toBe(2);
    expect(await wal.append([])).toBe(3);
    await wal.close();
    const again = await FileWal.open(dir);
    expect((await again.readAll()).map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(await texts(again)).toEqual(['a', 'b', 'c']);
    expect(again.nextSequence).toBe(3);
    await again.close();
  });

  it('cuts off a torn record at the end of the log (it was never acknowledged)', async () => {
    const wal = await FileWal.open(dir);
    await wal.append([utf8('kept')]);
    await wal.close();
    const path = await onlySegment();
    const good = (await stat(path)).size;
    await appendFile(path, Buffer.from([0, 0, 0, 9, 1, 2, 3])); // a header cut short
    const again = await FileWal.open(dir);
    expect(await texts(again)).toEqual(['kept']);
    expect((await stat(path)).size).toBe(good);
    expect(await again.append([utf8('next')])).toBe(1);
    expect(await texts(again)).toEqual(['kept', 'next']);
    await again.close();
  });

  it('cuts off a last record whose checksum fails', async () => {
    const wal = await FileWal.open(dir);
    await wal.append([utf8('one'), utf8('two')]);
    await wal.close();
    const path = await onlySegment();
    const bytes = await readFile(path);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    await writeFile(path, bytes);
    const again = await FileWal.open(dir);
    expect(await texts(again)).toEqual(['one']);
    await again.close();
  });

  it('refuses to open when a segment that is not the last is corrupt', async () => {
    const wal = await FileWal.open(dir);
    await wal.append([utf8('old')]);
    await wal.truncateBelow(1); // rotates: the old segment is gone, a new one starts at 1
    await wal.append([utf8('x'), utf8('y')]);
    await wal.close();
    // Forge a second, later segment so the first one is no longer last, then corrupt the first.
    const [first] = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
    await writeFile(join(dir, '0000000000000099.wal'), new Uint8Array(0));
    const path = join(dir, first as string);
    const bytes = await readFile(path);
    bytes[20] = (bytes[20] as number) ^ 0xff;
    await writeFile(path, bytes);
    const failure = await FileWal.open(dir).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).code).toBe('corrupt');
    expect((failure as StoreError).message).toMatch(/corrupt at byte/);
  });

  it('truncates below a floor that survives reopening, and never reuses a sequence number', async () => {
    const wal = await FileWal.open(dir);
    await wal.append([utf8('0'), utf8('1'), utf8('2'), utf8('3')]);
    await wal.truncateBelow(2);
    expect(await texts(wal)).toEqual(['2', '3']);
    await wal.truncateBelow(4); // everything: the segment is deleted, a fresh one starts at 4
    expect(await wal.readAll()).toEqual([]);
    await wal.close();
    const again = await FileWal.open(dir);
    expect(again.nextSequence).toBe(4);
    expect(await again.append([utf8('4')])).toBe(4);
    expect((await again.readAll()).map((e) => e.seq)).toEqual([4]);
    expect((await readdir(dir)).filter((n) => n.endsWith('.wal'))).toEqual(['0000000000000004.wal']);
    await again.close();
  });

  it('keeps every entry at or above the floor when truncations run beside appends', async () => {
    const wal = await FileWal.open(dir);
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      pending.push(wal.append([utf8(String(i))]));
      // Truncations are not waited for, so they overlap the appends (and each other), and
      // some are issued out of order: the floor never moves back.
      if (i % 25 === 24) pending.push(wal.truncateBelow(i - 10), wal.truncateBelow(i - 20));
    }
    await Promise.all(pending);
    const expected = Array.from({ length: 200 - 189 }, (_, k) => String(189 + k));
    expect(await texts(wal)).toEqual(expected);
    await wal.close();
    const again = await FileWal.open(dir);
    expect(await texts(again)).toEqual(expected);
    expect(again.nextSequence).toBe(200);
    await again.close();
  });

  it('keeps entries appended while the open segment fills up and rotates', async () => {
    // Every entry fills a segment, so each write rotates; the second of each pair arrives
    // while the first is being written, so it holds its sequence number before the
    // segment it goes into exists.
    const wal = await FileWal.open(dir, { segmentBytes: 100 });
    const expected = Array.from({ length: 40 }, (_, i) => `entry ${i} ${'x'.repeat(100)}`);
    for (let i = 0; i < expected.length; i += 2) {
      const first = wal.append([utf8(expected[i] as string)]);
      await new Promise((r) => setImmediate(r));
      await Promise.all([first, wal.append([utf8(expected[i + 1] as string)])]);
    }
    await wal.close();
    const again = await FileWal.open(dir, { segmentBytes: 100 });
    expect(await texts(again)).toEqual(expected);
    expect(again.nextSequence).toBe(40);
    expect((await readdir(dir)).filter((n) => n.endsWith('.wal')).length).toBeGreaterThan(20);
    await again.close();
  });

  it('starts a fresh segment when the open one cannot take the next sequence number', async () => {
    // What a crash right after a truncation rotated the open segment leaves: the new segment
    // (named for entries then queued) is empty, and the floor is past its name.
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '0000000000000005.wal'), new Uint8Array(0));
    await writeFile(join(dir, 'floor'), '8\n');
    const wal = await FileWal.open(dir);
    expect(wal.nextSequence).toBe(8);
    expect(await wal.append([utf8('after the crash')])).toBe(8);
    await wal.close();
    const again = await FileWal.open(dir);
    expect(await texts(again)).toEqual(['after the crash']);
    expect(again.nextSequence).toBe(9);
    await again.close();
  });

  it('refuses work once closed', async () => {
    const wal = await FileWal.open(dir);
    await wal.close();
    await expect(wal.append([utf8('late')])).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('FileWal: damage in the middle of the last segment', () => {
  it('refuses to open instead of cutting off acknowledged records', async () => {
    const wal = await FileWal.open(dir);
    await wal.append(['a', 'b', 'c', 'd'].map((t) => utf8(t)));
    await wal.close();
    const path = await onlySegment();
    const bytes = await readFile(path);
    bytes[16 + 1 + 16] = (bytes[16 + 1 + 16] as number) ^ 0xff; // the payload of record 1 ('b')
    await writeFile(path, bytes);
    await expect(FileWal.open(dir)).rejects.toMatchObject({ code: 'corrupt' });
  });
});
