import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { encodeBlock, encodeQuorumCertificate } from '../../src/codec/block.js';
import { loadKeyFile, toHex } from '../../src/crypto/index.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { buildBlock } from '../../src/ledger/execute.js';
import { genesisToJson, parseGenesis } from '../../src/ledger/genesis.js';
import { DEFAULT_NODE_CONFIG, parseNodeConfig, writeNodeConfig } from '../../src/node/config.js';
import { BlockStore } from '../../src/store/index.js';
import { u64Key } from '../../src/store/layout.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { buildChain, type CertifiedBlock } from '../store/chain.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ledgerctl-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runLedgerctl(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    cwd: dir,
  });
  return { code, stdout, stderr };
}

/** A failure is one line on stderr, never a stack trace. */
function expectOneLineError(result: Run, code: number, ...fragments: string[]): void {
  expect(result.code).toBe(code);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('ledgerctl: usage', () => {
  it('prints help and exits 0', async () => {
    const result = await run('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('keys');
    expect(result.stdout).toContain('testnet');
    expect(result.stdout).toContain('verify');
  });

  it('exits 2 with one line for an unknown command or option', async () => {
    expectOneLineError(await run('frobnicate'), 2, 'frobnicate');
    expectOneLineError(await run('keys', 'generate', '--out', 'k.json', '--bogus'), 2, '--bogus');
    expectOneLineError(await run('keys', 'generate'), 2, '--out');
  });
});

describe('ledgerctl keys', () => {
  it('generates a 0600 key file and prints its address and public key', async () => {
    const result = await run('keys', 'generate', '--out', 'a.key.json');
    expect(result.code).toBe(0);
    const loaded = await loadKeyFile(join(dir, 'a.key.json'));
    expect(await mode(join(dir, 'a.key.json'))).toBe(0o600);
    expect(result.stdout).toContain(loaded.address);
    expect(result.stdout).toContain(toHex(loaded.keyPair.publicKey));
    expect(result.stdout).not.toContain(toHex(loaded.keyPair.seed));
  });

  it('refuses to overwrite an existing file', async () => {
    await writeFile(join(dir, 'taken.json'), 'precious');
    expectOneLineError(await run('keys', 'generate', '--out', 'taken.json'), 1, 'already exists');
    expect(await readFile(join(dir, 'taken.json'), 'utf8')).toBe('precious');
  });

  it('reports a directory that does not exist', async () => {
    expectOneLineError(await run('keys', 'generate', '--out', 'no/such/dir/k.json'), 1, 'no such file or directory');
  });

  it('shows a key file without its private key', async () => {
    await run('keys', 'generate', '--out', 'b.key.json');
    const loaded = await loadKeyFile(join(dir, 'b.key.json'));
    const result = await run('keys', 'show', 'b.key.json');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(loaded.address);
    expect(result.stdout).toContain(toHex(loaded.keyPair.publicKey));
    expect(result.stdout).not.toContain(toHex(loaded.keyPair.seed));
    const json = await run('keys', 'show', 'b.key.json', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ address: loaded.address, publicKey: toHex(loaded.keyPair.publicKey) });
  });

  it('reports missing and malformed key files in one line', async () => {
    expectOneLineError(await run('keys', 'show', 'missing.json'), 1, 'missing.json', 'does not exist');
    await writeFile(join(dir, 'bad.json'), '{"type":"ed25519"', { mode: 0o600 });
    expectOneLineError(await run('keys', 'show', 'bad.json'), 1, 'not valid JSON');
    expectOneLineError(await run('keys', 'show'), 2);
  });
});

describe('ledgerctl testnet init', () => {
  it('writes a genesis, node homes with 0600 keys and devnet ports, and funded client keys', async () => {
    const result = await run('testnet', 'init', '--validators', '4', '--dir', 'net', '--accounts', '2', '--chain-id', 'devnet-7');
    expect(result.code).toBe(0);
    const net = join(dir, 'net');
    expect((await readdir(net)).sort()).toEqual(['accounts', 'client.key.json', 'genesis.json', 'node0', 'node1', 'node2', 'node3']);

    const genesis = parseGenesis(await readFile(join(net, 'genesis.json'), 'utf8'));
    if (!genesis.ok) throw new Error(genesis.error.message);
    const g = genesis.value;
    expect(g.chainId).toBe('devnet-7');
    expect(g.validators).toHaveLength(4);

    for (let i = 0; i < 4; i++) {
      const home = join(net, `node${i}`);
      const key = await loadKeyFile(join(home, 'node.key.json'));
      expect(await mode(join(home, 'node.key.json'))).toBe(0o600);
      expect(key.warnings).toEqual([]);
      expect(key.address).toBe(g.validators[i]?.address);
      expect(g.validators[i]?.p2p).toBe(`/ip4/127.0.0.1/tcp/${26656 + 10 * i}`);
      const config = parseNodeConfig(await readFile(join(home, 'config.json'), 'utf8'));
      if (!config.ok) throw new Error(config.error.message);
      expect(config.value.moniker).toBe(`node${i}`);
      expect(config.value.p2pListen).toBe(`/ip4/127.0.0.1/tcp/${26656 + 10 * i}`);
      expect(config.value.rpcListen).toBe(`127.0.0.1:${26657 + 10 * i}`);
      expect(join(home, config.value.genesisFile)).toBe(join(net, 'genesis.json'));
    }

    const client = await loadKeyFile(join(net, 'client.key.json'));
    expect(await mode(join(net, 'client.key.json'))).toBe(0o600);
    const admin = g.accounts.find((a) => a.address === client.address);
    expect(admin?.isAdmin).toBe(true);
    expect(admin?.canTransact).toBe(true);
    expect(admin?.balance).toBeGreaterThan(0n);
    const extra = (await readdir(join(net, 'accounts'))).sort();
    expect(extra).toEqual(['account0.key.json', 'account1.key.json']);
    for (const name of extra) {
      const account = await loadKeyFile(join(net, 'accounts', name));
      const entry = g.accounts.find((a) => a.address === account.address);
      expect(entry?.canTransact).toBe(true);
      expect(entry?.isAdmin).toBe(false);
      expect(entry?.balance).toBeGreaterThan(0n);
    }
    expect(g.accounts).toHaveLength(3);
    expect(result.stdout).toContain(client.address);
  });

  it('refuses a non-empty directory unless --force, which replaces the earlier testnet', async () => {
    expect((await run('testnet', 'init', '--validators', '3', '--dir', 'net')).code).toBe(0);
    const before = await readFile(join(dir, 'net', 'genesis.json'), 'utf8');
    expectOneLineError(await run('testnet', 'init', '--validators', '1', '--dir', 'net'), 1, 'not empty', '--force');
    expect(await readFile(join(dir, 'net', 'genesis.json'), 'utf8')).toBe(before);

    await mkdir(join(dir, 'net', 'node0', 'data'));
    expect((await run('testnet', 'init', '--validators', '1', '--dir', 'net', '--force')).code).toBe(0);
    expect((await readdir(join(dir, 'net'))).sort()).toEqual(['client.key.json', 'genesis.json', 'node0']);
    expect(await readdir(join(dir, 'net', 'node0'))).not.toContain('data');
    expect(await readFile(join(dir, 'net', 'genesis.json'), 'utf8')).not.toBe(before);
  });

  it.each([['0'], ['65'], ['x'], ['1.5'], ['-3'], ['']])('refuses --validators %j as a usage error', async (value) => {
    expectOneLineError(await run('testnet', 'init', '--validators', value, '--dir', 'net'), 2, '--validators');
    await expect(stat(join(dir, 'net'))).rejects.toThrow();
  });

  it('refuses a bad --accounts and a bad --chain-id', async () => {
    expectOneLineError(await run('testnet', 'init', '--validators', '1', '--dir', 'net', '--accounts', 'many'), 2, '--accounts');
    expectOneLineError(await run('testnet', 'init', '--validators', '1', '--dir', 'net2', '--chain-id', 'bad id!'), 1, 'chainId');
    // Refused before anything was written.
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a --dir that is a file', async () => {
    await writeFile(join(dir, 'file'), 'x');
    expectOneLineError(await run('testnet', 'init', '--validators', '1', '--dir', 'file'), 1, 'not a directory');
  });
});

describe('ledgerctl verify', () => {
  const net = makeTestnet();

  async function makeHome(blocks: readonly CertifiedBlock[]): Promise<string> {
    const home = join(dir, 'node0');
    await mkdir(home);
    await writeFile(join(home, 'genesis.json'), genesisToJson(net.genesis));
    await writeNodeConfig(home, { ...DEFAULT_NODE_CONFIG, genesisFile: 'genesis.json' });
    const store = await BlockStore.open(home, net.genesis);
    for (const { block, qc, writes } of blocks) await store.append(block, qc, writes);
    await store.close();
    return home;
  }

  async function damage(home: string, fn: (db: Level<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> {
    const db = new Level<Uint8Array, Uint8Array>(join(home, 'data'), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    try {
      await fn(db);
    } finally {
      await db.close();
    }
  }

  const sub = (db: Level<Uint8Array, Uint8Array>, name: string) =>
    db.sublevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' });

  it('verifies a good chain and prints a summary', async () => {
    const chain = buildChain(net, 5, 4);
    await makeHome(chain);
    const result = await run('verify', '--home', 'node0');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('verified 5 blocks, 20 txs');
    expect(result.stdout).toContain(toHex(hashBlockHeader(chain[4]!.block.header)));
    expect(result.stdout).toContain(toHex(chain[4]!.state.root));
    expect(result.stdout).toMatch(/elapsed: +[0-9.]+ s/);
  });

  it('verifies an empty chain', async () => {
    await makeHome([]);
    const result = await run('verify', '--home', 'node0');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('verified 0 blocks, 0 txs');
  });

  it('names the block whose certified state root is not what its txs produce', async () => {
    // A faulty quorum certified block 3 with a wrong state root; block 4 builds on it.
    const good = buildChain(net, 2, 3);
    const parentOf = (b: CertifiedBlock) => ({ height: b.block.header.height, hash: hashBlockHeader(b.block.header), timestamp: b.block.header.timestamp });
    const built = buildBlock(good[1]!.state, [net.signTransfer(0, 1, 5n, 2n)], net.blockFields(parentOf(good[1]!)), net.ctx);
    const wrongRoot = new Uint8Array(32).fill(0xab);
    const header3 = { ...built.block.header, stateRoot: wrongRoot };
    const block3: CertifiedBlock = { block: { header: header3, txs: built.block.txs }, qc: net.certify(header3), writes: built.executed.writes, state: built.executed.state };
    const built4 = buildBlock(built.executed.state, [net.signTransfer(1, 2, 5n, 2n)], net.blockFields(parentOf(block3)), net.ctx);
    const block4: CertifiedBlock = { block: built4.block, qc: net.certify(built4.block.header), writes: built4.executed.writes, state: built4.executed.state };
    await makeHome([...good, block3, block4]);

    const result = await run('verify', '--home', 'node0');
    expectOneLineError(
      result,
      1,
      `block 3: state root mismatch: header ${toHex(wrongRoot).slice(0, 8)}.., executed ${toHex(built.executed.state.root).slice(0, 8)}..`,
    );
    expect(result.stdout).toBe('');
  });

  it('names a block whose txs were swapped behind its certificate', async () => {
    const chain = buildChain(net, 4, 3);
    const home = await makeHome(chain);
    const { header, txs } = chain[1]!.block;
    await damage(home, (db) => sub(db, 'block').put(u64Key(2), encodeBlock({ header, txs: [...txs].reverse() })));
    expectOneLineError(await run('verify', '--home', 'node0'), 1, 'block 2: tx root mismatch');
  });

  it('names a block whose certificate does not verify', async () => {
    const chain = buildChain(net, 4, 2);
    const home = await makeHome(chain);
    const weak = net.certify(chain[2]!.block.header, [3]);
    await damage(home, (db) => sub(db, 'cert').put(u64Key(3), encodeQuorumCertificate(weak)));
    expectOneLineError(await run('verify', '--home', 'node0'), 1, 'block 3: certificate:');
  });

  it('names a block missing from the middle of the chain', async () => {
    const chain = buildChain(net, 4, 1);
    const home = await makeHome(chain);
    await damage(home, (db) => sub(db, 'block').del(u64Key(2)));
    expectOneLineError(await run('verify', '--home', 'node0'), 1, 'block 2: missing');
  });

  it('reports a corrupt tip found on open', async () => {
    const chain = buildChain(net, 3, 1);
    const home = await makeHome(chain);
    await damage(home, (db) => sub(db, 'block').put(u64Key(3), new Uint8Array([1, 2, 3])));
    expectOneLineError(await run('verify', '--home', 'node0'), 1, 'tip block 3');
  });

  it('refuses while the node holds the store, with the in-use message', async () => {
    const home = await makeHome(buildChain(net, 1, 1));
    const store = await BlockStore.open(home, net.genesis);
    try {
      const result = await run('verify', '--home', 'node0');
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('error: node home node0 is in use by another process\n');
    } finally {
      await store.close();
    }
  });

  it('reports a home without config, genesis or store', async () => {
    expectOneLineError(await run('verify', '--home', 'nowhere'), 1, 'config.json does not exist');
    await mkdir(join(dir, 'bare'));
    await writeNodeConfig(join(dir, 'bare'), DEFAULT_NODE_CONFIG);
    expectOneLineError(await run('verify', '--home', 'bare'), 1, 'genesis file', 'does not exist');
    await writeFile(join(dir, 'bare', 'genesis.json'), genesisToJson(net.genesis));
    expectOneLineError(await run('verify', '--home', 'bare'), 1, 'has no store');
    await writeFile(join(dir, 'bare', 'genesis.json'), '{"chainId": 5}');
    expectOneLineError(await run('verify', '--home', 'bare'), 1, 'chainId');
  });

  it('refuses a store of another chain', async () => {
    await makeHome(buildChain(net, 1, 1));
    const other = makeTestnet({ chainId: 'elsewhere' });
    await writeFile(join(dir, 'node0', 'genesis.json'), genesisToJson(other.genesis));
    expectOneLineError(await run('verify', '--home', 'node0'), 1, 'genesis hash');
  });
});
