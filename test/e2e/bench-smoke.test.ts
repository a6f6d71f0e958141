/**
 * The benchmark itself, as a user runs it: `npm run bench -- --smoke` starts a fresh
 * 4-validator network of real ledger-node processes, offers a few seconds of pre-signed
 * load, and prints its one JSON line. Its figures are never asserted (this machine's speed
 * is not a test result); what is checked is that the harness runs end to end, that the
 * line has every field the benchmark promises, and that no offered tx was lost.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const FIELDS = ['validators', 'rate', 'duration_s', 'committed', 'tps', 'p50_ms', 'p99_ms', 'max_rss_mb', 'cpu_s_per_node', 'verify_per_s', 'ceiling_tps', 'ratio'];

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'scripts', 'bench.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --smoke', () => {
  it('runs a real network end to end and prints one complete JSON line', async () => {
    const { code, stdout, stderr } = await runBench(['--smoke']);
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] as string) as Record<string, number>;
    for (const field of FIELDS) expect(typeof result[field], field).toBe('number');
    expect(result.validators).toBe(4);
    expect(result.rejected).toBe(0);
    expect(result.committed).toBe(result.offered);
  }, 120_000);
});
