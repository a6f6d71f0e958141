/**
 * `ledgerctl tx transfer|put|grant|revoke ...`: build, sign and submit a tx through
 * LedgerClient; `ledgerctl tx HASH`: a committed tx by hash (with --verify, its inclusion
 * proof and block certificate checked against the genesis).
 *
 * The nonce comes from the node (`account`'s pending_nonce, which counts this account's
 * txs already waiting in the mempool) unless --nonce gives one. --wait uses
 * submitAndWait: subscribe to the tx's hash, broadcast, wait for the commit event (or poll
 * by hash when the WebSocket is unavailable); a timeout leaves the tx possibly pending, and
 * sending the same tx again is harmless.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { CommittedTx } from '../../client/types.js';
import type { TxBody } from '../../codec/types.js';
import { loadKeyFile, toHex, utf8 } from '../../crypto/index.js';
import { hashTx, senderAddress } from '../../ledger/tx.js';
import { cliPath, type CliIo } from '../io.js';
import {
  isoTime,
  printJson,
  printRows,
  trustedGenesis,
  withClient,
  withClientOptions,
  withVerifyOptions,
  type ClientOptions,
  type VerifyOptions,
} from './client-options.js';
import { describeBody, parseAddressArg, txJson } from './reads.js';

export { DEFAULT_RPC, RPC_TOKEN_ENV } from './client-options.js';

const U64_MAX = (1n << 64n) - 1n;
const HASH_RE = /^[0-9a-f]{64}$/;

interface SubmitOptions extends ClientOptions {
  readonly key: string;
  readonly wait?: boolean;
  readonly nonce?: bigint;
  readonly timeoutMs: number;
}

function parseU64(what: string, positive: boolean): (value: string) => bigint {
  return (value) => {
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${what} must be a whole number.`);
    const n = BigInt(value);
    if (n > U64_MAX || (positive && n === 0n)) throw new InvalidArgumentError(`${what} must be from ${positive ? 1 : 0} to 2^64-1.`);
    return n;
  };
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 600_000) throw new InvalidArgumentError('Expected milliseconds from 1 to 600000.');
  return n;
}

function parseHash(value: string): string {
  const lower = value.toLowerCase();
  if (!HASH_RE.test(lower)) throw new InvalidArgumentError('Expected a tx hash: 64 hex digits.');
  return lower;
}

function withSubmitOptions(command: Command): Command {
  return withClientOptions(
    command
      .requiredOption('--key <file>', 'key file of the sending account')
      .option('--wait', 'wait until the tx is committed and print its height')
      .option('--nonce <n>', "use this nonce instead of asking the node for the account's next one", parseU64('--nonce', false))
      .option('--timeout-ms <ms>', 'with --wait: how long to wait for the commit', parseTimeout, 30_000),
  );
}

async function submit(io: CliIo, options: SubmitOptions, body: TxBody): Promise<void> {
  const loaded = await loadKeyFile(cliPath(io, options.key));
  for (const warning of loaded.warnings) io.stderr(`warning: ${warning}\n`);
  await withClient(io, options, async (client) => {
    const tx = await client.sign(body, options.nonce === undefined ? { from: loaded.keyPair } : { from: loaded.keyPair, nonce: options.nonce });
    const hash = toHex(hashTx(tx));
    if (options.wait === true) {
      const at = await client.submitAndWait(tx, { timeoutMs: options.timeoutMs });
      if (options.json === true) return printJson(io, { hash, nonce: tx.nonce, height: at.height, index: at.index });
      io.stdout(`tx ${hash} (nonce ${tx.nonce})\ncommitted at height ${at.height}, index ${at.index}\n`);
      return;
    }
    const sent = await client.broadcastTxSync(tx);
    if (options.json === true) return printJson(io, { hash, nonce: tx.nonce, duplicate: sent.duplicate });
    io.stdout(`tx ${hash} (nonce ${tx.nonce})\n`);
    io.stdout(sent.duplicate ? 'the node already had it (pending or committed); ask for it by hash\n' : 'admitted to the mempool; ask for it by hash, or run with --wait\n');
  });
}

function printTx(io: CliIo, t: CommittedTx, verified: string | undefined): void {
  const { tx } = t;
  io.stdout(`tx ${toHex(t.hash)}\n`);
  const rows: [string, unknown][] = [
    ['block', `${t.height}, index ${t.index}`],
    ['sender', senderAddress(tx)],
    ['nonce', tx.nonce],
    ['body', describeBody(tx.body)],
    ['chain', tx.chainId],
    ['signature', toHex(tx.signature)],
  ];
  if (verified !== undefined) rows.push(['verified', verified]);
  printRows(io, rows);
}

export function registerTxCommands(program: Command, io: CliIo): void {
  // `tx HASH` is the group's own action; `tx transfer ...` its subcommands. The program
  // uses positional options, so the group's options never swallow a subcommand's.
  const tx = withVerifyOptions(
    withClientOptions(
      program
        .command('tx')
        .description('show a committed tx by hash, or build, sign and submit one (transfer, put, grant, revoke)')
        .argument('[hash]', 'the hash of a committed tx to show', parseHash),
    ),
  ).action(async (hash: string | undefined, options: ClientOptions & VerifyOptions, command: Command) => {
    if (hash === undefined) {
      command.help({ error: true });
      return;
    }
    await withClient(io, options, async (client) => {
      if (options.verify === true) {
        const genesis = await trustedGenesis(io, client, options);
        const v = await client.verifiedTx(hash, genesis);
        const signers = v.commit.certificate.signatures.length;
        if (options.json === true) {
          return printJson(io, { hash: v.hash, height: v.height, index: v.index, tx: txJson(v.tx), blockHash: v.commit.hash, verified: true });
        }
        return printTx(io, v, `yes: included in block ${v.height} ${toHex(v.commit.hash).slice(0, 16)}.. (${isoTime(v.commit.header.timestamp)}), certified by ${signers} of ${genesis.validators.length} genesis validators`);
      }
      const t = await client.tx(hash);
      if (options.json === true) return printJson(io, { hash: t.hash, height: t.height, index: t.index, tx: txJson(t.tx) });
      printTx(io, t, undefined);
    });
  });

  withSubmitOptions(
    tx
      .command('transfer')
      .description('move funds to another account')
      .requiredOption('--to <address>', 'recipient address', parseAddressArg)
      .requiredOption('--amount <n>', 'amount (a whole number, 1 to 2^64-1)', parseU64('--amount', true)),
  ).action(async (options: SubmitOptions & { to: string; amount: bigint }) => {
    await submit(io, options, { kind: 'transfer', to: options.to, amount: options.amount });
  });

  withSubmitOptions(
    tx
      .command('put')
      .description('set a data record of the sending account (an empty value deletes it)')
      .requiredOption('--data-key <key>', 'record key (UTF-8, 1 to 256 bytes)')
      .requiredOption('--value <text>', 'record value (UTF-8 text)'),
  ).action(async (options: SubmitOptions & { dataKey: string; value: string }) => {
    await submit(io, options, { kind: 'put', key: options.dataKey, value: utf8(options.value) });
  });

  for (const kind of ['grant', 'revoke'] as const) {
    withSubmitOptions(
      tx
        .command(kind)
        .description(kind === 'grant' ? 'admin: let an account transact' : 'admin: stop an account from transacting')
        .requiredOption('--account <address>', 'the account', parseAddressArg),
    ).action(async (options: SubmitOptions & { account: string }) => {
      await submit(io, options, { kind, account: options.account });
    });
  }
}
