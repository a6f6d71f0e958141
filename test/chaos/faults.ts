/**
 * The faults a chaos run injects, drawn from the run's seeded PRNG, and how each is carried
 * out on real processes and the proxy.
 *
 * With n = 4 validators, f = 1: the network stays live only while at most one validator is
 * faulty. So faults come one at a time, each on one node, and the next starts only after
 * the network has recovered from the last (it committed again and the node caught up).
 * When one validator runs Byzantine, it IS the faulty one: every fault then targets it,
 * and honest validators are never touched.
 *
 * One fault breaks the one-at-a-time rule on purpose: restart-all stops every validator
 * and starts them again (the network cannot be live meanwhile; it must resume after).
 * `wipe` restarts one node with its store and WAL deleted: it must sync from its peers.
 * Having forgotten its votes, it may contradict them: for that moment it is the one
 * faulty node.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Prng } from '../sim/prng.js';
import type { LoadGenerator } from './load.js';
import type { ChaosNetwork } from './network.js';
import { sleep } from './network.js';

export const FAULT_KINDS = [
  'kill',
  'kill-primary',
  'kill-under-load',
  'pause',
  'pause-primary',
  'restart',
  'partition',
  'partition-primary',
  'slow-links',
  'lossy-links',
  'kill-twice',
  'wipe',
  'restart-all',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export function isFaultKind(s: string): s is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(s);
}

export interface Fault {
  readonly kind: FaultKind;
  /** A validator index, or 'primary': whoever leads the view when the fault starts. */
  readonly target: number | 'primary';
  /** How long the fault lasts (a node's downtime, a pause, a partition). */
  readonly durationMs: number;
  /** Quiet time after recovery before the next fault. */
  readonly gapMs: number;
  /** slow-links: the delay in ms; lossy-links: the drop rate. */
  readonly param: number;
}

const WEIGHTS: Readonly<Record<FaultKind, number>> = {
  kill: 3,
  'kill-primary': 3,
  'kill-under-load': 2,
  pause: 2,
  'pause-primary': 2,
  restart: 2,
  partition: 2,
  'partition-primary': 2,
  'slow-links': 1,
  'lossy-links': 1,
  'kill-twice': 1,
  wipe: 1,
  'restart-all': 1,
};

function durationFor(kind: FaultKind, prng: Prng): number {
  switch (kind) {
    case 'kill':
    case 'kill-primary':
    case 'kill-under-load':
    case 'kill-twice':
    case 'wipe':
      return prng.range(500, 6_000);
    case 'restart-all':
      return prng.range(0, 3_000);
    case 'restart':
      return prng.range(0, 2_000);
    case 'pause':
    case 'pause-primary':
      return prng.range(1_000, 8_000);
    case 'partition':
    case 'partition-primary':
      return prng.range(2_000, 12_000);
    case 'slow-links':
    case 'lossy-links':
      return prng.range(3_000, 10_000);
  }
}

/** Draws one fault. With a Byzantine validator, it is the only target (and the network is never restarted as a whole). */
export function drawFault(prng: Prng, n: number, byzantine: number | undefined, kind?: FaultKind): Fault {
  const kinds = FAULT_KINDS.filter((k) => WEIGHTS[k] > 0 && (byzantine === undefined || k !== 'restart-all'));
  const chosen = kind ?? weightedPick(prng, kinds, (k) => WEIGHTS[k]);
  const primary = chosen.endsWith('-primary');
  const target: number | 'primary' = byzantine !== undefined ? byzantine : primary ? 'primary' : prng.int(n);
  const param = chosen === 'slow-links' ? prng.range(50, 400) : chosen === 'lossy-links' ? prng.range(1, 5) / 100 : 0;
  return { kind: chosen, target, durationMs: durationFor(chosen, prng), gapMs: prng.range(1_000, 4_000), param };
}

