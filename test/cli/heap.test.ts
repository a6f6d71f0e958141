import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, tuneHeap } from '../../src/cli/heap.js';

function run(execArgv: string[], nodeOptions: string): string[] {
  const set: string[] = [];
  tuneHeap({ execArgv, nodeOptions, setFlags: (flags) => set.push(flags) });
  return set;
}

describe('tuneHeap (ledger-node startup)', () => {
  it('caps the old-space growth factor when nobody chose one', () => {
    expect(run([], '')).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(run(['--cpu-prof'], '--max-old-space-size=4096  --trace-warnings')).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });

  it("leaves an operator's own choice alone, in node's flags or NODE_OPTIONS, in either spelling", () => {
    expect(run(['--heap-growing-percent=20'], '')).toEqual([]);
    expect(run([], '--max-old-space-size=4096 --heap_growing_percent=0')).toEqual([]);
    expect(run([], ' --heap-growing-percent')).toEqual([]);
  });

  it('is not fooled by a flag that merely starts the same way', () => {
    expect(run(['--heap-growing-percentage=1'], '')).toHaveLength(1);
  });
});
