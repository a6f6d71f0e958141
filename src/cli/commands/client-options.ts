/**
 * What every ledgerctl command that talks to a node shares: the --rpc / --rpc-token /
 * --json options, one LedgerClient per invocation, ClientErrors turned into one clear CLI
 * line, the genesis that --verify trusts, and JSON output of typed values.
 */
import { type Command } from 'commander';
import { LedgerClient } from '../../client/client.js';
import { ClientError } from '../../client/errors.js';
import { toHex } from '../../crypto/bytes.js';
import type { Genesis } from '../../ledger/genesis.js';
import { CliError, usageError } from '../errors.js';
import { cliPath, type CliIo } from '../io.js';
import { readGenesis } from './verify.js';

export const DEFAULT_RPC = 'http://127.0.0.1:26657';

/** Where commands read the node's RPC token when --rpc-token is not given. */
export const RPC_TOKEN_ENV = 'LEDGER_RPC_TOKEN';

export interface ClientOptions {
  readonly rpc: string;
  readonly rpcToken?: string;
  readonly json?: boolean;
}

export interface VerifyOptions {
  readonly verify?: boolean;
  readonly genesis?: string;
  readonly trustGenesisFromNode?: boolean;
}

export function withClientOptions(command: Command): Command {
  return command
    .option('--rpc <url>', 'JSON-RPC endpoint of a node', DEFAULT_RPC)
    .option('--rpc-token <token>', `the node's RPC auth token, if it has one (default: $${RPC_TOKEN_ENV}; prefer the variable: flags show in process lists)`)
    .option('--json', 'print the result as JSON');
}

export function withVerifyOptions(command: Command): Command {
  return command
    .option('--verify', "trust no node: check the answer's proof and the block certificate against the genesis validators")
    .option('--genesis <file>', 'with --verify: the genesis file to check against')
    .option('--trust-genesis-from-node', "with --verify and no --genesis: take the genesis from the node (then the node's word is trusted for the validator set)");
}

/**
 * Runs `fn` with a client for --rpc, closed afterwards. A ClientError becomes a CliError
 * (exit 1) that names the node; a failed verification says the node cannot be trusted.
 */
export async function withClient<T>(io: CliIo, options: ClientOptions, fn: (client: LedgerClient) => Promise<T>): Promise<T> {
  let client: LedgerClient;
  try {
    const token = options.rpcToken ?? (io.env?.[RPC_TOKEN_ENV] || undefined);
    client = new LedgerClient(token === undefined ? { url: options.rpc } : { url: options.rpc, token });
  } catch (e) {
    if (e instanceof ClientError) throw usageError(`--rpc: ${e.message}`);
    throw e;
  }
  try {
    return await fn(client);
  } catch (e) {
    throw cliErrorOf(e, options.rpc);
  } finally {
    client.close();
  }
}

export function cliErrorOf(e: unknown, url: string): unknown {
  if (!(e instanceof ClientError)) return e;
  if (e.info.code === 'verification-failed') return new CliError(`${e.message} (the node at ${url} is lying or faulty)`);
  if (e.info.code === 'invalid-argument') return usageError(e.message);
  return new CliError(`${url}: ${e.message}`);
}

/** The genesis --verify checks against: the file, or the node's when the user said to trust it. */
export async function trustedGenesis(io: CliIo, client: LedgerClient, options: VerifyOptions): Promise<Genesis> {
  if (options.genesis !== undefined) return readGenesis(cliPath(io, options.genesis));
  if (options.trustGenesisFromNode !== true) {
    throw usageError('--verify needs the genesis file to trust: --genesis FILE (or --trust-genesis-from-node to take the node\'s, trusting it)');
  }
  io.stderr('warning: --trust-genesis-from-node: the validator set comes from the node itself, so a lying node can pass --verify\n');
  return (await client.genesis()).genesis;
}

/** JSON for typed values: bigints as decimal strings, bytes as lowercase hex. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? toHex(v) : v));
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${jsonText(value)}\n`);
}

/** `name:` padded, then the value, one row per line. */
export function printRows(io: CliIo, rows: readonly (readonly [string, unknown])[]): void {
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  for (const [name, value] of rows) io.stdout(`${`${name}:`.padEnd(width)}${String(value)}\n`);
}

export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
