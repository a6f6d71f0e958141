/**
 * `npm run chaos -- --seed N --duration SECONDS [--byzantine MODE|none|auto] [--plan k1,k2]
 *  [--rate TX_PER_S] [--accounts K] [--keep]`
 *
 * Four real validators behind a fault-injecting proxy, steady signed load, and faults drawn
 * from the seed (see test/chaos/run.ts). Prints one summary line; a failure prints why, the
 * run's directory (kept, with each node's log) and the command that replays the schedule.
 * Run `npm run build` first: the validators are the compiled bin.
 */
import '../src/polyfill.js';
import { Command, InvalidArgumentError } from 'commander';
import { FAULT_KINDS, isFaultKind, type FaultKind } from '../test/chaos/faults.js';
import { BYZANTINE_CHOICES, runChaos, type ByzantineChoice } from '../test/chaos/run.js';

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

function byzantine(value: string): ByzantineChoice {
  if (!(BYZANTINE_CHOICES as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${BYZANTINE_CHOICES.join(', ')}`);
  return value as ByzantineChoice;
}

function plan(value: string): FaultKind[] {
  const kinds = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const k of kinds) if (!isFaultKind(k)) throw new InvalidArgumentError(`unknown fault "${k}" (known: ${FAULT_KINDS.join(', ')})`);
  return kinds as FaultKind[];
}

interface Options {
  seed?: number;
  duration: number;
  byzantine: ByzantineChoice;
  plan?: FaultKind[];
  rate: number;
  accounts: number;
  viewTimeoutMs: number;
  maxStallMs: number;
  maxFaultMs?: number;
  keep?: boolean;
  quiet?: boolean;
}

const opts = new Command()
  .name('chaos')
  .description('chaos run: real validators, a fault proxy, load, and seeded faults')
  .option('--seed <n>', 'the seed (default: random)', integer(0))
  .option('--duration <s>', 'seconds of faults under load', integer(1, 86_400), 60)
  .option('--byzantine <mode>', `one Byzantine validator: ${BYZANTINE_CHOICES.join(' | ')} (auto: the seed decides)`, byzantine, 'auto')
  .option('--plan <kinds>', `run exactly these faults in order, comma-separated (${FAULT_KINDS.join(', ')})`, plan)
  .option('--rate <tx/s>', 'txs started per second', integer(1, 10_000), 30)
  .option('--accounts <k>', 'client accounts', integer(1, 10_000), 40)
  .option('--view-timeout-ms <ms>', 'genesis view timeout', integer(50, 600_000), 1_000)
  .option('--max-stall-ms <ms>', 'fail when no commit under load for longer', integer(1), 30_000)
  .option('--max-fault-ms <ms>', 'cap each fault and the gap after it', integer(1))
  .option('--keep', 'keep the run directory even when it passes')
  .option('--quiet', 'print only the summary (and failures)')
  .parse()
  .opts<Options>();

const startedAt = Date.now();
const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
const report = await runChaos({
  seed,
  durationS: opts.duration,
  byzantine: opts.byzantine,
  ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
  rate: opts.rate,
  accounts: opts.accounts,
  viewTimeoutMs: opts.viewTimeoutMs,
  maxStallMs: opts.maxStallMs,
  ...(opts.maxFaultMs !== undefined ? { maxFaultMs: opts.maxFaultMs } : {}),
  keep: opts.keep === true,
  ...(opts.quiet === true ? {} : { log: (line: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}`) }),
});
if (opts.quiet !== true) for (const line of report.details) console.log(`  ${line}`);
console.log(report.summary);
if (!report.ok) {
  for (const f of report.failures) console.log(`FAIL: ${f}`);
  console.log(`run directory (node logs, stores): ${report.dir}`);
  console.log(`replay: ${report.replay}`);
  process.exitCode = 1;
}
