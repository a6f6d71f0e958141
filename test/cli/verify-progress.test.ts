/**
 * `ledgerctl verify --home DIR` progress: a bar redrawn in place on a terminal (only for
 * long chains), plain lines every N blocks elsewhere; always on stderr, so stdout keeps
 * only the summary.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progress } from '../../src/cli/commands/progress.js';
import type { CliIo } from '../../src/cli/io.js';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { genesisToJson } from '../../src/ledger/genesis.js';
import { DEFAULT_NODE_CONFIG, writeNodeConfig } from '../../src/node/config.js';
import { BlockStore } from '../../src/store/index.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { buildChain } from '../store/chain.js';

const BLOCKS = 120;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ledgerctl-progress-'));
  const net = makeTestnet();
  const home = join(dir, 'node0');
  await mkdir(home);
  await writeFile(join(home, 'genesis.json'), genesisToJson(net.genesis));
  await writeNodeConfig(home, { ...DEFAULT_NODE_CONFIG, genesisFile: 'genesis.json' });
  const store = await BlockStore.open(home, net.genesis);
  for (const { block, qc, writes } of buildChain(net, BLOCKS, 1)) await store.append(block, qc, writes);
  await store.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function verify(tty: boolean, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: dir, stderrIsTTY: tty };
  const code = await runLedgerctl(['verify', '--home', 'node0', ...extra], io);
  return { code, stdout, stderr };
}

describe('ledgerctl verify progress', () => {
  it('prints a plain line every N blocks when stderr is not a terminal', async () => {
    const r = await verify(false, '--progress-every', '50');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`verified 50/${BLOCKS} blocks\nverified 100/${BLOCKS} blocks\n`);
    expect(r.stdout).toContain(`verified ${BLOCKS} blocks, ${BLOCKS} txs`);
  });

  it('prints nothing for a chain shorter than N (the default is 1000)', async () => {
    const r = await verify(false);
    expect([r.code, r.stderr]).toEqual([0, '']);
  });

  it('draws a bar in place on a terminal, ends it at 100% and erases it', async () => {
    const r = await verify(true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.startsWith('\r[')).toBe(true);
    expect(r.stderr).toContain(`[${'#'.repeat(30)}] 100% ${BLOCKS}/${BLOCKS} blocks`);
    expect(r.stderr.endsWith('\r\u001b[2K')).toBe(true);
    expect(r.stderr).not.toContain('\n');
    expect(r.stdout).toContain(`verified ${BLOCKS} blocks`);
  });

  it('draws no bar for a short run, and redraws at most every 100 ms', () => {
    let out = '';
    const io: CliIo = { stdout: () => {}, stderr: (t) => void (out += t), cwd: dir, stderrIsTTY: true };
    const short = progress(io, 99, { unit: 'blocks', label: 'verified' });
    for (let i = 1; i <= 99; i++) short.update(i);
    short.finish();
    expect(out).toBe('');

    const long = progress(io, 10_000, { unit: 'blocks', label: 'verified' });
    for (let i = 1; i <= 10_000; i++) long.update(i);
    long.finish();
    const draws = out.split('\r[').length - 1;
    // The first update and the last always draw; a tight loop is well under 100 ms apart otherwise.
    expect(draws).toBeGreaterThanOrEqual(2);
    expect(draws).toBeLessThan(50);
    expect(out).toContain('100% 10000/10000 blocks');
  });
});
