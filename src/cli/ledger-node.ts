/**
 * ledger-node: the validator daemon. `ledger-node start --home DIR` runs one validator
 * until SIGINT/SIGTERM, then stops gracefully (RPC first, the commit in flight finishes,
 * then the network and the store close) and exits 0.
 */
import { setFlagsFromString } from 'node:v8';
import { Command, Option } from 'commander';
import { loadKeyFile } from '../crypto/index.js';
import { LedgerNode } from '../node/node.js';
import { BYZANTINE_ENV, byzantineFor, byzantineWarning, parseByzantineMode, type ByzantineMode } from '../node/byzantine.js';
import {
  applyConfigOverrides,
  describeConfig,
  loadNodeConfig,
  resolveConfigPaths,
  unknownEnvVars,
  type ConfigFlags,
} from '../node/config.js';
import { createLogger } from '../node/logger.js';
import { BlockStore } from '../store/index.js';
import { readGenesis } from './commands/verify.js';
import { CliError, EXIT_OK, formatCliError, usageError } from './errors.js';
import { cliPath, processIo, type CliIo } from './io.js';

type StartOptions = ConfigFlags & { readonly home: string; readonly unsafeByzantine?: string };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Starts a node and returns it (the caller owns signals and exit). The config is
 * HOME/config.json, then LEDGER_* environment variables, then flags (highest).
 */
export async function startNode(io: CliIo, options: StartOptions, env: Env = process.env): Promise<LedgerNode> {
  let byzantine: ByzantineMode | undefined;
  if (options.unsafeByzantine !== undefined) {
    const parsed = parseByzantineMode(options.unsafeByzantine, env);
    if (!parsed.ok) throw usageError(parsed.error.message);
    byzantine = parsed.value;
  }
  const home = cliPath(io, options.home);
  const loaded = await loadNodeConfig(home);
  if (!loaded.ok) throw new CliError(loaded.error.message);
  // Commander names each option after its field (--rpc-listen -> rpcListen); --home is not a field.
  const resolved = applyConfigOverrides(loaded.value, { env, flags: options });
  if (!resolved.ok) throw usageError(resolved.error.message);
  const config = resolved.value;
  const paths = resolveConfigPaths(home, config);
  const logger = createLogger(config.logLevel, { node: config.moniker });
  for (const name of unknownEnvVars(env)) if (name !== BYZANTINE_ENV) logger.warn({ variable: name }, 'ignoring an unknown LEDGER_ environment variable (not a config field)');
  const genesis = await readGenesis(paths.genesisFile);
  const key = await loadKeyFile(paths.keyFile);
  for (const warning of key.warnings) logger.warn({ keyFile: paths.keyFile }, warning);
  // The home is named as the user gave it, so an 'in-use' refusal reads back their path.
  // Appends are not synced one by one: the consensus WAL holds, synced, every block this
  // validator voted for, and the node syncs the store before trimming the WAL.
  const store = await BlockStore.open(options.home, genesis, { dataDir: paths.dataDir, sync: false });
  const unsafe = byzantine !== undefined ? byzantineFor(byzantine, key.keyPair, genesis) : undefined;
  if (byzantine !== undefined) {
    io.stderr(byzantineWarning(byzantine));
    logger.warn({ mode: byzantine }, 'UNSAFE: Byzantine test mode: this validator attacks its own network');
  }
  try {
    return await LedgerNode.start({ config, genesis, keyPair: key.keyPair, store, logger, ...(unsafe !== undefined ? { byzantine: unsafe } : {}) });
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

/** Short flags kept from before every field had its own (--p2p-listen, --rpc-listen). */
const FLAG_ALIASES: Partial<Record<string, string>> = { p2pListen: '--p2p', rpcListen: '--rpc' };

/** One option per config field, described from the config's own docs. */
function configOptions(): Option[] {
  const options: Option[] = [];
  for (const doc of describeConfig()) {
    const help = `${doc.description} (${doc.type}; env ${doc.env}; config.json "${doc.field}"; default ${JSON.stringify(doc.default)})`;
    if (doc.type === 'boolean') {
      options.push(new Option(doc.flag, help));
      options.push(new Option(`--no-${doc.flag.slice(2)}`, `turn ${doc.field} off`));
      continue;
    }
    const alias = FLAG_ALIASES[doc.field];
    const valueName = doc.type.startsWith('integer') ? 'n' : doc.type;
    options.push(new Option(`${alias !== undefined ? `${alias}, ` : ''}${doc.flag} <${valueName}>`, help));
  }
  return options;
}

export function buildLedgerNode(io: CliIo, onStarted: (node: LedgerNode) => Promise<void>, env: Env = process.env): Command {
  const program = new Command('ledger-node')
    .description('run a validator of a permissioned BFT ledger')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t), outputError: () => {} });
  const start = program
    .command('start')
    .description(
      'start the validator whose home (config.json, key, genesis, data) is DIR. Every config.json field can be overridden ' +
        'by its LEDGER_* environment variable and by its flag; precedence: flag > environment > config.json > default.',
    )
    .requiredOption('--home <dir>', 'node home directory (made by `ledgerctl testnet init`)');
  for (const option of configOptions()) start.addOption(option);
  start.addOption(
    new Option('--unsafe-byzantine <mode>', `TESTS ONLY: misbehave on the wire (needs ${BYZANTINE_ENV}=1)`).hideHelp(),
  );
  start.action(async (opts: StartOptions) => {
    const node = await startNode(io, opts, env);
    const rpc = node.rpcAddress;
    io.stderr(`ledger-node: validator running; JSON-RPC on http://${rpc.host}:${rpc.port}\n`);
    await onStarted(node);
  });
  return program;
}

