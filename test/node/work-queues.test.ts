/**
 * The two queues that keep signature checks off the network's read path: gossip admission
 * (GossipIntake) and proposals waiting for their checks (ExecutionQueue). Both work in
 * bounded slices, each its own macrotask; the tests drive them with a fake clock that
 * advances with every unit of work, so "a slice" is exact.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Block, Tx } from '../../src/codec/types.js';
import { ExecutionQueue, type ExecutionJob } from '../../src/node/execution-queue.js';
import { GossipIntake } from '../../src/node/gossip-intake.js';

/** A clock that advances only when the test says work was done. */
function fakeClock(): { now: () => number; tick: (ms: number) => void } {
  let t = 0;
  return { now: () => t, tick: (ms) => void (t += ms) };
}

async function settle(macrotasks = 50): Promise<void> {
  for (let i = 0; i < macrotasks; i++) await nextMacrotask();
}

describe('GossipIntake', () => {
  it('admits nothing on the read path, then everything in order, in slices of bounded time', async () => {
    const clock = fakeClock();
    const admitted: number[] = [];
    const intake = new GossipIntake({
      admit: (from, bytes) => {
        admitted.push((bytes[0] as number) + 256 * from);
        clock.tick(1); // each admission costs 1 ms
      },
      maxQueued: 100,
      maxQueuedBytes: 1 << 20,
      sliceMs: 4,
      now: clock.now,
    });
    for (let i = 0; i < 10; i++) expect(intake.offer(1, Uint8Array.of(i))).toBe(true);
    expect(admitted).toEqual([]);
    expect(intake.queued).toBe(10);
    const afterEachMacrotask: number[] = [];
    for (let i = 0; i < 4; i++) {
      await nextMacrotask();
      afterEachMacrotask.push(admitted.length);
    }
    expect(afterEachMacrotask).toEqual([4, 8, 10, 10]);
    expect(admitted).toEqual(Array.from({ length: 10 }, (_, i) => 256 + i));
    expect(intake.queued).toBe(0);
  });

  it('drops frames beyond its bounds, in frames and in bytes, and counts them', () => {
    const intake = new GossipIntake({ admit: () => {}, maxQueued: 2, maxQueuedBytes: 10, sliceMs: 4 });
    expect(intake.offer(0, new Uint8Array(4))).toBe(true);
    expect(intake.offer(0, new Uint8Array(7))).toBe(false); // 11 bytes
    expect(intake.offer(0, new Uint8Array(6))).toBe(true);
    expect(intake.offer(0, new Uint8Array(1))).toBe(false); // 3 frames
    expect(intake.queued).toBe(2);
    expect(intake.dropped).toBe(2);
    intake.stop();
  });

  it('waits while more urgent work is queued, and resumes after', async () => {
    let urgent = true;
    const admitted: number[] = [];
    const intake = new GossipIntake({ admit: (_, b) => void admitted.push(b[0] as number), maxQueued: 10, maxQueuedBytes: 100, sliceMs: 4, yieldTo: () => urgent });
    intake.offer(0, Uint8Array.of(7));
    await settle(5);
    expect(admitted).toEqual([]);
    urgent = false;
    await settle(5);
    expect(admitted).toEqual([7]);
  });

  it('skips a frame whose admission throws, reports it, and admits nothing once stopped', async () => {
    const admitted: number[] = [];
    const errors: unknown[] = [];
    const intake = new GossipIntake({
      admit: (_, b) => {
        if (b[0] === 1) throw new Error('boom');
        admitted.push(b[0] as number);
      },
      onError: (err) => void errors.push(err),
      maxQueued: 10,
      maxQueuedBytes: 100,
      sliceMs: 4,
    });
    intake.offer(0, Uint8Array.of(1));
    intake.offer(0, Uint8Array.of(2));
    await settle(5);
    expect(admitted).toEqual([2]);
    expect(errors).toHaveLength(1);
    intake.stop();
    expect(intake.offer(0, Uint8Array.of(3))).toBe(false);
  });
});

