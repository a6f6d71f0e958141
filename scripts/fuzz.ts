/**
 * `npm run fuzz -- --runs 100000`: the long run of the decoder fuzz targets (the same
 * targets and contract as test/fuzz/decoders.test.ts, which runs a bounded sample in
 * `npm test`). Every parser of outside input gets `--runs` generated inputs: valid
 * encodings mutated (bit flips, cuts, insertions, tampered length fields), random bytes,
 * and for the JSON formats structurally damaged documents.
 *
 *   --runs N      inputs per target (default 10000)
 *   --seed S      fast-check seed (default: random; printed, so a run can be repeated)
 *   --target T    only targets whose name contains T (repeatable)
 *
 * Prints, per target, the outcome counts (ok and each error code) and the time taken;
 * on a contract violation prints fast-check's report (seed, path, shrunk counterexample)
 * and exits 1.
 */
import { TARGETS, type TargetRun } from '../test/fuzz/targets.js';

interface Args {
  readonly runs: number;
  readonly seed: number;
  readonly targets: readonly string[];
}

function parseArgs(argv: readonly string[]): Args {
  let runs = 10_000;
  let seed = Math.floor(Math.random() * 0x7fff_ffff);
  const targets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const number = (): number => {
      const n = Number(value);
      if (value === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} needs a whole number`);
      i++;
      return n;
    };
    if (flag === '--runs') runs = Math.max(1, number());
    else if (flag === '--seed') seed = number();
    else if (flag === '--target' && value !== undefined) {
      targets.push(value);
      i++;
    } else throw new Error(`unknown argument ${String(flag)} (use --runs N, --seed S, --target NAME)`);
  }
  return { runs, seed, targets };
}

function line(run: TargetRun): string {
  const outcomes = [...run.outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  const rate = (run.runs / (run.ms / 1000)).toFixed(0);
  return `${run.name.padEnd(24)} ${String(run.runs).padStart(8)} runs ${(run.ms / 1000).toFixed(1).padStart(7)} s ${rate.padStart(7)}/s  ${outcomes}`;
}

function main(): void {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const chosen = TARGETS.filter((t) => args.targets.length === 0 || args.targets.some((name) => t.name.includes(name)));
  process.stdout.write(`fuzz: ${chosen.length} targets x ${args.runs} runs, seed ${args.seed}\n`);
  const started = performance.now();
  let total = 0;
  let failed = 0;
  for (const target of chosen) {
    const run = target.run({ numRuns: args.runs, seed: args.seed });
    total += run.runs;
    process.stdout.write(`${line(run)}\n`);
    if (run.failure !== undefined) {
      failed++;
      process.stdout.write(`\n${run.name}: CONTRACT VIOLATED\n${run.failure}\n\n`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`fuzz: ${total} inputs in ${seconds.toFixed(1)} s, ${failed} target(s) failed\n`);
  process.stdout.write(`${JSON.stringify({ targets: chosen.length, runs: args.runs, seed: args.seed, inputs: total, seconds: Number(seconds.toFixed(1)), failed })}\n`);
  if (failed > 0) process.exitCode = 1;
}

main();
