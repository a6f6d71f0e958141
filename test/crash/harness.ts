/**
 * Helpers for crash-safety tests on real `ledger-node` processes: reading a node's
 * consensus WAL straight from its segment files (independently of src/store/file-wal.ts,
 * and without repairing anything), the votes it signed, a background tx load, and starting
 * a node that is expected to refuse.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { decodeConsensusMessage } from '../../src/codec/consensus.js';
import { toHex } from '../../src/crypto/bytes.js';
import { addressOf, generateKeyPair } from '../../src/crypto/index.js';
import { base64, ROOT, rpc, sleep, type E2ECluster } from '../e2e/cluster.js';

export const NODE_BIN = join(ROOT, 'bin', 'ledger-node.js');

/** length u32 | crc32 u32 (of seq and payload) | seq u64 | payload — see src/store/file-wal.ts. */
export const WAL_HEADER_BYTES = 16;

export interface WalRecord {
  readonly seq: number;
  /** Byte offset of the record's header in its segment. */
  readonly offset: number;
  readonly payload: Uint8Array;
}

export interface WalSegment {
  readonly path: string;
  readonly firstSeq: number;
  readonly bytes: number;
  /** The records up to the first bad one. */
  readonly records: readonly WalRecord[];
  /** Set when the segment holds something after its last good record. */
  readonly fault: string | undefined;
}

export function walChecksum(seq: number, payload: Uint8Array): number {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(seq));
  return crc32(payload, crc32(head)) >>> 0;
}

export function walRecordBytes(seq: number, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(WAL_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(walChecksum(seq, payload), 4);
  out.writeBigUInt64BE(BigInt(seq), 8);
  out.set(payload, WAL_HEADER_BYTES);
  return out;
}

export async function readWal(home: string): Promise<WalSegment[]> {
  const dir = join(home, 'wal');
  const names = (await readdir(dir)).filter((n) => /^\d{16}\.wal$/.test(n)).sort();
  const segments: WalSegment[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const data = await readFile(path);
    const firstSeq = Number(name.slice(0, 16));
    const records: WalRecord[] = [];
    let at = 0;
    let fault: string | undefined;
    while (at < data.length) {
      if (data.length - at < WAL_HEADER_BYTES) {
        fault = 'short header';
        break;
      }
      const length = data.readUInt32BE(at);
      const crc = data.readUInt32BE(at + 4);
      const seq = Number(data.readBigUInt64BE(at + 8));
      if (data.length - at - WAL_HEADER_BYTES < length) {
        fault = 'short record';
        break;
      }
      const payload = new Uint8Array(data.subarray(at + WAL_HEADER_BYTES, at + WAL_HEADER_BYTES + length));
      if (walChecksum(seq, payload) !== crc) {
        fault = 'checksum';
        break;
      }
      records.push({ seq, offset: at, payload });
      at += WAL_HEADER_BYTES + length;
    }
    segments.push({ path, firstSeq, bytes: data.length, records, fault });
  }
  return segments;
}

/**
 * What a node signed, by slot: `pre-prepare/v/h`, `prepare/v/h`, `commit/v/h` and
 * `checkpoint/h` -> the block hash it signed for. Two different hashes for one slot are an
 * equivocation.
 */
export function signedVotes(segments: readonly WalSegment[]): Map<string, string> {
  const votes = new Map<string, string>();
  for (const segment of segments) {
    for (const record of segment.records) {
      const decoded = decodeConsensusMessage(record.payload);
      if (!decoded.ok) continue;
      const m = decoded.value;
      switch (m.type) {
        case 'pre-prepare':
          votes.set(`pre-prepare/${m.view}/${m.height}`, toHex(hashBlockHeader(m.block.header)));
          break;
        case 'prepare':
        case 'commit':
          votes.set(`${m.type}/${m.view}/${m.height}`, toHex(m.blockHash));
          break;
        case 'checkpoint':
          votes.set(`checkpoint/${m.height}`, toHex(m.blockHash));
          break;
        default:
          break;
      }
    }
  }
  return votes;
}

/** Slots signed in both maps with different hashes. */
export function conflicts(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [slot, hash] of before) {
    const other = after.get(slot);
    if (other !== undefined && other !== hash) out.push(`${slot}: ${hash.slice(0, 12)} then ${other.slice(0, 12)}`);
  }
  return out;
}

/**
 * Submits transfers from the cluster's admin client to `via(i)` until stopped, one at a
 * time (broadcast_tx_sync), so blocks keep coming. Nonces are handed out by the cluster; a
 * submission that fails (the node is down) is retried with the same bytes elsewhere.
 */
export class TxLoad {
  private stopped = false;
  private readonly done: Promise<void>;
  submitted = 0;

  constructor(cluster: E2ECluster, via: () => number[], everyMs = 15) {
    this.done = (async () => {
      while (!this.stopped) {
        const tx = cluster.signedTx({ kind: 'transfer', to: addressOf(generateKeyPair().publicKey), amount: 1n });
        let sent = false;
        while (!sent && !this.stopped) {
          for (const i of via()) {
            try {
              const reply = await rpc(cluster.rpcUrl(i), 'broadcast_tx_sync', { tx: base64(tx) }, 3_000);
              if (reply.result !== undefined) {
                sent = true;
                break;
              }
            } catch {
              // That node is down or busy: try the next.
            }
          }
          if (!sent) await sleep(50);
        }
        this.submitted += 1;
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

export interface Refusal {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ledger-node start --home HOME ...` to its exit (killed after `timeoutMs` if it keeps running). */
export async function runToExit(home: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = process.env, timeoutMs = 20_000): Promise<Refusal & { timedOut: boolean }> {
  const child = spawn(process.execPath, [NODE_BIN, 'start', '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr, timedOut };
}

/** The refusal contract: exit 1, one line on stderr naming what is wrong, no stack trace anywhere. */
export function isCleanRefusal(r: Refusal): boolean {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  return r.code === 1 && lines.length === 1 && lines[0]!.startsWith('ledger-node: error: ') && !hasStackTrace(r.stderr + r.stdout);
}

export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+[:(]\d+:\d+\)?/.test(text) || /"stack":/.test(text);
}

export interface RunningNode {
  readonly child: ReturnType<typeof spawn>;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `ledger-node start --home HOME` and resolves once its RPC at `rpcUrl` answers, or
 * with the refusal if the process exits first.
 */
export async function startHome(home: string, rpcUrl: string, timeoutMs = 20_000, args: readonly string[] = []): Promise<{ running: RunningNode } | { refused: Refusal }> {
  const child = spawn(process.execPath, [NODE_BIN, 'start', '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const running: RunningNode = {
    child,
    output: () => stdout + stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return { refused: { code: await exited, stdout, stderr } };
    try {
      const health = await rpc(rpcUrl, 'health', {}, 1_000);
      if (health.result !== undefined) return { running };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await running.stop('SIGKILL');
  throw new Error(`node at ${home} neither answered nor exited: ${(stdout + stderr).slice(-2000)}`);
}
