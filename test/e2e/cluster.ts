/**
 * Real validators for end-to-end tests: `ledgerctl testnet init` in a temp dir, one
 * `ledger-node` process per validator (the compiled bin, as users run it), real libp2p on
 * 127.0.0.1 and real LevelDB. Ports come from a per-run random base so parallel runs and
 * a developer's devnet do not collide.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { encodeTx } from '../../src/codec/tx.js';
import type { TxBody } from '../../src/codec/types.js';
import { addressOf, parseKeyFile, type KeyPair } from '../../src/crypto/index.js';
import { signTx } from '../../src/ledger/tx.js';
import { randomBasePort } from '../helpers/ports.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE_BIN = join(ROOT, 'bin', 'ledger-node.js');

export interface RpcResponse {
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown };
}

export async function rpc(url: string, method: string, params: unknown = {}, timeoutMs = 10_000): Promise<RpcResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return (await response.json()) as RpcResponse;
}

export async function postRaw(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, text: await response.text() };
}

export interface StatusResult {
  readonly latest_height: number;
  readonly latest_block_hash: string;
  readonly view: number;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${lastError !== undefined ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

export class E2ECluster {
  readonly processes: (ChildProcess | undefined)[];
  readonly logs: string[][];
  private nonces = new Map<string, bigint>();

  private constructor(
    readonly dir: string,
    readonly n: number,
    readonly basePort: number,
    readonly client: KeyPair,
    readonly chainId: string,
  ) {
    this.processes = new Array(n).fill(undefined);
    this.logs = Array.from({ length: n }, () => []);
  }

  static async create(n = 4, options: { viewTimeoutMs?: number } = {}): Promise<E2ECluster> {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'ledger-node.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const dir = await mkdtemp(join(tmpdir(), 'ledger-e2e-'));
    const basePort = await randomBasePort(n);
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), cwd: dir };
    const args = ['testnet', 'init', '--validators', String(n), '--dir', dir, '--base-port', String(basePort), '--chain-id', 'e2e', '--accounts', '2'];
    if (options.viewTimeoutMs !== undefined) args.push('--view-timeout-ms', String(options.viewTimeoutMs));
    const code = await runLedgerctl(args, io);
    if (code !== 0) throw new Error(`testnet init failed: ${out.join('')}`);
    const client = parseKeyFile('client.key.json', await readFile(join(dir, 'client.key.json'), 'utf8'));
    return new E2ECluster(dir, n, basePort, client, 'e2e');
  }

  home(i: number): string {
    return join(this.dir, `node${i}`);
  }

  rpcUrl(i: number): string {
    return `http://127.0.0.1:${this.basePort + 10 * i + 1}`;
  }

  /** Spawns node i and waits until its RPC answers. */
  async start(i: number): Promise<void> {
    const child = spawn(process.execPath, [NODE_BIN, 'start', '--home', this.home(i), '--log-level', 'info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = this.logs[i] as string[];
    child.stdout?.on('data', (c: Buffer) => log.push(c.toString()));
    child.stderr?.on('data', (c: Buffer) => log.push(c.toString()));
    this.processes[i] = child;
    await waitFor(`node${i} RPC`, async () => {
      if (child.exitCode !== null) throw new Error(`node${i} exited with ${child.exitCode}: ${log.join('').slice(-2000)}`);
      const health = await rpc(this.rpcUrl(i), 'health', {}, 1000);
      return health.result !== undefined ? true : undefined;
    }, 20_000);
  }

  async startAll(): Promise<void> {
    await Promise.all(Array.from({ length: this.n }, (_, i) => this.start(i)));
  }

  /** kill -9 (or another signal); resolves when the process is gone. */
  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.processes[i];
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(signal);
    const code = await exited;
    this.processes[i] = undefined;
    return code;
  }

  async status(i: number): Promise<StatusResult> {
    const response = await rpc(this.rpcUrl(i), 'status');
    if (response.result === undefined) throw new Error(`status of node${i}: ${JSON.stringify(response.error)}`);
    return response.result as StatusResult;
  }

  /** A signed tx from the admin client, with the next nonce this test has handed out. */
  signedTx(body: TxBody, from: KeyPair = this.client): Uint8Array {
    const sender = addressOf(from.publicKey);
    const nonce = this.nonces.get(sender) ?? 0n;
    this.nonces.set(sender, nonce + 1n);
    return encodeTx(signTx({ chainId: this.chainId, sender: from.publicKey, nonce, body }, from));
  }

  async waitForHeight(i: number, height: number, timeoutMs = 30_000): Promise<StatusResult> {
    return waitFor(`node${i} at height ${height}`, async () => {
      const s = await this.status(i);
      return s.latest_height >= height ? s : undefined;
    }, timeoutMs);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.processes.map((_, i) => this.kill(i, 'SIGTERM')));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.processes.map((_, i) => this.kill(i, 'SIGKILL')));
    await rm(this.dir, { recursive: true, force: true });
  }

  logOf(i: number): string {
    return (this.logs[i] as string[]).join('');
  }
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