/**
 * How far V8 lets the old generation grow past what the last full GC kept, in percent. By
 * default V8 picks up to 300% (4x) when GC is cheap. A validator's live heap is small and
 * flat (~33 MB after full GCs at 1,000 tx/s), but ~2.4 KB of garbage per tx outlives the
 * young generation (mempool entries, blocks and votes live for a few hundred ms), so the heap
 * swung to 117-136 MB between full GCs and the soak's peak RSS went past 250 MB. At 100%
 * a full GC comes at about twice the live heap. Measured at 1,250 tx/s, 60 s, two pairs,
 * default -> 100: peak RSS 227/235 -> 184/182 MB, tps 1,249/1,250 -> 1,249/1,246, p99
 * 2,085/1,117 -> 1,029/1,132 ms. 50% had collapsed throughput in 3 of 4 such runs.
 * An operator's own --heap-growing-percent on the node command line wins.
 */
const HEAP_GROWING_PERCENT = 100;

/** The V8 flag the daemon sets for itself, or undefined when node's own command line has one. */
export function heapGrowingFlag(execArgv: readonly string[]): string | undefined {
  const given = execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg));
  return given ? undefined : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

export async function main(): Promise<void> {
  const heapFlag = heapGrowingFlag(process.execArgv);
  if (heapFlag !== undefined) setFlagsFromString(heapFlag);
  const io = processIo();
  try {
    await buildLedgerNode(io, waitForSignals).parseAsync(process.argv.slice(2), { from: 'user' });
    process.exitCode = EXIT_OK;
  } catch (error) {
    const formatted = formatCliError(error);
    if (formatted.message !== '') io.stderr(`ledger-node: ${formatted.message}\n`);
    if (process.env.LEDGER_DEBUG === '1' && error instanceof Error) io.stderr(`${error.stack ?? ''}\n`);
    process.exitCode = formatted.exitCode;
  }
}

/** Resolves once a SIGINT/SIGTERM has stopped the node; a second signal exits at once. */
function waitForSignals(node: LedgerNode): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`ledger-node: ${signal} again, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`ledger-node: ${signal}: stopping\n`);
      node.stop().then(
        () => resolve(),
        (err: unknown) => {
          process.stderr.write(`ledger-node: error while stopping: ${(err as Error).message}\n`);
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
