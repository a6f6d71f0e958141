/**
 * The consensus WAL under crashes, with four real validators under tx load:
 *
 * - kill -9, then a torn tail on the last segment (garbage appended; a record whose write
 *   stopped half way; a whole record whose bytes did not all reach the disk): the node
 *   starts, knows it ran before (so it signs no PRE-PREPARE or PREPARE in its old view:
 *   those are not logged), rejoins, and signs nothing that conflicts with what its WAL held
 *   before — and no other validator ever records evidence of it equivocating;
 * - the record that says a node ran before outlives WAL compaction;
 * - a corrupt record in a segment that is not the last (the log rotated), or in the middle
 *   of the last one (valid records follow it, so it is no torn tail): the node refuses to
 *   start, in one line naming the file, cuts nothing, and starts again once it is repaired.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2ECluster, rpc, waitFor } from '../e2e/cluster.js';
import { STARTED_RECORD_TAG } from '../../src/codec/consensus.js';
import { conflicts, isCleanRefusal, readWal, runToExit, signedVotes, TxLoad, walRecordBytes, WAL_HEADER_BYTES, type WalSegment } from './harness.js';

type Damage = 'garbage' | 'half-written record' | 'record with unwritten pages';

/** The fields of the last "node started" line in a node's log. */
function lastStart(log: string): { ranBefore?: boolean } | undefined {
  const line = log.split('\n').filter((l) => l.includes('"node started"')).pop();
  return line === undefined ? undefined : (JSON.parse(line) as { ranBefore?: boolean });
}

function isStartedRecord(payload: Uint8Array): boolean {
  return payload.length === 1 && payload[0] === STARTED_RECORD_TAG;
}

/** Damages the end of the last segment the way an interrupted append could. */
async function tearTail(segments: readonly WalSegment[], damage: Damage): Promise<string> {
  const last = segments[segments.length - 1]!;
  const data = await readFile(last.path);
  const previous = last.records[last.records.length - 1];
  const nextSeq = (previous?.seq ?? last.firstSeq - 1) + 1;
  const payload = previous?.payload ?? new Uint8Array(200).fill(3);
  let tail: Buffer;
  switch (damage) {
    case 'garbage':
      tail = Buffer.from(Array.from({ length: 57 }, (_, i) => (i * 151 + 7) & 0xff));
      break;
    case 'half-written record': {
      const record = walRecordBytes(nextSeq, payload);
      tail = record.subarray(0, WAL_HEADER_BYTES + Math.floor(payload.length / 2));
      break;
    }
    case 'record with unwritten pages': {
      const record = walRecordBytes(nextSeq, payload);
      record.fill(0, WAL_HEADER_BYTES + Math.floor(payload.length / 3));
      tail = record;
      break;
    }
  }
  await writeFile(last.path, Buffer.concat([data, tail]));
  return last.path;
}