function weightedPick<T>(prng: Prng, items: readonly T[], weight: (item: T) => number): T {
  const total = items.reduce((s, i) => s + weight(i), 0);
  let x = prng.float() * total;
  for (const item of items) {
    x -= weight(item);
    if (x < 0) return item;
  }
  return items[items.length - 1] as T;
}

export function describeFault(f: Fault, target: number): string {
  if (f.kind === 'restart-all') return `restart-all (every validator, SIGTERM then start) after ${f.durationMs}ms`;
  const extra = f.kind === 'slow-links' ? ` delay=${f.param}ms` : f.kind === 'lossy-links' ? ` drop=${f.param}` : '';
  return `${f.kind} node${target}${f.target === 'primary' ? ' (primary)' : ''} for ${f.durationMs}ms${extra}`;
}

export interface FaultContext {
  readonly network: ChaosNetwork;
  readonly load: LoadGenerator;
  /** The primary as the honest nodes see it now (undefined when none answers). */
  primary(): Promise<number | undefined>;
}

/** Carries out `fault` from start to end; returns the node it hit. */
export async function runFault(fault: Fault, ctx: FaultContext): Promise<number> {
  const { network, load } = ctx;
  const target = fault.target === 'primary' ? ((await ctx.primary()) ?? 0) : fault.target;
  const others = Array.from({ length: network.n }, (_, i) => i).filter((i) => i !== target);
  network.note(target, `fault begins: ${describeFault(fault, target)}`);
  switch (fault.kind) {
    case 'kill':
    case 'kill-primary':
      await network.kill(target);
      await sleep(fault.durationMs);
      await network.start(target);
      break;
    case 'kill-under-load': {
      // Commits are most likely in flight when the load peaks: kill in the middle of it.
      load.setRate(load.baseRate * 3);
      await sleep(1_500);
      await network.kill(target);
      await sleep(500);
      load.setRate(load.baseRate);
      await sleep(fault.durationMs);
      await network.start(target);
      break;
    }
    case 'kill-twice':
      // The second kill lands while the node is still catching up.
      await network.kill(target);
      await sleep(fault.durationMs);
      await network.start(target);
      await sleep(500);
      await network.kill(target);
      await sleep(500);
      await network.start(target);
      break;
    case 'wipe':
      await network.kill(target);
      await rm(join(network.home(target), 'data'), { recursive: true, force: true });
      await rm(join(network.home(target), 'wal'), { recursive: true, force: true });
      network.note(target, 'store and WAL deleted');
      await sleep(fault.durationMs);
      await network.start(target);
      break;
    case 'restart-all': {
      const all = Array.from({ length: network.n }, (_, i) => i);
      const stopped = await Promise.all(all.map((i) => network.stop(i)));
      stopped.forEach((clean, i) => {
        if (!clean) network.note(i, 'graceful stop did not exit 0');
      });
      await sleep(fault.durationMs);
      await Promise.all(all.map((i) => network.start(i)));
      break;
    }
    case 'restart':
      if (!(await network.stop(target))) network.note(target, 'graceful stop did not exit 0');
      await sleep(fault.durationMs);
      await network.start(target);
      break;
    case 'pause':
    case 'pause-primary':
      network.pause(target);
      await sleep(fault.durationMs);
      network.resume(target);
      break;
    case 'partition':
    case 'partition-primary':
      network.proxy.isolate(target, others);
      await sleep(fault.durationMs);
      for (const o of others) network.proxy.heal(target, o);
      break;
    case 'slow-links':
      for (const o of others) {
        network.proxy.delay(target, o, fault.param, fault.param / 2);
        network.proxy.delay(o, target, fault.param, fault.param / 2);
      }
      await sleep(fault.durationMs);
      for (const o of others) network.proxy.heal(target, o);
      break;
    case 'lossy-links':
      for (const o of others) {
        network.proxy.drop(target, o, fault.param);
        network.proxy.drop(o, target, fault.param);
      }
      await sleep(fault.durationMs);
      for (const o of others) network.proxy.heal(target, o);
      break;
  }
  network.note(target, `fault ends: ${fault.kind}`);
  return target;
}
