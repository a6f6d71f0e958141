/**
 * `npm run sim -- --seed N [--strategy S] [--n 4] [--verbose]` runs one seeded schedule;
 * `npm run sim -- --seeds 100000 [--from K]` runs a campaign of consecutive seeds and
 * prints a summary. A failure prints the violation and the command that reproduces it.
 */
import { Command, InvalidArgumentError } from 'commander';
import { formatViolation, isStrategyChoice, runSeed, STRATEGY_CHOICES, type RunOptions, type RunResult, type StrategyChoice } from './run.js';

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

function strategy(value: string): StrategyChoice {
  if (!isStrategyChoice(value)) throw new InvalidArgumentError(`one of ${STRATEGY_CHOICES.join(', ')}`);
  return value;
}

interface CliOptions {
  seed?: number;
  seeds?: number;
  from: number;
  strategy?: StrategyChoice;
  n: number;
  byzantine?: number;
  realCrypto?: boolean;
  wire?: boolean;
  safetyMs?: number;
  livenessMs?: number;
  quick?: boolean;
  verbose?: boolean;
  json?: boolean;
  maxFailures: number;
}

const program = new Command()
  .name('sim')
  .description('Deterministic simulation of the PBFT cluster: one seed draws every fault.')
  .option('--seed <n>', 'run this one seed', integer(0))
  .option('--seeds <count>', 'run a campaign of this many consecutive seeds', integer(1))
  .option('--from <n>', 'first seed of a campaign', integer(0), 1)
  .option('--strategy <s>', `Byzantine strategy: ${STRATEGY_CHOICES.join(' | ')} (default: drawn per seed)`, strategy)
  .option('--n <n>', 'validators', integer(1), 4)
  .option('--byzantine <k>', 'Byzantine validators (default f)', integer(0))
  .option('--real-crypto', 'real Ed25519 signatures (slower)')
  .option('--wire', 'round-trip every message through the codec')
  .option('--safety-ms <ms>', 'length of the safety phase (default drawn per seed)', integer(0))
  .option('--liveness-ms <ms>', 'liveness bound after faults stop', integer(1))
  .option('--quick', 'shorter safety phases and lighter load (as the vitest campaigns run)')
  .option('--verbose', 'print the transcript of a single run')
  .option('--json', 'print one JSON line per run (campaigns) or for the run')
  .option('--max-failures <k>', 'stop a campaign after this many failures', integer(1), 10)
  .parse();

const opts = program.opts<CliOptions>();

function runOptions(seed: number, echo?: (line: string) => void): RunOptions {
  return {
    seed,
    n: opts.n,
    ...(opts.strategy === undefined ? {} : { strategy: opts.strategy }),
    ...(opts.byzantine === undefined ? {} : { byzantine: opts.byzantine }),
    ...(opts.realCrypto === true ? { crypto: 'real' as const } : {}),
    ...(opts.wire === true ? { wire: true } : {}),
    ...(opts.quick === true ? { quick: true } : {}),
    ...(opts.safetyMs === undefined ? {} : { safetyMs: opts.safetyMs }),
    ...(opts.livenessMs === undefined ? {} : { livenessMs: opts.livenessMs }),
    ...(echo === undefined ? {} : { echo }),
  };
}

function summaryLine(r: RunResult): string {
  return [
    `seed ${r.seed}: ${r.ok ? 'ok' : `FAIL (${r.violation?.kind})`}`,
    `byzantine=[${r.byzantine.join(' ')}]`,
    `height=${r.height} txs=${r.txs} views=${r.viewChanges} maxView=${r.maxView} fetches=${r.fetches} evidence=${r.evidence} crashes=${r.crashes}`,
    `virtual=${(r.virtualMs / 1000).toFixed(1)}s converge=${r.convergeMs === undefined ? '-' : `${(r.convergeMs / 1000).toFixed(1)}s`} real=${Math.round(r.realMs)}ms`,
  ].join(' ');
}

function jsonLine(r: RunResult): string {
  const { transcript: _t, ...rest } = r;
  return JSON.stringify(rest);
}

function single(seed: number): number {
  const r = runSeed(runOptions(seed, opts.verbose === true ? (line) => console.log(line) : undefined));
  if (opts.json === true) console.log(jsonLine(r));
  console.log(`schedule: ${r.schedule}`);
  console.log(summaryLine(r));
  if (!r.ok) {
    console.log(formatViolation(r));
    return 1;
  }
  return 0;
}

function campaign(from: number, count: number): number {
  const started = performance.now();
  const byStrategy = new Map<string, number>();
  const byKind = new Map<string, number>();
  const failures: RunResult[] = [];
  let runs = 0;
  let heights = 0;
  let viewChanges = 0;
  let maxConverge = 0;
  let maxConvergeSeed = -1;
  let virtual = 0;
  for (let seed = from; seed < from + count; seed++) {
    const r = runSeed(runOptions(seed));
    runs++;
    heights += r.height;
    viewChanges += r.viewChanges;
    virtual += r.virtualMs;
    const label = r.byzantine.length === 0 ? 'none' : [...new Set(r.byzantine.map((b) => b.split(':')[1]))].join('+');
    byStrategy.set(label, (byStrategy.get(label) ?? 0) + 1);
    if (r.convergeMs !== undefined && r.convergeMs > maxConverge) {
      maxConverge = r.convergeMs;
      maxConvergeSeed = seed;
    }
    if (opts.json === true) console.log(jsonLine(r));
    if (!r.ok) {
      failures.push(r);
      const kind = r.violation?.kind ?? 'unknown';
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      console.log(formatViolation(r));
      if (failures.length >= opts.maxFailures) {
        console.log(`stopping after ${failures.length} failures`);
        break;
      }
    }
    if (runs % 100 === 0 && opts.json !== true) {
      console.log(`.. ${runs} schedules, ${failures.length} failures, ${((performance.now() - started) / 1000).toFixed(1)}s`);
    }
  }
  const wall = (performance.now() - started) / 1000;
  console.log('');
  console.log(`schedules:      ${runs} (seeds ${from}..${from + runs - 1}, n=${opts.n})`);
  console.log(`strategies:     ${[...byStrategy.entries()].sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
  console.log(`commits:        ${heights} heights in total (mean ${(heights / runs).toFixed(1)} per schedule)`);
  console.log(`view changes:   ${viewChanges} (views entered, summed over honest replicas)`);
  console.log(`max converge:   ${(maxConverge / 1000).toFixed(1)}s virtual (seed ${maxConvergeSeed})`);
  console.log(`virtual time:   ${(virtual / 1000).toFixed(0)}s in ${wall.toFixed(1)}s real`);
  console.log(`violations:     ${failures.length}${byKind.size > 0 ? ` (${[...byKind.entries()].map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}`);
  for (const f of failures) console.log(`  ${f.violation?.kind}: ${f.command}`);
  return failures.length > 0 ? 1 : 0;
}

if (opts.seed !== undefined) process.exitCode = single(opts.seed);
else process.exitCode = campaign(opts.from, opts.seeds ?? 100);
