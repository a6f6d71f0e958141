/**
 * `ledgerctl status | block [HEIGHT] | account ADDR | query OWNER KEY | validators`: a
 * node's answers through LedgerClient, readable by default and as JSON with --json.
 *
 * Without --verify these print what the node says. With --verify nothing the node says is
 * believed until it is checked against the genesis: the block certificate against the
 * genesis validators, the header against the certified hash, the value against the
 * certified state root. A lying node then fails the command (exit 1) naming what did not
 * verify.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { LedgerClient } from '../../client/client.js';
import type { BlockInfo } from '../../client/types.js';
import type { VerifiedCommit } from '../../client/verify.js';
import type { Tx, TxBody } from '../../codec/types.js';
import { isAddress } from '../../crypto/address.js';
import { toHex, tryDecodeUtf8 } from '../../crypto/bytes.js';
import { hashTx, senderAddress } from '../../ledger/tx.js';
import { faultTolerance } from '../../ledger/quorum.js';
import type { CliIo } from '../io.js';
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

export function parseAddressArg(value: string): string {
  const lower = value.toLowerCase();
  if (!isAddress(lower)) throw new InvalidArgumentError('Expected an address: 40 hex digits.');
  return lower;
}

export function parseHeightArg(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('Expected a height: a whole number from 1.');
  return n;
}

/** One line for a tx body: "transfer 10 -> <address>", "put "key" = value"... */
export function describeBody(body: TxBody): string {
  switch (body.kind) {
    case 'transfer':
      return `transfer ${body.amount} -> ${body.to}`;
    case 'put':
      return body.value.length === 0 ? `put ${JSON.stringify(body.key)} (delete)` : `put ${JSON.stringify(body.key)} = ${showValue(body.value)}`;
    case 'grant':
    case 'revoke':
      return `${body.kind} ${body.account}`;
  }
}

/** Printable UTF-8 as a JSON string, anything else as hex. */
export function showValue(value: Uint8Array): string {
  const text = tryDecodeUtf8(value);
  // eslint-disable-next-line no-control-regex
  return text !== undefined && !/[\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text) : `0x${toHex(value)}`;
}

/** "3 of 4 validators (0, 1, 2), view 0". */
export function describeSigners(signers: readonly number[], validators: number | undefined, view: number): string {
  const of = validators === undefined ? '' : ` of ${validators}`;
  return `${signers.length}${of} validators (${signers.join(', ')}), view ${view}`;
}

function verifiedLine(commit: VerifiedCommit | null, validators: number): string {
  if (commit === null) return 'yes: proven against the genesis state (height 0)';
  const signers = commit.certificate.signatures.map((s) => s.validator);
  return `yes: block ${commit.height} ${toHex(commit.hash).slice(0, 16)}.. certified by ${signers.length} of ${validators} genesis validators`;
}

/** A tx for --json output. */
export function txJson(tx: Tx): Record<string, unknown> {
  return { hash: hashTx(tx), sender: senderAddress(tx), nonce: tx.nonce, chainId: tx.chainId, body: tx.body, signature: tx.signature };
}

function blockJson(b: BlockInfo, verified: boolean): Record<string, unknown> {
  return { hash: b.hash, header: b.header, certificate: b.certificate, txs: b.block.txs.map(txJson), ...(verified ? { verified } : {}) };
}

function printBlock(io: CliIo, b: BlockInfo, verifiedWith: number | undefined): void {
  const { header, certificate } = b;
  io.stdout(`block ${header.height}  ${toHex(b.hash)}\n`);
  const rows: [string, unknown][] = [
    ['time', isoTime(header.timestamp)],
    ['proposer', `${header.proposer} (view ${header.view})`],
    ['parent', toHex(header.parentHash)],
    ['txs', `${header.txCount} (root ${toHex(header.txRoot)})`],
    ['state root', toHex(header.stateRoot)],
    ['certificate', describeSigners(certificate.signatures.map((s) => s.validator), verifiedWith, certificate.view)],
  ];
  if (verifiedWith !== undefined) rows.push(['verified', `yes: certificate checked against the ${verifiedWith} genesis validators, txs match the header`]);
  printRows(io, rows);
  b.block.txs.forEach((tx, i) => io.stdout(`  ${String(i).padStart(4)}  ${toHex(hashTx(tx))}  ${senderAddress(tx)}  nonce ${tx.nonce}  ${describeBody(tx.body)}\n`));
}

type ReadOptions = ClientOptions & VerifyOptions;

