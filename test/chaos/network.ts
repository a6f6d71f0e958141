/**
 * Four real validators behind the chaos proxy: `ledgerctl testnet init` in a temp dir, the
 * genesis p2p ports served by the proxy, each `ledger-node` (the compiled bin) listening on
 * a real port of its own, its log appended to DIR/nodeI.log across restarts. Processes are
 * killed (-9), stopped (SIGTERM), paused (SIGSTOP) and resumed (SIGCONT) by index.
 *
 *   node I:  proxy (genesis p2p) base+10I   RPC base+10I+1   real p2p base+10I+2
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { parseKeyFile, type KeyPair } from '../../src/crypto/index.js';
import { BYZANTINE_ENV, type ByzantineMode } from '../../src/node/byzantine.js';
import { rpcCall, type RpcCallError } from '../../src/rpc/client.js';
import type { Result } from '../../src/codec/result.js';
import { randomBasePort } from '../helpers/ports.js';
import { ChaosProxy, processDialerLookup } from './proxy.js';
import { pausedStack } from './inspect.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE_BIN = join(ROOT, 'bin', 'ledger-node.js');
export const CHAIN_ID = 'chaos';

export type NodeState = 'down' | 'running' | 'paused';

export interface NodeStatus {
  readonly latest_height: number;
  readonly latest_block_hash: string;
  readonly view: number;
  readonly catching_up: boolean;
  readonly peers: number;
}

export interface NetworkOptions {
  readonly n: number;
  readonly accounts: number;
  readonly viewTimeoutMs: number;
  /** One validator may run Byzantine. */
  readonly byzantine?: { readonly node: number; readonly mode: ByzantineMode };
  /** Random source for the proxy's drop and jitter decisions. */
  readonly random: () => number;
  readonly logLevel?: string;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ChaosNetwork {
  readonly state: NodeState[];
  /** How many times each node was started. */
  readonly starts: number[];
  /** Graceful stops that did not exit 0. */
  readonly uncleanStops: string[] = [];
  private readonly children: (ChildProcess | undefined)[];

  private constructor(
    readonly dir: string,
    readonly options: NetworkOptions,
    readonly basePort: number,
    readonly accounts: readonly KeyPair[],
    readonly proxy: ChaosProxy,
  ) {
    this.state = new Array<NodeState>(options.n).fill('down');
    this.starts = new Array<number>(options.n).fill(0);
    this.children = new Array<ChildProcess | undefined>(options.n).fill(undefined);
  }

  static async create(options: NetworkOptions): Promise<ChaosNetwork> {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'ledger-node.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    let lastError: unknown;
    // A node's port must still be free when it restarts (see ports.ts). Another run (or
    // anything else) may hold a base: try a few.
    for (let attempt = 0; attempt < 5; attempt++) {
      const basePort = await randomBasePort(options.n);
      const dir = await mkdtemp(join(tmpdir(), 'ledger-chaos-'));
      try {
        return await ChaosNetwork.createAt(dir, basePort, options);
      } catch (err) {
        lastError = err;
        await rm(dir, { recursive: true, force: true });
      }
    }
    throw lastError;
  }

  private static async createAt(dir: string, basePort: number, options: NetworkOptions): Promise<ChaosNetwork> {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), cwd: dir };
    const args = [
      'testnet', 'init',
      '--validators', String(options.n),
      '--dir', dir,
      '--base-port', String(basePort),
      '--chain-id', CHAIN_ID,
      '--accounts', String(options.accounts),
      '--view-timeout-ms', String(options.viewTimeoutMs),
    ];
    const code = await runLedgerctl(args, io);
    if (code !== 0) throw new Error(`testnet init failed: ${out.join('')}`);
    const accountDir = join(dir, 'accounts');
    const names = options.accounts > 0 ? (await readdir(accountDir)).filter((f) => f.endsWith('.key.json')).sort() : [];
    const accounts = await Promise.all(names.map(async (f) => parseKeyFile(f, await readFile(join(accountDir, f), 'utf8'))));
    let network: ChaosNetwork | undefined;
    const routes = Array.from({ length: options.n }, (_, i) => ({ node: i, listenPort: basePort + 10 * i, targetPort: basePort + 10 * i + 2 }));
    const proxy = await ChaosProxy.start(routes, processDialerLookup(() => network?.pids() ?? new Map()), options.random);
    network = new ChaosNetwork(dir, options, basePort, accounts, proxy);
    return network;
  }

  get n(): number {
    return this.options.n;
  }

  home(i: number): string {
    return join(this.dir, `node${i}`);
  }

  logFile(i: number): string {
    return join(this.dir, `node${i}.log`);
  }

  rpcUrl(i: number): string {
    return `http://127.0.0.1:${this.basePort + 10 * i + 1}`;
  }

  isByzantine(i: number): boolean {
    return this.options.byzantine?.node === i;
  }

  /** Whether the proxy cuts node i off from every other validator. */
  isIsolated(i: number): boolean {
    return Array.from({ length: this.n }, (_, j) => j).every((j) => j === i || this.proxy.isCut(i, j));
  }

  /** The validators that behave. */
  honest(): number[] {
    return Array.from({ length: this.n }, (_, i) => i).filter((i) => !this.isByzantine(i));
  }

  /** Live nodes' pids (paused ones too), for the proxy's dialer lookup. */
  pids(): Map<number, number> {
    const map = new Map<number, number>();
    this.children.forEach((child, i) => {
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) map.set(child.pid, i);
    });
    return map;
  }

  /** Appends a line to node i's log (marks faults in the node's own timeline). */
  note(i: number, line: string): void {
    const fd = openSync(this.logFile(i), 'a');
    try {
      writeSync(fd, `### chaos ${new Date().toISOString()} ${line}\n`);
    } finally {
      closeSync(fd);
    }
  }

  /** Spawns node i and waits until its RPC answers. */
  async start(i: number, timeoutMs = 30_000): Promise<void> {
    if (this.state[i] !== 'down') throw new Error(`node${i} is ${this.state[i]}, not down`);
    const args = [
      // A node that stops answering can be asked where it is stuck (see diagnose()).
      `--inspect-port=127.0.0.1:${this.inspectPort(i)}`,
      NODE_BIN, 'start',
      '--home', this.home(i),
      '--p2p', `/ip4/127.0.0.1/tcp/${this.basePort + 10 * i + 2}`,
      '--log-level', this.options.logLevel ?? 'info',
    ];
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env[BYZANTINE_ENV];
    const byzantine = this.options.byzantine;
    if (byzantine?.node === i) {
      args.push('--unsafe-byzantine', byzantine.mode);
      env[BYZANTINE_ENV] = '1';
    }
    this.note(i, `start (#${this.starts[i] as number + 1})`);
    const fd = openSync(this.logFile(i), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], env });
    } finally {
      closeSync(fd);
    }
    this.children[i] = child;
    this.state[i] = 'running';
    this.starts[i] = (this.starts[i] as number) + 1;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.state[i] = 'down';
        this.children[i] = undefined;
        throw new Error(`node${i} exited at start (${child.exitCode ?? child.signalCode}); see ${this.logFile(i)}:\n${await this.tail(i)}`);
      }
      const health = await rpcCall(this.rpcUrl(i), 'health', undefined, { timeoutMs: 1_000 });
      if (health.ok) return;
      await sleep(100);
    }
    throw new Error(`node${i} RPC did not answer within ${timeoutMs} ms; see ${this.logFile(i)}\n${await this.diagnose(i)}`);
  }

  /** The port node i's inspector opens on when it gets SIGUSR1. */
  inspectPort(i: number): number {
    return this.basePort + 10 * i + 3;
  }

  /**
   * Where a live node's main thread is. SIGUSR1 opens the inspector (its own thread
   * handles the signal, so this works on a busy loop too); the debugger pauses the main
   * thread and reports its call stack.
   */
  async diagnose(i: number): Promise<string> {
    const child = this.children[i];
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return `node${i} is not running`;
    let ticks = '?';
    try {
      ticks = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(' ').slice(13, 15).join('/');
    } catch {
      // gone
    }
    const stack = await pausedStack(child, this.inspectPort(i)).catch((err: unknown) => `no stack: ${(err as Error).message}`);
    return `node${i} (pid ${child.pid}, cpu utime/stime ticks ${ticks}) main thread:\n${stack}`;
  }

  /** Sends `signal` and waits for the process to exit (a paused process is resumed first for SIGTERM). */
  async signalAndWait(i: number, signal: NodeJS.Signals, timeoutMs = 30_000): Promise<void> {
    const child = this.children[i];
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      if (this.state[i] === 'paused' && signal !== 'SIGKILL') child.kill('SIGCONT');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs));
      if ((await Promise.race([exited, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        this.note(i, `did not exit on ${signal} within ${timeoutMs} ms: killed`);
      }
    }
    this.children[i] = undefined;
    this.state[i] = 'down';
  }

  async kill(i: number): Promise<void> {
    this.note(i, 'kill -9');
    await this.signalAndWait(i, 'SIGKILL');
  }

  /** A graceful stop; true when the node exited 0. */
  async stop(i: number): Promise<boolean> {
    const child = this.children[i];
    if (child === undefined) return true;
    this.note(i, 'SIGTERM');
    await this.signalAndWait(i, 'SIGTERM');
    if (child.exitCode === 0) return true;
    this.uncleanStops.push(`node${i} exited ${child.exitCode ?? child.signalCode} on SIGTERM (see ${this.logFile(i)})`);
    return false;
  }

  pause(i: number): void {
    const child = this.children[i];
    if (child === undefined || this.state[i] !== 'running') return;
    this.note(i, 'SIGSTOP');
    child.kill('SIGSTOP');
    this.state[i] = 'paused';
  }

  resume(i: number): void {
    const child = this.children[i];
    if (child === undefined || this.state[i] !== 'paused') return;
    child.kill('SIGCONT');
    this.state[i] = 'running';
    this.note(i, 'SIGCONT');
  }

  /** Whether node i's process died on its own (not by our hand). */
  crashed(i: number): boolean {
    const child = this.children[i];
    return child !== undefined && (child.exitCode !== null || child.signalCode !== null);
  }

  async call(i: number, method: string, params?: unknown, timeoutMs = 2_000): Promise<Result<unknown, RpcCallError>> {
    return rpcCall(this.rpcUrl(i), method, params, { timeoutMs });
  }

  async status(i: number, timeoutMs = 2_000): Promise<NodeStatus | undefined> {
    if (this.state[i] !== 'running') return undefined;
    const r = await this.call(i, 'status', undefined, timeoutMs);
    return r.ok ? (r.value as NodeStatus) : undefined;
  }

  async tail(i: number, bytes = 3_000): Promise<string> {
    try {
      const text = await readFile(this.logFile(i), 'utf8');
      return text.slice(-bytes);
    } catch {
      return '';
    }
  }

  /** Stops everything (SIGKILL for whatever is left), closes the proxy, removes the dir unless kept. */
  async destroy(keep: boolean): Promise<void> {
    await Promise.all(Array.from({ length: this.n }, (_, i) => this.signalAndWait(i, 'SIGKILL')));
    await this.proxy.close();
    if (!keep) await rm(this.dir, { recursive: true, force: true });
  }
}
