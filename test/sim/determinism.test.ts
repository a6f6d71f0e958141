/**
 * A seed must reproduce a run exactly: the same transcript, line for line, and the same
 * figures, in-process and with every message round-tripped through the codec.
 */
import { describe, expect, it } from 'vitest';
import { reproduceCommand, resolveStrategy, runSeed } from './run.js';

describe('determinism', () => {
  it.each([
    { seed: 3, strategy: 'equivocate' as const },
    { seed: 8, strategy: 'chaos' as const },
    { seed: 21, strategy: 'mixed' as const, n: 7 },
  ])('seed $seed ($strategy) runs identically twice', (o) => {
    const a = runSeed({ ...o, quick: true, transcript: true });
    const b = runSeed({ ...o, quick: true, transcript: true });
    expect(a.transcript?.lines.length).toBeGreaterThan(50);
    expect(b.transcript?.lines).toEqual(a.transcript?.lines);
    expect({ ...b, realMs: 0, transcript: undefined }).toEqual({ ...a, realMs: 0, transcript: undefined });
  });

  it('runs the same schedule over the wire codec', () => {
    const plain = runSeed({ seed: 4, strategy: 'twins', quick: true, transcript: true });
    const wire = runSeed({ seed: 4, strategy: 'twins', quick: true, wire: true, transcript: true });
    expect(wire.ok).toBe(true);
    // Decoded copies are new objects, but the protocol sees the same bytes: same history.
    expect(wire.transcript?.lines).toEqual(plain.transcript?.lines);
  });

  it('a seed with no strategy is the same run as the seed with the strategy it drew', () => {
    const drawn = resolveStrategy({ seed: 17 });
    const a = runSeed({ seed: 17, quick: true, transcript: true });
    const b = runSeed({ seed: 17, strategy: drawn, quick: true, transcript: true });
    expect(b.transcript?.lines).toEqual(a.transcript?.lines);
    expect(a.command).toBe(`npm run sim -- --seed 17 --strategy ${drawn} --n 4 --quick`);
  });

  it('prints the command that reproduces a run', () => {
    expect(reproduceCommand({ seed: 12, strategy: 'silent', n: 7, quick: true })).toBe('npm run sim -- --seed 12 --strategy silent --n 7 --quick');
  });
});
