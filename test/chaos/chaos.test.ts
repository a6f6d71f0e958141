/**
 * A short chaos run in the test suite: four real validators behind the fault proxy under
 * light signed load, with one kill -9 and restart, one partition and heal, and one
 * pause/resume, on a fixed seed. Nothing acknowledged may be lost or committed twice, the
 * honest chains must be identical and verify, and the network must recover after each
 * fault. (Longer and Byzantine runs: `npm run chaos -- --seed N --duration S`.)
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './run.js';

describe('chaos: real validators under faults', () => {
  it('loses nothing, duplicates nothing, and ends with identical verified chains', async () => {
    const report = await runChaos({
      seed: 20_240_601,
      durationS: 40,
      byzantine: 'none',
      plan: ['kill', 'partition', 'pause'],
      rate: 20,
      accounts: 20,
      maxFaultMs: 4_000,
    });
    console.log(report.summary);
    const context = `${report.summary}\n${report.failures.join('\n')}\n${report.details.join('\n')}\nreplay: ${report.replay}\ndir: ${report.dir}`;
    expect(report.failures, context).toEqual([]);
    expect(report.faults.map((f) => f.description.split(' ')[0]), context).toEqual(['kill', 'partition', 'pause']);
    expect(report.acked, context).toBeGreaterThan(50);
    expect(report.lost, context).toBe(0);
    expect(report.duplicated, context).toBe(0);
    expect(report.honestChains, context).toBe('identical');
    expect(report.verify, context).toBe('ok');
    expect(report.ok, context).toBe(true);
  }, 240_000);
});
