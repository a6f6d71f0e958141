import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { addressOf, generateKeyPair, toHex, writeKeyFile, type KeyPair } from '../../crypto/index.js';
import { genesisFromJson, genesisHash, genesisToJson, type GenesisJson } from '../../ledger/genesis.js';
import { DEFAULT_NODE_CONFIG, writeNodeConfig, type NodeConfig } from '../../node/config.js';
import { CliError } from '../errors.js';
import { cliPath, type CliIo } from '../io.js';

/**
 * `ledgerctl testnet init`: a ready-to-run local network in one directory.
 *
 *   DIR/genesis.json           the chain: N validators, the funded admin client, K accounts
 *   DIR/client.key.json        the admin client account (funded, may grant and revoke)
 *   DIR/accounts/accountJ.key.json   K extra funded accounts (with --accounts K)
 *   DIR/nodeI/config.json      node I: p2p 127.0.0.1 tcp 26656+10I, RPC 127.0.0.1:26657+10I
 *   DIR/nodeI/node.key.json    node I's validator key (0600)
 */

export const MAX_TESTNET_VALIDATORS = 64;
export const MAX_TESTNET_ACCOUNTS = 100_000;
export const BASE_P2P_PORT = 26656;
export const BASE_RPC_PORT = 26657;
export const PORT_STRIDE = 10;
export const DEFAULT_CHAIN_ID = 'ledger-devnet';
/** Generous enough for benchmarks and soak runs; the total stays far below u64. */
export const ADMIN_BALANCE = 1_000_000_000_000_000n;
export const ACCOUNT_BALANCE = 1_000_000_000_000n;

interface InitOptions {
  readonly validators: number;
  readonly dir: string;
  readonly chainId: string;
  readonly accounts: number;
  readonly force?: boolean;
  readonly basePort: number;
  readonly viewTimeoutMs?: number;
}

export function p2pPort(index: number, base = BASE_P2P_PORT): number {
  return base + PORT_STRIDE * index;
}

/** A node's RPC port sits right above its p2p port. */
export function rpcPort(index: number, base = BASE_P2P_PORT): number {
  return base + 1 + PORT_STRIDE * index;
}

/** A commander argument parser; commander names the flag and the value in its message. */
function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^[0-9]+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

export function registerTestnetCommands(program: Command, io: CliIo): void {
  const testnet = program.command('testnet').description('set up a local test network');
  testnet
    .command('init')
    .description('write a genesis, validator homes and funded client keys into a directory')
    .requiredOption('--validators <n>', `number of validators (1-${MAX_TESTNET_VALIDATORS})`, integerIn(1, MAX_TESTNET_VALIDATORS))
    .requiredOption('--dir <dir>', 'directory to write (must be empty or absent)')
    .option('--chain-id <id>', 'chain id', DEFAULT_CHAIN_ID)
    .option('--accounts <k>', 'extra funded accounts to create', integerIn(0, MAX_TESTNET_ACCOUNTS), 0)
    .option('--force', 'write into a non-empty directory, replacing an earlier testnet there')
    .option('--base-port <port>', 'p2p port of node0; node I uses base+10I (p2p) and base+10I+1 (RPC)', integerIn(1024, 65000), BASE_P2P_PORT)
    .option('--view-timeout-ms <ms>', 'consensus view timeout (default: the genesis default)', integerIn(50, 600_000))
    .action(async (options: InitOptions) => {
      await initTestnet(io, { ...options, dir: cliPath(io, options.dir) });
    });
}

interface Member {
  readonly name: string;
  readonly keyPair: KeyPair;
}