export function registerReadCommands(program: Command, io: CliIo): void {
  withClientOptions(program.command('status').description("a node's view of the chain: height, latest block, view, peers")).action(async (options: ClientOptions) => {
    await withClient(io, options, async (client) => {
      const s = await client.status();
      if (options.json === true) return printJson(io, s);
      printRows(io, [
        ['chain', s.chainId],
        ['node', s.nodeId],
        ['validator', s.validatorIndex ?? 'none (observer)'],
        ['height', s.latestHeight],
        ['block', toHex(s.latestBlockHash)],
        ['block time', isoTime(s.latestBlockTime)],
        ['view', s.view],
        ['catching up', s.catchingUp],
        ['peers', s.peers],
      ]);
    });
  });

  withVerifyOptions(
    withClientOptions(
      program
        .command('block')
        .description('a committed block: header, certificate and txs (the latest without HEIGHT)')
        .argument('[height]', 'the block height', parseHeightArg),
    ),
  ).action(async (height: number | undefined, options: ReadOptions) => {
    await withClient(io, options, async (client) => {
      let block: BlockInfo;
      let validators: number | undefined;
      if (options.verify === true) {
        const genesis = await trustedGenesis(io, client, options);
        block = await client.verifiedBlock(height, genesis);
        validators = genesis.validators.length;
      } else {
        block = await client.block(height);
      }
      if (options.json === true) return printJson(io, blockJson(block, validators !== undefined));
      printBlock(io, block, validators);
    });
  });

  withVerifyOptions(
    withClientOptions(program.command('account').description("an account's balance, nonce and permissions").argument('<address>', 'the account address', parseAddressArg)),
  ).action(async (address: string, options: ReadOptions) => {
    await withClient(io, options, async (client) => {
      if (options.verify === true) {
        const genesis = await trustedGenesis(io, client, options);
        const a = await client.verifiedAccount(address, genesis);
        const { commit, ...fields } = a;
        if (options.json === true) return printJson(io, { ...fields, verified: true, blockHash: commit?.hash ?? null });
        return printRows(io, [
          ['account', a.address],
          ['height', a.height],
          ['balance', a.balance],
          ['nonce', a.nonce],
          ['can transact', a.canTransact ? 'yes' : 'no'],
          ['admin', a.isAdmin ? 'yes' : 'no'],
          ['verified', verifiedLine(commit, genesis.validators.length)],
        ]);
      }
      const a = await client.account(address);
      if (options.json === true) return printJson(io, a);
      printRows(io, [
        ['account', a.address],
        ['height', a.height],
        ['balance', a.balance],
        ['nonce', a.nonce],
        ['pending nonce', a.pendingNonce],
        ['can transact', a.canTransact ? 'yes' : 'no'],
        ['admin', a.isAdmin ? 'yes' : 'no'],
      ]);
    });
  });

  withVerifyOptions(
    withClientOptions(
      program
        .command('query')
        .description('a data record (what `tx put` writes) of an account')
        .argument('<owner>', 'the owner address', parseAddressArg)
        .argument('<key>', 'the record key'),
    ),
  ).action(async (owner: string, key: string, options: ReadOptions) => {
    await withClient(io, options, async (client) => {
      let value: Uint8Array | undefined;
      let height: number;
      let verified: string | undefined;
      let blockHash: Uint8Array | null = null;
      if (options.verify === true) {
        const genesis = await trustedGenesis(io, client, options);
        const r = await client.verifiedQuery(owner, key, genesis);
        ({ value, height } = r);
        verified = verifiedLine(r.commit, genesis.validators.length);
        blockHash = r.commit?.hash ?? null;
      } else {
        ({ value, height } = await client.query(owner, key));
      }
      if (options.json === true) {
        return printJson(io, { owner, key, height, value: value ?? null, ...(verified === undefined ? {} : { verified: true, blockHash }) });
      }
      const rows: [string, unknown][] = [
        ['record', `${JSON.stringify(key)} of ${owner}`],
        ['height', height],
        ['value', value === undefined ? '(none)' : showValue(value)],
      ];
      if (verified !== undefined) rows.push(['verified', verified]);
      printRows(io, rows);
    });
  });

  withClientOptions(program.command('validators').description('the validator set (from genesis) and the quorum a certificate needs')).action(
    async (options: ClientOptions) => {
      await withClient(io, options, async (client: LedgerClient) => {
        const set = await client.validators();
        if (options.json === true) return printJson(io, set);
        io.stdout(`${set.count} validators; f = ${faultTolerance(set.count)}; a certificate needs ${set.quorum} signatures\n`);
        for (const v of set.validators) {
          io.stdout(`  ${String(v.index).padStart(3)}  ${v.name.padEnd(12)} ${v.address}  ${v.p2p}${v.rpc === null ? '' : `  ${v.rpc}`}\n`);
        }
      });
    },
  );
}
