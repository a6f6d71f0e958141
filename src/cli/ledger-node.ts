/**
 * ledger-node: the validator daemon. `ledger-node start --home DIR` runs one validator
 * until SIGINT/SIGTERM, then stops gracefully (RPC first, the commit in flight finishes,
 * then the network and the store close) and exits 0.
 */
import { Command, Option } from 'commander';
import { loadKeyFile } from '../crypto/index.js';
import { LedgerNode } from '../node/node.js';
import { LOG_LEVELS, loadNodeConfig, resolveConfigPaths, type LogLevel, type NodeConfig } from '../node/config.js';
import { createLogger } from '../node/logger.js';
import { BlockStore } from '../store/index.js';
import { readGenesis } from './commands/verify.js';
import { CliError, EXIT_OK, formatCliError } from './errors.js';
import { cliPath, processIo, type CliIo } from './io.js';

interface StartOptions {
  readonly home: string;
  readonly logLevel?: LogLevel;
  readonly p2p?: string;
  readonly rpc?: string;
}

/** Starts a node and returns it (the caller owns signals and exit). */
export async function startNode(io: CliIo, options: StartOptions): Promise<LedgerNode> {
  const home = cliPath(io, options.home);
  const loaded = await loadNodeConfig(home);
  if (!loaded.ok) throw new CliError(loaded.error.message);
  const config: NodeConfig = {
    ...loaded.value,
    ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
    ...(options.p2p !== undefined ? { p2pListen: options.p2p } : {}),
    ...(options.rpc !== undefined ? { rpcListen: options.rpc } : {}),
  };
  const paths = resolveConfigPaths(home, config);
  const logger = createLogger(config.logLevel, { node: config.moniker });
  const genesis = await readGenesis(paths.genesisFile);
  const key = await loadKeyFile(paths.keyFile);
  for (const warning of key.warnings) logger.warn({ keyFile: paths.keyFile }, warning);
  // The home is named as the user gave it, so an 'in-use' refusal reads back their path.
  const store = await BlockStore.open(options.home, genesis, { dataDir: paths.dataDir });
  try {
    return await LedgerNode.start({ config, genesis, keyPair: key.keyPair, store, logger });
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

export function buildLedgerNode(io: CliIo, onStarted: (node: LedgerNode) => Promise<void>): Command {
  const program = new Command('ledger-node')
    .description('run a validator of a permissioned BFT ledger')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t), outputError: () => {} });
  program
    .command('start')
    .description('start the validator whose home (config.json, key, genesis, data) is DIR')
    .requiredOption('--home <dir>', 'node home directory (made by `ledgerctl testnet init`)')
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]))
    .option('--p2p <multiaddr>', 'override the p2p listen address from config.json')
    .option('--rpc <host:port>', 'override the JSON-RPC listen address from config.json')
    .action(async (opts: StartOptions) => {
      const node = await startNode(io, opts);
      const rpc = node.rpcAddress;
      io.stderr(`ledger-node: validator running; JSON-RPC on http://${rpc.host}:${rpc.port}\n`);
      await onStarted(node);
    });
  return program;
}

export async function main(): Promise<void> {
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
