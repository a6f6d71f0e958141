/**
 * The daemon's one garbage-collector setting.
 *
 * After each full collection V8 lets the old space grow to a multiple of what survived
 * before it collects again, and picks that multiple itself: up to 4x when collecting is
 * cheap next to the work done, which for a node is most of the time. A node's live heap
 * is small (about 40 MB under full load), but its mid-lived garbage (txs waiting in the
 * mempool, proposals and votes kept until a checkpoint) is promoted and piles up to that
 * multiple: RSS swung between 130 and 270 MB in a 1,000,000-tx soak. Capping the growth
 * at 1.5x bounds the swing at no CPU cost we could measure (figures in the commit).
 *
 * The heap's size limit is left alone: a large state needs a large heap.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 50;

export interface HeapTuningContext {
  readonly execArgv: readonly string[];
  /** NODE_OPTIONS, as node parses it: flags separated by whitespace. */
  readonly nodeOptions: string;
  readonly setFlags: (flags: string) => void;
}

/**
 * Applies the setting unless the operator chose one (in node's own flags or NODE_OPTIONS).
 */
export function tuneHeap(context: HeapTuningContext = { execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS ?? '', setFlags: setFlagsFromString }): void {
  const flags = [...context.execArgv, ...context.nodeOptions.split(/\s+/)];
  if (flags.some((flag) => /^--heap[-_]growing[-_]percent(=|$)/.test(flag))) return;
  // V8 reads this flag at every full collection, so setting it after start takes effect.
  context.setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