/** A block whose txs are stand-ins: only identity matters to the queue. */
function job(height: number, txCount: number): ExecutionJob {
  const txs = Array.from({ length: txCount }, (_, i) => ({ nonce: BigInt(height * 1000 + i) }) as unknown as Tx);
  return { height, block: { txs } as unknown as Block, blockHash: Uint8Array.of(height) };
}

function executionQueue(options: { verified?: Set<Tx>; bad?: Set<Tx>; sliceMs?: number; inlineChecks?: number } = {}) {
  const clock = fakeClock();
  const committed = { height: 0 };
  const verified = options.verified ?? new Set<Tx>();
  const checks: Tx[] = [];
  const executed: number[] = [];
  const queue = new ExecutionQueue({
    isVerified: (tx) => verified.has(tx),
    verify: (tx) => {
      checks.push(tx);
      clock.tick(1);
      if (options.bad?.has(tx) === true) return false;
      verified.add(tx);
      return true;
    },
    isStale: (j) => j.height <= committed.height,
    execute: (j) => void executed.push(j.height),
    sliceMs: options.sliceMs ?? 4,
    inlineChecks: options.inlineChecks ?? 2,
    now: clock.now,
  });
  return { queue, checks, executed, verified, committed };
}

describe('ExecutionQueue', () => {
  it('executes at once a proposal with few unchecked txs and nothing queued', () => {
    const q = executionQueue();
    q.queue.submit(job(1, 2));
    expect(q.executed).toEqual([1]);
    expect(q.queue.size).toBe(0);
  });

  it('checks a larger proposal in slices, then executes it; a later one waits its turn', async () => {
    const q = executionQueue();
    q.queue.submit(job(1, 10));
    q.queue.submit(job(2, 0)); // nothing to check, but its parent is queued
    expect(q.executed).toEqual([]);
    expect(q.queue.size).toBe(2);
    await nextMacrotask();
    expect(q.checks).toHaveLength(4); // one slice
    expect(q.executed).toEqual([]);
    await settle();
    expect(q.checks).toHaveLength(10);
    expect(q.executed).toEqual([1, 2]);
  });

  it('checks only txs whose verdict is unknown', async () => {
    const first = job(1, 6);
    const verified = new Set<Tx>(first.block.txs.slice(0, 5));
    const q = executionQueue({ verified });
    q.queue.submit(first);
    expect(q.executed).toEqual([1]); // one unchecked tx: executed inline, execution checks it
    expect(q.checks).toEqual([]);
    const second = job(2, 6);
    for (const tx of second.block.txs.slice(0, 3)) verified.add(tx);
    q.queue.submit(second); // three unchecked: queued, and only those three are checked
    await settle();
    expect(q.checks).toEqual(second.block.txs.slice(3));
    expect(q.executed).toEqual([1, 2]);
  });

  it('stops checking at the first bad signature: execution reports the proposal invalid', async () => {
    const bad = job(1, 8);
    const q = executionQueue({ bad: new Set([bad.block.txs[1] as Tx]) });
    q.queue.submit(bad);
    await settle();
    expect(q.checks).toHaveLength(2);
    expect(q.executed).toEqual([1]);
  });

  it('checks nothing for a proposal whose height was committed meanwhile (catch-up)', async () => {
    const q = executionQueue();
    q.queue.submit(job(1, 10));
    q.queue.submit(job(2, 10));
    q.queue.submit(job(3, 10));
    await nextMacrotask();
    expect(q.checks).toHaveLength(4); // the first slice, on height 1
    q.committed.height = 2; // catch-up commits heights 1 and 2
    q.queue.submit(job(2, 10)); // already committed: dropped on arrival
    await settle();
    expect(q.checks).toHaveLength(14); // only height 3's ten
    expect(q.executed).toEqual([3]);
    expect(q.queue.size).toBe(0);
  });

  it('executes nothing once stopped', async () => {
    const q = executionQueue();
    q.queue.submit(job(1, 10));
    q.queue.stop();
    q.queue.submit(job(2, 0));
    await settle();
    expect(q.executed).toEqual([]);
  });
});
