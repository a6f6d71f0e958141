/**
 * ledgerctl: the operator's tool (keys, devnet setup, offline chain verification).
 * `runLedgerctl` runs one invocation against a CliIo and returns the exit code, so tests
 * drive it in-process; bin/ledgerctl.js wires it to the real process.
 */
import { Command } from 'commander';
import { registerKeysCommands } from './commands/keys.js';
import { registerReadCommands } from './commands/reads.js';
import { registerTestnetCommands } from './commands/testnet.js';
import { registerTxCommands } from './commands/tx.js';
import { registerVerifyCommand } from './commands/verify.js';
import { registerWatchCommand } from './commands/watch.js';
import { EXIT_OK, formatCliError } from './errors.js';
import { processIo, type CliIo } from './io.js';

export function buildLedgerctl(io: CliIo): Command {
  const program = new Command('ledgerctl')
    .description('operate a ledger network: keys, devnet setup, transactions, reads (verified against genesis with --verify), watch, chain verification')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      // Commander's own error lines are dropped: formatCliError prints every error once.
      outputError: () => {},
    })
    .showHelpAfterError(false)
    // Options belong to the command they follow: `tx` has options of its own (for `tx HASH`)
    // that must not swallow those of `tx transfer`.
    .enablePositionalOptions();
  registerKeysCommands(program, io);
  registerTestnetCommands(program, io);
  registerVerifyCommand(program, io);
  registerTxCommands(program, io);
  registerReadCommands(program, io);
  registerWatchCommand(program, io);
  return program;
}

/** Runs `ledgerctl <argv...>` (argv without the node and script names). */
export async function runLedgerctl(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildLedgerctl(io).parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    const formatted = formatCliError(error);
    if (formatted.message !== '') io.stderr(`${formatted.message}\n`);
    if (process.env.LEDGER_DEBUG === '1' && error instanceof Error && error.stack !== undefined) io.stderr(`${error.stack}\n`);
    return formatted.exitCode;
  }
}

export async function main(): Promise<void> {
  process.exitCode = await runLedgerctl(process.argv.slice(2), processIo());
}
