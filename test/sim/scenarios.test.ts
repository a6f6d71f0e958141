/**
 * Scenario tests: scripted runs that read like the story they check. Each keeps a
 * transcript; key lines of it are asserted, and the first scenario's transcript is kept
 * under testdata/ and compared exactly (UPDATE_TRANSCRIPTS=1 rewrites it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Scenario } from './scenario.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));

function expectTranscriptFile(name: string, text: string): void {
  const path = `${TESTDATA}${name}`;
  if (process.env['UPDATE_TRANSCRIPTS'] === '1') writeFileSync(path, text);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

describe('scenarios', () => {
  it('the primary crashes at height 3 -> view change -> commits resume', () => {
    const s = new Scenario({ chain: { maxBlockTxs: 2 } });
    s.submit(6);
    s.runUntilHeight(3);
    expect(s.lines('r0 -> all PRE-PREPARE v0 h1')).toHaveLength(1);

    s.crash('r0');
    s.submit(6);
    s.runUntilHeight(6, ['r1', 'r2', 'r3']);

    // The backups time out, agree on view 1 and its primary r1 leads from there.
    for (const r of ['r1', 'r2', 'r3']) expect(s.lines(`${r} -> all VIEW-CHANGE v1`).length).toBeGreaterThan(0);
    expect(s.lines('r1 -> all NEW-VIEW v1')).toHaveLength(1);
    for (const r of ['r1', 'r2', 'r3']) expect(s.lines(`${r} VIEW v1 primary=r1`)).toHaveLength(1);
    expect(s.lines('r1 -> all PRE-PREPARE v1').length).toBeGreaterThan(0);
    expect(s.lines('COMMIT h6', 'v1').length).toBe(3);

    // The old primary comes back from its WAL and chain, and catches up.
    s.restart('r0');
    s.runUntilConverged();
    expect(s.node('r0').height).toBe(s.node('r1').height);
    expectTranscriptFile('primary-crash.txt', s.transcript.toString());
  });

  it('a partition isolating the primary heals', () => {
    const s = new Scenario({ chain: { maxBlockTxs: 2 } });
    s.submit(4);
    s.runUntilHeight(2);
    s.partition(['r0'], ['r1', 'r2', 'r3']);
    s.submit(6);
    s.runUntilHeight(5, ['r1', 'r2', 'r3']);
    expect(s.lines('r1 VIEW v1 primary=r1')).toHaveLength(1);
    expect(s.node('r0').height).toBe(2); // cut off: it cannot commit alone

    s.heal();
    s.submit(4);
    s.runUntilConverged();
    const heights = ['r0', 'r1', 'r2', 'r3'].map((r) => s.node(r).height);
    expect(new Set(heights).size).toBe(1);
    expect(heights[0]).toBeGreaterThanOrEqual(7);
  });

  it('twins equivocate -> evidence recorded, agreement holds', () => {
    // Validator 0 runs twice with one key; the twin's clock is 40 ms ahead, so as primary
    // of view 0 the two build different blocks for the same height.
    const s = new Scenario({ byzantine: [{ index: 0, strategy: 'twins' }], skews: [0, 0, 0, 0, 40] });
    s.submit(6);
    s.runUntil('evidence against r0', () => s.cluster.checker.evidence.length > 0);
    const evidence = s.cluster.checker.evidence[0];
    expect(evidence?.validator).toBe(0);
    expect(s.lines('EVIDENCE r0 pre-prepare v0 h1').length).toBeGreaterThan(0);

    s.submit(6);
    s.runUntilConverged();
    // The honest replicas moved away from the equivocating primary and agree on every height.
    for (const r of ['r1', 'r2', 'r3']) expect(s.node(r).replica?.view).toBeGreaterThan(0);
    const chains = ['r1', 'r2', 'r3'].map((r) => s.node(r).chain.map((b) => b.block.header.stateRoot.join()).join('|'));
    expect(new Set(chains).size).toBe(1);
  });

  it('a replica partitioned for 100 heights catches up via fetch and rejoins', () => {
    const s = new Scenario({ chain: { maxBlockTxs: 1, checkpointInterval: 10, windowSize: 20 } });
    s.partition(['r0', 'r1', 'r2'], ['r3']);
    s.submit(105);
    s.runUntilHeight(100, ['r0', 'r1', 'r2'], 60_000);
    expect(s.node('r3').height).toBe(0);

    s.heal();
    s.runUntilHeight(100, ['r3'], 30_000);
    expect(s.lines('r3 FETCH').length).toBeGreaterThan(0);

    // It takes part again: with r1 down, no quorum forms without r3.
    s.crash('r1');
    s.submit(5);
    s.runUntil('commits with r3 in the quorum', () => ['r0', 'r2', 'r3'].every((r) => s.node(r).height >= 110), 60_000);
    const last = s.node('r3').chain[109];
    expect(last?.certificate.signatures.some((sig) => sig.validator === 3)).toBe(true);
  });

  it('a commit survives every replica restarting before the others commit it', () => {
    // The fork the chaos suite found: r0 commits h1 while the others have only sent COMMIT;
    // everyone restarts; r0 stays down, so the others must change view without its word.
    // What they sent COMMIT for must still be what the new view re-proposes.
    const s = new Scenario({ chain: { maxBlockTxs: 1 } });
    s.submit(2);
    s.runUntil('a first commit', () => s.cluster.nodes.some((x) => x.height >= 1));
    const committer = s.cluster.nodes.find((x) => x.height >= 1);
    expect(committer?.name).toBe('r0');
    expect(s.cluster.nodes.filter((x) => x.height >= 1)).toHaveLength(1);
    for (const r of ['r0', 'r1', 'r2', 'r3']) s.crash(r);
    for (const r of ['r1', 'r2', 'r3']) s.restart(r);
    s.submit(2, ['r1', 'r2', 'r3']); // clients retry: there is pending work without r0
    s.runUntilHeight(2, ['r1', 'r2', 'r3']);
    const h1 = s.node('r0').chain[0]?.blockHash.join();
    for (const r of ['r1', 'r2', 'r3']) expect(s.node(r).chain[0]?.blockHash.join()).toBe(h1);
    s.restart('r0');
    s.runUntilConverged();
  });

  it('all replicas restart from their WAL + chain and the chain resumes', () => {
    const s = new Scenario({ chain: { maxBlockTxs: 2 } });
    s.submit(10);
    s.runUntilHeight(5);
    for (const r of ['r0', 'r1', 'r2', 'r3']) s.crash(r);
    s.runFor(200);
    for (const r of ['r0', 'r1', 'r2', 'r3']) s.restart(r);
    expect(s.lines('RESTART')).toHaveLength(4);
    s.submit(6);
    s.runUntilConverged();
    expect(s.node('r0').height).toBeGreaterThanOrEqual(8);
    expect(s.lines('COMMIT h8').length).toBe(4);
  });
});
