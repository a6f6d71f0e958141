/**
 * The block store (LevelDB) under damage, on a one-validator chain of real processes. Each
 * case damages a copy of one node home taken after kill -9, then:
 *
 * - a torn tail of the newest LevelDB log, damage to the newest table file, or a tip block
 *   overwritten: the node either recovers (and then serves, commits, and its chain passes
 *   `ledgerctl verify`) or refuses to start in one line — never a stack trace;
 * - one block in the middle of the chain corrupted through a raw LevelDB handle (node
 *   stopped): `ledgerctl verify` names that height and what is wrong.
 */
import { cp, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { blockHeaderSize, decodeBlock } from '../../src/codec/block.js';
import { encodeTx } from '../../src/codec/tx.js';
import { addressOf } from '../../src/crypto/index.js';
import { signTx } from '../../src/ledger/tx.js';
import { SUBLEVELS, u64Key } from '../../src/store/layout.js';
import { base64, E2ECluster, rpc, sleep } from '../e2e/cluster.js';
import { hasStackTrace, isCleanRefusal, startHome, type Refusal } from './harness.js';

const BLOCKS = 12;

describe('the block store under damage (one real validator)', () => {
  let cluster: E2ECluster;
  /** node0's home right after kill -9 with BLOCKS blocks: every case damages a copy. */
  let pristine: string;
  let copies = 0;

  beforeAll(async () => {
    cluster = await E2ECluster.create(1);
    await cluster.start(0);
    for (let i = 0; i < BLOCKS; i++) await commitOne(cluster.rpcUrl(0));
    await cluster.kill(0);
    pristine = join(cluster.dir, 'pristine');
    await cp(cluster.home(0), pristine, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  /** Commits one transfer from the admin client, with the nonce the node expects (a recovered store may be behind). */
  async function commitOne(url: string): Promise<number> {
    const account = await rpc(url, 'account', { address: addressOf(cluster.client.publicKey) });
    const nonce = BigInt((account.result as { pending_nonce: string }).pending_nonce);
    const body = { kind: 'transfer' as const, to: 'ab'.repeat(20), amount: 1n };
    const tx = encodeTx(signTx({ chainId: cluster.chainId, sender: cluster.client.publicKey, nonce, body }, cluster.client));
    const reply = await rpc(url, 'broadcast_tx_commit', { tx: base64(tx), timeout_ms: 10_000 }, 15_000);
    if (reply.error !== undefined) throw new Error(`commit: ${JSON.stringify(reply.error)}`);
    return (reply.result as { height: number }).height;
  }

  /** A fresh copy of the pristine home, beside the others (its config finds ../genesis.json). */
  async function copyHome(): Promise<string> {
    const home = join(cluster.dir, `case${copies++}`);
    await cp(pristine, home, { recursive: true });
    return home;
  }

  async function verify(home: string): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), cwd: cluster.dir };
    const code = await runLedgerctl(['verify', '--home', home], io);
    return { code, out: out.join('') };
  }

  async function newest(home: string, suffix: string): Promise<string> {
    const dir = join(home, 'data');
    const names = (await readdir(dir)).filter((n) => n.endsWith(suffix)).sort();
    const name = names[names.length - 1];
    if (name === undefined) throw new Error(`no *${suffix} in ${dir}: ${names.join(', ')}`);
    return join(dir, name);
  }

  /**
   * The contract after damage: a clean refusal, or a node that serves every stored block or
   * an error for it, commits on, stops cleanly, and whose chain verifies. With
   * `damageOnlyVerifyReads` the damage may lie where only a full read finds it (bytes
   * flipped inside a table), so a node that starts may instead fail `verify`, by name.
   */
  async function recoversOrRefuses(home: string, what: string, damageOnlyVerifyReads = false): Promise<'recovered' | 'refused'> {
    const started = await startHome(home, cluster.rpcUrl(0));
    if ('refused' in started) {
      expect(isCleanRefusal(started.refused), `${what}: a one-line refusal, got ${show(started.refused)}`).toBe(true);
      return 'refused';
    }
    const node = started.running;
    try {
      const tip = (await cluster.status(0)).latest_height;
      expect(tip, `${what}: the tip never passes what was written`).toBeLessThanOrEqual(BLOCKS);
      for (let h = 1; h <= tip; h++) {
        const block = await rpc(cluster.rpcUrl(0), 'block', { height: h });
        expect(block.result !== undefined || block.error !== undefined, `${what}: block ${h} answers`).toBe(true);
      }
      const height = await commitOne(cluster.rpcUrl(0));
      expect(height).toBeGreaterThan(tip);
    } finally {
      expect(await node.stop(), `${what}: exits 0 on SIGTERM; output: ${node.output().slice(-1500)}`).toBe(0);
    }
    expect(hasStackTrace(node.output()), `${what}: no stack trace: ${node.output().slice(-1500)}`).toBe(false);
    const verified = await verify(home);
    if (verified.code !== 0 && damageOnlyVerifyReads) {
      // Damage in a part of a table that starting never reads (an index of old blocks, say)
      // leaves the node able to run; `verify` reads everything and must name the damage.
      expect(verified.code, `${what}: verify after recovery: ${verified.out}`).toBe(1);
      expect(verified.out, `${what}: verify names the damage`).toMatch(/^error: .*Corruption/m);
      expect(hasStackTrace(verified.out), `${what}: verify without a stack trace: ${verified.out}`).toBe(false);
      return 'recovered';
    }
    expect(verified.code, `${what}: verify after recovery: ${verified.out}`).toBe(0);
    return 'recovered';
  }

  function show(r: Refusal): string {
    return `exit ${String(r.code)}, stderr ${JSON.stringify(r.stderr.slice(0, 600))}, stdout ${JSON.stringify(r.stdout.slice(-600))}`;
  }

  /** A copy of the pristine home whose newest LevelDB log is cut to `keep` of its size. */
  async function tornLogHome(keep: number): Promise<string> {
    const home = await copyHome();
    const log = await newest(home, '.log');
    const { size } = await stat(log);
    expect(size, 'blocks were written to the log since the store opened').toBeGreaterThan(1_000);
    await truncate(log, Math.floor(size * keep));
    return home;
  }

  it('a torn tail of the newest LevelDB log: the store recovers a consistent prefix, and the node starts on it', async () => {
    for (const keep of [0.3, 0.6, 0.95]) {
      const home = await tornLogHome(keep);
      // LevelDB drops the torn record and keeps the whole batches before it: a verified prefix.
      const verified = await verify(home);
      expect(verified.code, `log cut to ${keep}: ${verified.out}`).toBe(0);
      const tip = Number(/height (\d+),/.exec(verified.out)?.[1]);
      expect(tip).toBeLessThanOrEqual(BLOCKS);
      const started = await startHome(home, cluster.rpcUrl(0));
      if ('refused' in started) throw new Error(`log cut to ${keep}: refused: ${show(started.refused)}`);
      try {
        // Its WAL still holds its own proposals and votes for what the store lost: being
        // the only validator, it may certify them again, but never anything else.
        const height = (await cluster.status(0)).latest_height;
        expect(height).toBeGreaterThanOrEqual(tip);
        expect(height).toBeLessThanOrEqual(BLOCKS);
        const block = await rpc(cluster.rpcUrl(0), 'block', { height });
        expect(block.result).toBeDefined();
      } finally {
        expect(await started.running.stop()).toBe(0);
      }
      expect(hasStackTrace(started.running.output())).toBe(false);
      const again = await verify(home);
      expect(again.code, `log cut to ${keep}, after the restart: ${again.out}`).toBe(0);
    }
  }, 120_000);

  // With its store behind its WAL, a primary once rebuilt a proposal for a height it had
  // already proposed, dropped it (it must not sign two) and rebuilt it, forever, starving
  // RPC, timers and the network. It now proposes its signed block again.
  it('a torn tail of the newest LevelDB log: the recovered node stays live and commits on', async () => {
    const home = await tornLogHome(0.3);
    const started = await startHome(home, cluster.rpcUrl(0));
    if ('refused' in started) throw new Error(`refused: ${show(started.refused)}`);
    try {
      const committed = await Promise.race([commitOne(cluster.rpcUrl(0)).catch(() => undefined), sleep(8_000).then(() => undefined)]);
      expect(committed, 'a tx commits within 8 s').toBeDefined();
      const health = await rpc(cluster.rpcUrl(0), 'health', {}, 2_000);
      expect(health.result).toBeDefined();
    } finally {
      await started.running.stop('SIGKILL');
    }
  }, 60_000);

  it('damage to the newest table file: recovers or refuses in one line, never a stack trace', async () => {
    // A clean restart turns the log into a table file (.ldb).
    const base = await copyHome();
    const first = await startHome(base, cluster.rpcUrl(0));
    if (!('running' in first)) throw new Error(`the pristine copy did not start: ${show(first.refused)}`);
    expect(await first.running.stop()).toBe(0);
    const damages: [string, (path: string, size: number) => Promise<void>][] = [
      ['footer zeroed', async (path, size) => {
        const bytes = await readFile(path);
        bytes.fill(0, size - 48);
        await writeFile(path, bytes);
      }],
      ['cut in half', async (path, size) => truncate(path, Math.floor(size / 2))],
      ['bytes flipped mid-file', async (path, size) => {
        const bytes = await readFile(path);
        for (let i = Math.floor(size / 3); i < Math.floor(size / 3) + 64; i += 3) bytes[i]! ^= 0x5a;
        await writeFile(path, bytes);
      }],
    ];
    for (const [what, damage] of damages) {
      const home = join(cluster.dir, `case${copies++}`);
      await cp(base, home, { recursive: true });
      const table = await newest(home, '.ldb');
      await damage(table, (await stat(table)).size);
      await recoversOrRefuses(home, `table ${what}`, what === 'bytes flipped mid-file');
    }
  }, 120_000);

  async function withRawStore<T>(home: string, use: (blocks: ReturnType<typeof sublevel>) => Promise<T>): Promise<T> {
    const db = new Level<Uint8Array, Uint8Array>(join(home, 'data'), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open({ createIfMissing: false });
    try {
      return await use(sublevel(db));
    } finally {
      await db.close();
    }
  }

  function headerSizeOf(blockBytes: Uint8Array): number {
    const decoded = decodeBlock(blockBytes);
    if (!decoded.ok) throw new Error('the stored block should decode before the damage');
    return blockHeaderSize(decoded.value.header);
  }

  function sublevel(db: Level<Uint8Array, Uint8Array>) {
    return db.sublevel<Uint8Array, Uint8Array>(SUBLEVELS.block, { keyEncoding: 'view', valueEncoding: 'view' });
  }

  it('a tip block overwritten: refused in one line naming the tip and the fault', async () => {
    const cases: [string, (blocks: ReturnType<typeof sublevel>) => Promise<void>, RegExp][] = [
      ['garbage', (b) => b.put(u64Key(BLOCKS), new Uint8Array(300).fill(0xee)), new RegExp(`tip block ${BLOCKS} does not decode`)],
      ['the block below', async (b) => b.put(u64Key(BLOCKS), (await b.get(u64Key(BLOCKS - 1)))!), new RegExp(`tip block ${BLOCKS} has height ${BLOCKS - 1}`)],
      ['one byte of its state root', async (b) => {
        const bytes = Uint8Array.from((await b.get(u64Key(BLOCKS)))!);
        bytes[headerSizeOf(bytes) - 1]! ^= 1; // the header ends with the state root
        await b.put(u64Key(BLOCKS), bytes);
      }, new RegExp(`tip block ${BLOCKS} hashes to [0-9a-f]{64}, but the tip record says`)],
    ];
    for (const [what, damage, message] of cases) {
      const home = await copyHome();
      await withRawStore(home, damage);
      const started = await startHome(home, cluster.rpcUrl(0));
      expect('refused' in started, `${what}: refused`).toBe(true);
      if (!('refused' in started)) {
        await started.running.stop('SIGKILL');
        continue;
      }
      expect(isCleanRefusal(started.refused), `${what}: ${show(started.refused)}`).toBe(true);
      expect(started.refused.stderr).toMatch(message);
    }
  }, 120_000);

  it('ledgerctl verify names a block corrupted in the middle of the chain, and what is wrong with it', async () => {
    const h = Math.floor(BLOCKS / 2);
    const cases: [string, (bytes: Uint8Array, headerBytes: number) => Uint8Array, RegExp][] = [
      // The tx's amount: the body no longer matches the header's tx root.
      ['a tx amount', (bytes, headerBytes) => {
        const chainIdBytes = Buffer.byteLength(cluster.chainId);
        const amountLow = headerBytes + 4 + 1 + 4 + chainIdBytes + 32 + 8 + 1 + 20 + 7;
        bytes[amountLow]! ^= 1;
        return bytes;
      }, new RegExp(`^error: block ${h}: tx root mismatch: header [0-9a-f]{8}\\.\\., computed [0-9a-f]{8}\\.\\.$`)],
      // The header's timestamp: the block no longer hashes to what the index and certificate name.
      ['the header timestamp', (bytes, headerBytes) => {
        bytes[headerBytes - 32 - 32 - 4 - 1]! ^= 1;
        return bytes;
      }, new RegExp(`^error: block ${h}: `)],
      // Cut short: it no longer decodes at all.
      ['its length', (bytes) => bytes.subarray(0, bytes.length - 10), new RegExp(`^error: stored block ${h} does not decode: `)],
    ];
    for (const [what, corrupt, message] of cases) {
      const home = await copyHome();
      await withRawStore(home, async (blocks) => {
        const bytes = Uint8Array.from((await blocks.get(u64Key(h)))!);
        await blocks.put(u64Key(h), corrupt(bytes, headerSizeOf(bytes)));
      });
      const verified = await verify(home);
      expect(verified.code, `${what}: ${verified.out}`).toBe(1);
      const lines = verified.out.trim().split('\n');
      expect(lines, `${what}: one line`).toHaveLength(1);
      expect(lines[0], what).toMatch(message);
    }
  }, 120_000);
});