async function initTestnet(io: CliIo, options: InitOptions): Promise<void> {
  const { dir } = options;
  const validators: Member[] = Array.from({ length: options.validators }, (_, i) => ({
    name: `node${i}`,
    keyPair: generateKeyPair(),
  }));
  const client: Member = { name: 'client', keyPair: generateKeyPair() };
  const accounts: Member[] = Array.from({ length: options.accounts }, (_, j) => ({
    name: `account${j}`,
    keyPair: generateKeyPair(),
  }));

  // Consensus parameters left out are filled in with the parser's defaults.
  const json: Omit<GenesisJson, 'consensus'> & { consensus?: Record<string, number> } = {
    chainId: options.chainId,
    genesisTime: Date.now(),
    validators: validators.map((v, i) => ({
      name: v.name,
      publicKey: toHex(v.keyPair.publicKey),
      address: addressOf(v.keyPair.publicKey),
      p2p: `/ip4/127.0.0.1/tcp/${p2pPort(i, options.basePort)}`,
      rpc: `http://127.0.0.1:${rpcPort(i, options.basePort)}`,
    })),
    accounts: [
      { address: addressOf(client.keyPair.publicKey), balance: ADMIN_BALANCE.toString(), canTransact: true, isAdmin: true },
      ...accounts.map((a) => ({
        address: addressOf(a.keyPair.publicKey),
        balance: ACCOUNT_BALANCE.toString(),
        canTransact: true,
        isAdmin: false,
      })),
    ],
    ...(options.viewTimeoutMs !== undefined
      ? { consensus: { viewTimeoutMs: options.viewTimeoutMs, maxViewTimeoutMs: Math.max(options.viewTimeoutMs * 16, 10_000) } }
      : {}),
  };
  const parsed = genesisFromJson(json);
  // The only free-form input is the chain id; the parser names what is wrong with it.
  if (!parsed.ok) throw new CliError(`cannot build the genesis: ${parsed.error.message}`);
  const genesis = parsed.value;

  // Only now, with nothing left to refuse, is the filesystem touched.
  await prepareDirectory(dir, options.force === true);
  await writeFile(join(dir, 'genesis.json'), genesisToJson(genesis), { flag: 'wx' });
  await writeKeyFile(join(dir, 'client.key.json'), client.keyPair);
  if (accounts.length > 0) {
    await mkdir(join(dir, 'accounts'), { mode: 0o700 });
    for (const account of accounts) await writeKeyFile(join(dir, 'accounts', `${account.name}.key.json`), account.keyPair);
  }
  for (const [i, validator] of validators.entries()) {
    const home = join(dir, validator.name);
    await mkdir(home, { mode: 0o700 });
    const config: NodeConfig = {
      ...DEFAULT_NODE_CONFIG,
      moniker: validator.name,
      genesisFile: '../genesis.json',
      keyFile: 'node.key.json',
      p2pListen: `/ip4/127.0.0.1/tcp/${p2pPort(i, options.basePort)}`,
      rpcListen: `127.0.0.1:${rpcPort(i, options.basePort)}`,
    };
    await writeNodeConfig(home, config);
    await writeKeyFile(join(home, config.keyFile), validator.keyPair);
  }

  io.stdout(`testnet written to ${dir}\n`);
  io.stdout(`chain id:     ${genesis.chainId}\n`);
  io.stdout(`genesis hash: ${toHex(genesisHash(genesis))}\n`);
  io.stdout(`validators (${validators.length}):\n`);
  validators.forEach((v, i) => {
    io.stdout(`  ${v.name}  ${addressOf(v.keyPair.publicKey)}  p2p 127.0.0.1:${p2pPort(i, options.basePort)}  rpc 127.0.0.1:${rpcPort(i, options.basePort)}\n`);
  });
  io.stdout(`admin client: ${addressOf(client.keyPair.publicKey)} (${join(dir, 'client.key.json')})\n`);
  if (accounts.length > 0) io.stdout(`accounts:     ${accounts.length} funded keys in ${join(dir, 'accounts')}\n`);
  io.stdout(`node homes:   ${join(dir, 'node0')} .. ${validators[validators.length - 1]?.name ?? ''}\n`);
}

/**
 * Creates DIR or checks it is empty. With `force`, an earlier testnet's files in it are
 * removed first (only what this command writes: genesis.json, client.key.json, accounts/
 * and nodeN/ homes), so no stale chain data or extra node home survives.
 */
async function prepareDirectory(dir: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new CliError(`${dir} exists and is not a directory`);
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    return;
  }
  if (entries.length === 0) return;
  if (!force) throw new CliError(`${dir} is not empty (use --force to replace a testnet there)`);
  const ours = entries.filter((name) => name === 'genesis.json' || name === 'client.key.json' || name === 'accounts' || /^node[0-9]+$/.test(name));
  for (const name of ours) await rm(join(dir, name), { recursive: true, force: true });
}
