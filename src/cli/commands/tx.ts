/**
 * `ledgerctl tx ...` and `ledgerctl status`: build, sign and submit txs over JSON-RPC, and
 * read a node's status. The nonce comes from the node (`account`'s pending_nonce, which
 * counts this account's txs already waiting in the mempool) unless --nonce gives one.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { encodeTx } from '../../codec/tx.js';
import type { TxBody } from '../../codec/types.js';
import { isAddress, loadKeyFile, utf8 } from '../../crypto/index.js';
import { signTx } from '../../ledger/tx.js';
import { describeCallError, rpcCall } from '../../rpc/client.js';
import { CliError } from '../errors.js';
import { cliPath, type CliIo } from '../io.js';

export const DEFAULT_RPC = 'http://127.0.0.1:26657';
const U64_MAX = (1n << 64n) - 1n;

interface CommonOptions {
  readonly key: string;
  readonly rpc: string;
  readonly wait?: boolean;
  readonly nonce?: bigint;
  readonly timeoutMs: number;
  readonly json?: boolean;
}

function parseU64(what: string, positive: boolean): (value: string) => bigint {
  return (value) => {
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${what} must be a whole number.`);
    const n = BigInt(value);
    if (n > U64_MAX || (positive && n === 0n)) throw new InvalidArgumentError(`${what} must be from ${positive ? 1 : 0} to 2^64-1.`);
    return n;
  };
}

function parseAddress(value: string): string {
  const lower = value.toLowerCase();
  if (!isAddress(lower)) throw new InvalidArgumentError('Expected an address: 40 hex digits.');
  return lower;
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 60_000) throw new InvalidArgumentError('Expected milliseconds from 1 to 60000.');
  return n;
}

/** Calls a method, turning every failure into one clear CLI error. */
async function call(url: string, method: string, params: unknown, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const result = await rpcCall(url, method, params, { timeoutMs });
  if (!result.ok) throw new CliError(`${method} at ${url}: ${describeCallError(result.error)}`);
  return result.value as Record<string, unknown>;
}

function withCommonOptions(command: Command): Command {
  return command
    .requiredOption('--key <file>', 'key file of the sending account')
    .option('--rpc <url>', 'JSON-RPC endpoint of a node', DEFAULT_RPC)
    .option('--wait', 'wait until the tx is committed and print its height')
    .option('--nonce <n>', "use this nonce instead of asking the node for the account's next one", parseU64('--nonce', false))
    .option('--timeout-ms <ms>', 'with --wait: how long to wait for the commit', parseTimeout, 30_000)
    .option('--json', 'print the result as JSON');
}

async function submit(io: CliIo, options: CommonOptions, body: TxBody): Promise<void> {
  const loaded = await loadKeyFile(cliPath(io, options.key));
  for (const warning of loaded.warnings) io.stderr(`warning: ${warning}\n`);
  const status = await call(options.rpc, 'status', {});
  const chainId = status.chain_id;
  if (typeof chainId !== 'string') throw new CliError(`status at ${options.rpc}: no chain_id in the answer`);
  let nonce = options.nonce;
  if (nonce === undefined) {
    const account = await call(options.rpc, 'account', { address: loaded.address });
    if (typeof account.pending_nonce !== 'string') throw new CliError(`account at ${options.rpc}: no pending_nonce in the answer`);
    nonce = BigInt(account.pending_nonce);
  }
  const tx = signTx({ chainId, sender: loaded.keyPair.publicKey, nonce, body }, loaded.keyPair);
  const encoded = Buffer.from(encodeTx(tx)).toString('base64');
  const result = options.wait === true
    ? await call(options.rpc, 'broadcast_tx_commit', { tx: encoded, timeout_ms: options.timeoutMs }, options.timeoutMs + 5_000)
    : await call(options.rpc, 'broadcast_tx_sync', { tx: encoded });
  if (options.json === true) {
    io.stdout(`${JSON.stringify({ ...result, nonce: nonce.toString() })}\n`);
    return;
  }
  io.stdout(`tx ${String(result.hash)} (nonce ${nonce})\n`);
  if (options.wait === true) io.stdout(`committed at height ${String(result.height)}, index ${String(result.index)}\n`);
  else io.stdout('admitted to the mempool; ask for it by hash, or run with --wait\n');
}

export function registerTxCommands(program: Command, io: CliIo): void {
  const tx = program.command('tx').description('build, sign and submit a transaction');

  withCommonOptions(
    tx
      .command('transfer')
      .description('move funds to another account')
      .requiredOption('--to <address>', 'recipient address', parseAddress)
      .requiredOption('--amount <n>', 'amount (a whole number, 1 to 2^64-1)', parseU64('--amount', true)),
  ).action(async (options: CommonOptions & { to: string; amount: bigint }) => {
    await submit(io, options, { kind: 'transfer', to: options.to, amount: options.amount });
  });

  withCommonOptions(
    tx
      .command('put')
      .description("set a data record of the sending account (an empty value deletes it)")
      .requiredOption('--data-key <key>', 'record key (UTF-8, 1 to 256 bytes)')
      .requiredOption('--value <text>', 'record value (UTF-8 text)'),
  ).action(async (options: CommonOptions & { dataKey: string; value: string }) => {
    await submit(io, options, { kind: 'put', key: options.dataKey, value: utf8(options.value) });
  });

  for (const kind of ['grant', 'revoke'] as const) {
    withCommonOptions(
      tx
        .command(kind)
        .description(kind === 'grant' ? 'admin: let an account transact' : 'admin: stop an account from transacting')
        .requiredOption('--account <address>', 'the account', parseAddress),
    ).action(async (options: CommonOptions & { account: string }) => {
      await submit(io, options, { kind, account: options.account });
    });
  }

  program
    .command('status')
    .description("a node's view of the chain: height, latest block, view, peers")
    .option('--rpc <url>', 'JSON-RPC endpoint of a node', DEFAULT_RPC)
    .option('--json', 'print the raw status as JSON')
    .action(async (options: { rpc: string; json?: boolean }) => {
      const status = await call(options.rpc, 'status', {});
      if (options.json === true) {
        io.stdout(`${JSON.stringify(status)}\n`);
        return;
      }
      const rows: [string, unknown][] = [
        ['chain', status.chain_id],
        ['node', status.node_id],
        ['validator', status.validator_index],
        ['height', status.latest_height],
        ['block', status.latest_block_hash],
        ['block time', typeof status.latest_block_time === 'number' ? new Date(status.latest_block_time).toISOString() : status.latest_block_time],
        ['view', status.view],
        ['catching up', status.catching_up],
        ['peers', status.peers],
      ];
      for (const [name, value] of rows) io.stdout(`${`${name}:`.padEnd(13)}${String(value)}\n`);
    });

}