describe('the consensus WAL across crashes (4 real validators)', () => {
  let cluster: E2ECluster;

  beforeAll(async () => {
    cluster = await E2ECluster.create(4, { viewTimeoutMs: 800 });
    await cluster.startAll();
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  const height = async (i: number): Promise<number> => (await cluster.status(i)).latest_height;

  it('a torn tail is cut off: the node restarts, rejoins, and never signs a conflicting vote', async () => {
    const down = new Set<number>();
    const load = new TxLoad(cluster, () => [0, 1, 2, 3].filter((i) => !down.has(i)));
    try {
      const damages: Damage[] = ['garbage', 'half-written record', 'record with unwritten pages'];
      for (const [round, damage] of damages.entries()) {
        // The primary the first time (it signs the proposals), backups after.
        const view = (await cluster.status((round + 1) % 4)).view;
        const victim = (view + round) % 4;
        const witness = (victim + 1) % 4;
        await cluster.waitForHeight(witness, (await height(witness)) + 3, 30_000);
        down.add(victim);
        await cluster.kill(victim);

        const before = await readWal(cluster.home(victim));
        const votesBefore = signedVotes(before);
        expect(votesBefore.size, `node${victim} signed votes before the crash`).toBeGreaterThan(0);
        await tearTail(before, damage);

        await cluster.start(victim);
        down.delete(victim);
        expect(lastStart(cluster.logOf(victim))?.ranBefore, `node${victim} knows it ran before`).toBe(true);
        const target = (await height(witness)) + 3;
        await cluster.waitForHeight(victim, target, 60_000);

        const after = await readWal(cluster.home(victim));
        // The torn bytes are gone, and what was there before is intact.
        expect(after.every((s) => s.fault === undefined), `${damage}: the WAL is clean after restart`).toBe(true);
        const conflicting = conflicts(votesBefore, signedVotes(after));
        expect(conflicting, `${damage}: node${victim} signed conflicting votes`).toEqual([]);
      }
    } finally {
      await load.stop();
    }
    // Nobody saw anyone equivocate, and all agree on the chain.
    for (let i = 0; i < 4; i++) {
      const evidence = await rpc(cluster.rpcUrl(i), 'evidence');
      expect((evidence.result as { count: number }).count, `evidence seen by node${i}`).toBe(0);
    }
    await waitFor('agreed tips', async () => {
      const all = await Promise.all([0, 1, 2, 3].map((i) => cluster.status(i)));
      return all.every((s) => s.latest_block_hash === all[0]!.latest_block_hash) ? true : undefined;
    });
  }, 240_000);

  it('the record that says a node ran before outlives WAL compaction', async () => {
    const load = new TxLoad(cluster, () => [0, 1, 2, 3]);
    const floorOf = async (i: number): Promise<number> => Number(await readFile(join(cluster.home(i), 'wal', 'floor'), 'utf8').catch(() => '0'));
    try {
      // Load until compaction moves the WAL's floor past the started record node1 holds now.
      const original = (await readWal(cluster.home(1))).flatMap((s) => s.records).find((r) => isStartedRecord(r.payload))?.seq ?? -1;
      await waitFor('a WAL floor above the first started record', async () => ((await floorOf(1)) > original ? true : undefined), 90_000);
    } finally {
      await load.stop();
    }
    const floor = await floorOf(1);
    const live = (await readWal(cluster.home(1))).flatMap((s) => s.records).filter((r) => r.seq >= floor);
    expect(live.filter((r) => isStartedRecord(r.payload)).length, 'started records at or above the floor').toBe(1);
  }, 120_000);

  it('a corrupt record in a segment that is not the last: refused in one line naming the file; repaired, it starts', async () => {
    const victim = 3;
    const load = new TxLoad(cluster, () => [0, 1, 2]);
    try {
      await cluster.waitForHeight(0, (await height(0)) + 3, 30_000);
    } finally {
      await load.stop();
    }
    await cluster.kill(victim);
    const segments = await readWal(cluster.home(victim));
    const last = segments[segments.length - 1]!;
    expect(last.records.length, 'records to split').toBeGreaterThanOrEqual(4);

    // Rotate by hand: the first half of the records stay, the rest move to a new segment
    // named after its first sequence number, as the WAL itself names them.
    const original = await readFile(last.path);
    const split = last.records[Math.floor(last.records.length / 2)]!;
    const second = join(cluster.home(victim), 'wal', `${String(split.seq).padStart(16, '0')}.wal`);
    await writeFile(last.path, original.subarray(0, split.offset));
    await writeFile(second, original.subarray(split.offset));

    // One flipped payload byte in the middle of the older segment.
    const older = await readFile(last.path);
    const middle = last.records[Math.floor(last.records.length / 4)]!;
    older[middle.offset + WAL_HEADER_BYTES + 5]! ^= 0x40;
    await writeFile(last.path, older);
    const refused = await runToExit(cluster.home(victim));
    expect(isCleanRefusal(refused), `a clean refusal: ${refused.stderr}${refused.stdout.slice(-2000)}`).toBe(true);
    expect(refused.stderr).toContain(`consensus WAL segment ${last.path} is corrupt at byte ${middle.offset}`);

    // Repaired (the byte flipped back), the rotated log is accepted: it starts and catches up.
    older[middle.offset + WAL_HEADER_BYTES + 5]! ^= 0x40;
    await writeFile(last.path, older);
    await cluster.start(victim);
    await cluster.waitForHeight(victim, await height(0), 60_000);
  }, 120_000);

  it('a corrupt record in the middle of the last segment is corruption, not a torn tail: refused, nothing cut', async () => {
    const victim = 2;
    const load = new TxLoad(cluster, () => [0, 1, 3]);
    try {
      await cluster.waitForHeight(0, (await height(0)) + 3, 30_000);
    } finally {
      await load.stop();
    }
    await cluster.kill(victim);
    const segments = await readWal(cluster.home(victim));
    const last = segments[segments.length - 1]!;
    expect(last.records.length, 'records in the last segment').toBeGreaterThanOrEqual(4);
    const data = await readFile(last.path);
    const middle = last.records[Math.floor(last.records.length / 2)]!;
    data[middle.offset + WAL_HEADER_BYTES + 3]! ^= 0x10;
    await writeFile(last.path, data);

    const refused = await runToExit(cluster.home(victim));
    expect(isCleanRefusal(refused), `a clean refusal: ${refused.stderr}${refused.stdout.slice(-2000)}`).toBe(true);
    expect(refused.stderr).toContain(`consensus WAL segment ${last.path} is corrupt at byte ${middle.offset}`);
    // The acknowledged records after the damage are still there.
    expect((await readFile(last.path)).length).toBe(data.length);

    data[middle.offset + WAL_HEADER_BYTES + 3]! ^= 0x10;
    await writeFile(last.path, data);
    await cluster.start(victim);
    await cluster.waitForHeight(victim, await height(0), 60_000);
  }, 120_000);
});
