/**
 * Keys and RPC access on a real `ledger-node` (one validator):
 *
 * - the validator key is written 0600; a key file others may write is refused at start in
 *   one line that says how to fix it;
 * - nothing secret reaches the logs: a node run at debug level, committing txs behind an
 *   RPC token, never prints its private key or the token (not even when refusing a bad one);
 * - the RPC listens on 127.0.0.1 unless told otherwise;
 * - with rpcAuthToken (here from LEDGER_RPC_AUTH_TOKEN), broadcasts need the bearer token,
 *   reads do not, and ledgerctl passes the token along.
 */
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { DEFAULT_NODE_CONFIG } from '../../src/node/config.js';
import { RPC_ERROR } from '../../src/rpc/errors.js';
import { base64, E2ECluster, rpc, waitFor } from '../e2e/cluster.js';
import { hasStackTrace, isCleanRefusal, NODE_BIN, runToExit } from '../crash/harness.js';

const TOKEN = 'sec-token_0123456789abcdef+/=';

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** Whether a TCP connection to host:port is accepted. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

interface Run {
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts node0 of `cluster` with extra args and env; resolves once `rpcUrl` answers. */
async function startNode(cluster: E2ECluster, args: string[], env: Record<string, string>, rpcUrl: string): Promise<Run> {
  const child = spawn(process.execPath, [NODE_BIN, 'start', '--home', cluster.home(0), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor('the node RPC', async () => {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
    return (await rpc(rpcUrl, 'health', {}, 1_000)).result !== undefined ? true : undefined;
  }, 20_000);
  return {
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('keys and RPC access on a real node', () => {
  let cluster: E2ECluster;
  let keyFile: string;
  let privateKeyHex: string;

  beforeAll(async () => {
    cluster = await E2ECluster.create(1);
    keyFile = join(cluster.home(0), 'node.key.json');
    privateKeyHex = (JSON.parse(await readFile(keyFile, 'utf8')) as { privateKey: string }).privateKey;
  }, 30_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('the validator key is 0600, and a key file others may write is refused in one line', async () => {
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    try {
      await chmod(keyFile, 0o666);
      const refused = await runToExit(cluster.home(0));
      expect(isCleanRefusal(refused), refused.stderr + refused.stdout).toBe(true);
      expect(refused.stderr.trim()).toBe(`ledger-node: error: key file ${keyFile}: is writable by other users (mode 666); run: chmod 600 ${keyFile}`);
      expect(refused.stderr + refused.stdout).not.toContain(privateKeyHex);
    } finally {
      await chmod(keyFile, 0o600);
    }
  }, 30_000);

  it('keeps the private key and the RPC token out of its output, even at debug level', async () => {
    const node = await startNode(cluster, ['--log-level', 'debug'], { LEDGER_RPC_AUTH_TOKEN: TOKEN }, cluster.rpcUrl(0));
    try {
      for (let i = 0; i < 3; i++) {
        const tx = cluster.signedTx({ kind: 'transfer', to: 'cd'.repeat(20), amount: 1n });
        const res = await fetch(cluster.rpcUrl(0), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'broadcast_tx_commit', params: { tx: base64(tx), timeout_ms: 10_000 } }),
        });
        expect(((await res.json()) as { result?: unknown }).result).toBeDefined();
      }
      // A refused call and a few reads, so the debug logs have something to say.
      await rpc(cluster.rpcUrl(0), 'broadcast_tx_sync', { tx: base64(cluster.signedTx({ kind: 'transfer', to: 'cd'.repeat(20), amount: 1n })) });
      await rpc(cluster.rpcUrl(0), 'status');
    } finally {
      expect(await node.stop()).toBe(0);
    }
    const output = node.output();
    expect(output).toMatch(/"level":20/); // debug lines were written
    expect(output).toContain('committed');
    expect(output.toLowerCase()).not.toContain(privateKeyHex.toLowerCase());
    expect(output).not.toContain(TOKEN);
    expect(hasStackTrace(output)).toBe(false);

    // A malformed token is refused without being echoed.
    const bad = await runToExit(cluster.home(0), [], { ...process.env, LEDGER_RPC_AUTH_TOKEN: 'short-secret' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('LEDGER_RPC_AUTH_TOKEN');
    expect(bad.stderr + bad.stdout).not.toContain('short-secret');
  }, 60_000);

  it('with a token: broadcasts need it, reads do not, and ledgerctl sends it', async () => {
    const node = await startNode(cluster, [], { LEDGER_RPC_AUTH_TOKEN: TOKEN }, cluster.rpcUrl(0));
    try {
      const refused = await rpc(cluster.rpcUrl(0), 'broadcast_tx_sync', { tx: base64(cluster.signedTx({ kind: 'transfer', to: 'cd'.repeat(20), amount: 1n })) });
      expect(refused.error?.code).toBe(RPC_ERROR.unauthorized);
      expect((await rpc(cluster.rpcUrl(0), 'status')).result).toBeDefined();
      const run = async (args: string[], env: Record<string, string> = {}): Promise<{ code: number; text: string }> => {
        const out: string[] = [];
        const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), cwd: cluster.dir, env };
        const code = await runLedgerctl(['tx', 'transfer', '--key', join(cluster.dir, 'client.key.json'), '--rpc', cluster.rpcUrl(0), '--to', 'cd'.repeat(20), '--amount', '2', '--wait', ...args], io);
        return { code, text: out.join('') };
      };
      const without = await run([]);
      expect(without.code, without.text).toBe(1);
      expect(without.text).toContain('unauthorized');
      const byEnv = await run([], { LEDGER_RPC_TOKEN: TOKEN });
      expect(byEnv.code, byEnv.text).toBe(0);
      expect(byEnv.text).toMatch(/committed at height \d+/);
      const byFlag = await run(['--rpc-token', TOKEN]);
      expect(byFlag.code, byFlag.text).toBe(0);
    } finally {
      expect(await node.stop()).toBe(0);
    }
  }, 60_000);

  it('binds the RPC to 127.0.0.1 unless configured otherwise', async () => {
    expect(DEFAULT_NODE_CONFIG.rpcListen.startsWith('127.0.0.1:')).toBe(true);
    const external = externalAddress();
    const port = Number(new URL(cluster.rpcUrl(0)).port);

    // As `testnet init` wrote it: loopback only.
    const configPath = join(cluster.home(0), 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    expect(config['rpcListen']).toBe(`127.0.0.1:${port}`);
    let node = await startNode(cluster, [], {}, cluster.rpcUrl(0));
    try {
      expect(await reachable('127.0.0.1', port)).toBe(true);
      if (external !== undefined) expect(await reachable(external, port), `${external}:${port}`).toBe(false);
    } finally {
      await node.stop();
    }

    // With no rpcListen at all: the default, loopback on 26657 (when that port is free here).
    if (await portIsFree(26657)) {
      const { rpcListen: _dropped, ...rest } = config;
      await writeFile(configPath, JSON.stringify(rest, null, 2));
      try {
        node = await startNode(cluster, [], {}, 'http://127.0.0.1:26657');
        try {
          expect(node.output()).toContain('JSON-RPC on http://127.0.0.1:26657');
          if (external !== undefined) expect(await reachable(external, 26657)).toBe(false);
        } finally {
          await node.stop();
        }
      } finally {
        await writeFile(configPath, JSON.stringify(config, null, 2));
      }
    }

    // Told to listen everywhere, it does.
    if (external !== undefined) {
      node = await startNode(cluster, ['--rpc-listen', `0.0.0.0:${port}`], {}, cluster.rpcUrl(0));
      try {
        expect(await reachable(external, port)).toBe(true);
      } finally {
        await node.stop();
      }
    }
  }, 60_000);
});
