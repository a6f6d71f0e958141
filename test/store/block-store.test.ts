import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBlock, encodeQuorumCertificate } from '../../src/codec/block.js';
import type { QuorumCertificate } from '../../src/codec/types.js';
import { bytesEqual, toHex, utf8 } from '../../src/crypto/index.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { genesisHash, genesisState } from '../../src/ledger/genesis.js';
import { hashTx } from '../../src/ledger/tx.js';
import { BlockStore, StoreError, type StoreErrorCode } from '../../src/store/index.js';
import { u64Key } from '../../src/store/layout.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { buildChain, type CertifiedBlock } from './chain.js';

const net = makeTestnet();
const chain = buildChain(net, 4, 5);

function at(i: number): CertifiedBlock {
  const b = chain[i];
  if (b === undefined) throw new Error(`no block ${i}`);
  return b;
}

async function expectStoreError(promise: Promise<unknown>, code: StoreErrorCode): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

/** A raw LevelDB handle on a store's data, to damage it behind the store's back. */
async function withRawDb(home: string, fn: (db: Level<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> {
  const db = new Level<Uint8Array, Uint8Array>(join(home, 'data'), { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

function sub(db: Level<Uint8Array, Uint8Array>, name: string) {
  return db.sublevel<Uint8Array, Uint8Array>(name, { keyEncoding: 'view', valueEncoding: 'view' });
}

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'ledger-store-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function storeWith(blocks: number): Promise<BlockStore> {
  const store = await BlockStore.open(home, net.genesis);
  for (let i = 0; i < blocks; i++) await store.append(at(i).block, at(i).qc, at(i).writes);
  return store;
}

describe('BlockStore: a fresh store', () => {
  it('starts at the genesis with the genesis state', async () => {
    const store = await BlockStore.open(home, net.genesis);
    try {
      expect(store.tip().height).toBe(0);
      expect(toHex(store.tip().hash)).toBe(toHex(genesisHash(net.genesis)));
      const state = await store.loadState();
      expect(toHex(state.root)).toBe(toHex(genesisState(net.genesis).root));
      expect(state.getAccount(net.addresses[0] as string)?.balance).toBe(1_000_000n);
      expect(await store.getBlock(1)).toBeUndefined();
      expect(await store.getCertificate(1)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("refuses to create a store when asked not to ('missing')", async () => {
    await expectStoreError(BlockStore.open(home, net.genesis, { create: false }), 'missing');
  });
});

describe('BlockStore: append and read', () => {
  it('round-trips blocks, certificates, both indexes and the state', async () => {
    const store = await storeWith(chain.length);
    try {
      const last = at(chain.length - 1);
      expect(store.tip().height).toBe(chain.length);
      expect(toHex(store.tip().hash)).toBe(toHex(hashBlockHeader(last.block.header)));
      for (const [i, { block, qc }] of chain.entries()) {
        const height = i + 1;
        const stored = await store.getBlock(height);
        expect(stored).toBeDefined();
        expect(toHex(encodeBlock(stored!))).toBe(toHex(encodeBlock(block)));
        expect(toHex(encodeQuorumCertificate((await store.getCertificate(height))!))).toBe(toHex(encodeQuorumCertificate(qc)));
        const byHash = await store.getBlockByHash(hashBlockHeader(block.header));
        expect(byHash?.height).toBe(height);
        expect(toHex(hashBlockHeader(byHash!.block.header))).toBe(toHex(hashBlockHeader(block.header)));
        for (const [index, tx] of block.txs.entries()) {
          expect(await store.getTxLocation(hashTx(tx))).toEqual({ height, index });
        }
        expect(await store.getTxLocations(block.txs.map(hashTx))).toEqual(block.txs.map((_, index) => ({ height, index })));
      }
      expect(await store.getBlockByHash(new Uint8Array(32))).toBeUndefined();
      expect(await store.getTxLocation(new Uint8Array(32))).toBeUndefined();
      const state = await store.loadState();
      expect(toHex(state.root)).toBe(toHex(last.block.header.stateRoot));
      expect(toHex(state.root)).toBe(toHex(last.state.root));
    } finally {
      await store.close();
    }
  });

  it('iterates blocks in height order over a range', async () => {
    const store = await storeWith(chain.length);
    try {
      const heights = async (range: { from?: number; to?: number }) => {
        const out: number[] = [];
        for await (const { height, block } of store.iterateBlocks(range)) {
          expect(block.header.height).toBe(height);
          out.push(height);
        }
        return out;
      };
      expect(await heights({})).toEqual([1, 2, 3, 4]);
      expect(await heights({ from: 2, to: 3 })).toEqual([2, 3]);
      expect(await heights({ from: 3, to: 99 })).toEqual([3, 4]);
      expect(await heights({ from: 5 })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('reads certified blocks over a range as stored bytes, in order, stopping at the tip', async () => {
    const store = await storeWith(chain.length);
    try {
      const rows = await store.getCertifiedBlockBytes(2, 99);
      expect(rows).toHaveLength(3);
      rows.forEach((row, i) => {
        const { block, qc } = at(i + 1);
        expect(toHex(row.block)).toBe(toHex(encodeBlock(block)));
        expect(toHex(row.certificate)).toBe(toHex(encodeQuorumCertificate(qc)));
      });
      expect(await store.getCertifiedBlockBytes(1, 1)).toHaveLength(1);
      expect(await store.getCertifiedBlockBytes(5, 9)).toEqual([]);
      expect(await store.getCertifiedBlockBytes(3, 2)).toEqual([]);
      expect(await store.getCertifiedBlockBytes(0, 2)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('serialises appends issued without waiting', async () => {
    const store = await BlockStore.open(home, net.genesis);
    try {
      await Promise.all(chain.map(({ block, qc, writes }) => store.append(block, qc, writes)));
      expect(store.tip().height).toBe(chain.length);
    } finally {
      await store.close();
    }
  });

  it('unsynced appends: syncToDisk waits for them and reports the height made durable; close syncs too', async () => {
    const store = await BlockStore.open(home, net.genesis, { sync: false });
    const appends = chain.slice(0, 3).map(({ block, qc, writes }) => store.append(block, qc, writes));
    // Issued while appends are in flight: it covers them all, and a later append still lands.
    expect(await store.syncToDisk()).toBe(3);
    await Promise.all(appends);
    const later = store.append(at(3).block, at(3).qc, at(3).writes);
    const synced = store.syncToDisk();
    await later;
    expect(await synced).toBe(4);
    await store.close();
    await expect(store.syncToDisk()).rejects.toMatchObject({ code: 'closed' });
    const reopened = await BlockStore.open(home, net.genesis);
    try {
      expect(reopened.tip().height).toBe(4);
      expect(toHex((await reopened.loadState()).root)).toBe(toHex(at(3).state.root));
    } finally {
      await reopened.close();
    }
  });

  it('keeps everything across close and reopen, and appends on', async () => {
    const first = await storeWith(2);
    const tipBefore = first.tip();
    await first.close();
    const store = await BlockStore.open(home, net.genesis);
    try {
      expect(store.tip().height).toBe(2);
      expect(toHex(store.tip().hash)).toBe(toHex(tipBefore.hash));
      expect(toHex(encodeBlock((await store.getBlock(2))!))).toBe(toHex(encodeBlock(at(1).block)));
      expect(toHex((await store.loadState()).root)).toBe(toHex(at(1).state.root));
      await store.append(at(2).block, at(2).qc, at(2).writes);
      expect(store.tip().height).toBe(3);
    } finally {
      await store.close();
    }
  });
});

describe('BlockStore: refusals', () => {
  async function expectNothingWritten(store: BlockStore, height: number): Promise<void> {
    expect(store.tip().height).toBe(height);
    expect(await store.getBlock(height + 1)).toBeUndefined();
    expect(await store.getCertificate(height + 1)).toBeUndefined();
  }

  it("refuses a block that is not next ('not-next')", async () => {
    const store = await storeWith(1);
    try {
      const skip = await expectStoreError(store.append(at(2).block, at(2).qc, at(2).writes), 'not-next');
      expect(skip.message).toContain('block 3');
      // The same block again: append-only, block 1 is never rewritten.
      await expectStoreError(store.append(at(0).block, at(0).qc, at(0).writes), 'not-next');
      await expectNothingWritten(store, 1);
    } finally {
      await store.close();
    }
  });

  it("refuses a block that does not extend the tip ('bad-parent')", async () => {
    const store = await storeWith(1);
    try {
      const header = { ...at(1).block.header, parentHash: new Uint8Array(32).fill(7) };
      const block = { header, txs: at(1).block.txs };
      await expectStoreError(store.append(block, net.certify(header), at(1).writes), 'bad-parent');
      await expectNothingWritten(store, 1);
    } finally {
      await store.close();
    }
  });

  it("refuses a certificate for another block ('cert-mismatch')", async () => {
    const store = await storeWith(1);
    try {
      const { block, writes } = at(1);
      const forOtherHeight: QuorumCertificate = { ...at(1).qc, height: 3 };
      await expectStoreError(store.append(block, forOtherHeight, writes), 'cert-mismatch');
      const forOtherHash: QuorumCertificate = { ...at(1).qc, blockHash: hashBlockHeader(at(0).block.header) };
      await expectStoreError(store.append(block, forOtherHash, writes), 'cert-mismatch');
      await expectNothingWritten(store, 1);
    } finally {
      await store.close();
    }
  });

  it('writes appends accepted before close, and refuses those after', async () => {
    const store = await BlockStore.open(home, net.genesis);
    const accepted = chain.slice(0, 3).map(({ block, qc, writes }) => store.append(block, qc, writes));
    const closing = store.close();
    await expectStoreError(store.append(at(3).block, at(3).qc, at(3).writes), 'closed');
    await Promise.all([...accepted, closing]);
    const reopened = await BlockStore.open(home, net.genesis);
    try {
      expect(reopened.tip().height).toBe(3);
    } finally {
      await reopened.close();
    }
  });

  it("refuses everything once closed ('closed')", async () => {
    const store = await storeWith(1);
    await store.close();
    await store.close(); // idempotent
    await expectStoreError(store.append(at(1).block, at(1).qc, at(1).writes), 'closed');
    await expectStoreError(store.getBlock(1), 'closed');
    await expectStoreError(store.loadState(), 'closed');
    await expectStoreError(store.wal.append([utf8('x')]), 'closed');
  });

  it("refuses a store of another chain ('foreign-chain'), naming both genesis hashes", async () => {
    await (await storeWith(1)).close();
    const other = makeTestnet({ chainId: 'other-chain' });
    const error = await expectStoreError(BlockStore.open(home, other.genesis), 'foreign-chain');
    expect(error.message).toContain(toHex(genesisHash(net.genesis)));
    expect(error.message).toContain(toHex(genesisHash(other.genesis)));
    // The refused open released the lock: the right genesis opens it.
    await (await BlockStore.open(home, net.genesis)).close();
  });
});

describe('BlockStore: corruption', () => {
  it("refuses a tip block whose bytes were overwritten ('corrupt')", async () => {
    await (await storeWith(3)).close();
    await withRawDb(home, (db) => sub(db, 'block').put(u64Key(3), utf8('not a block')));
    const error = await expectStoreError(BlockStore.open(home, net.genesis), 'corrupt');
    expect(error.message).toContain('tip block 3');
    expect(error.message).toContain('does not decode');
  });

  it("refuses a tip block replaced by another valid block ('corrupt')", async () => {
    await (await storeWith(3)).close();
    await withRawDb(home, (db) => sub(db, 'block').put(u64Key(3), encodeBlock(at(1).block)));
    const error = await expectStoreError(BlockStore.open(home, net.genesis), 'corrupt');
    expect(error.message).toContain('tip block 3');
  });

  it("refuses a tip certificate with a forged signature ('corrupt')", async () => {
    await (await storeWith(3)).close();
    const qc = at(2).qc;
    const first = qc.signatures[0]!;
    const forged = Uint8Array.from(first.signature);
    forged[0] = (forged[0] ?? 0) ^ 0xff;
    const bad: QuorumCertificate = { ...qc, signatures: [{ ...first, signature: forged }, ...qc.signatures.slice(1)] };
    await withRawDb(home, (db) => sub(db, 'cert').put(u64Key(3), encodeQuorumCertificate(bad)));
    const error = await expectStoreError(BlockStore.open(home, net.genesis), 'corrupt');
    expect(error.message).toContain('tip block 3');
    expect(error.message).toContain('certificate does not verify');
  });

  it("refuses a tip certificate signed by too few validators ('corrupt')", async () => {
    await (await storeWith(2)).close();
    const weak = net.certify(at(1).block.header, [0, 1]);
    await withRawDb(home, (db) => sub(db, 'cert').put(u64Key(2), encodeQuorumCertificate(weak)));
    const error = await expectStoreError(BlockStore.open(home, net.genesis), 'corrupt');
    expect(error.message).toContain('certificate does not verify');
  });

  it("refuses a missing tip certificate ('corrupt')", async () => {
    await (await storeWith(2)).close();
    await withRawDb(home, (db) => sub(db, 'cert').del(u64Key(2)));
    const error = await expectStoreError(BlockStore.open(home, net.genesis), 'corrupt');
    expect(error.message).toContain('certificate is missing');
  });

  it("loadState refuses a state entry changed behind its back ('corrupt')", async () => {
    await (await storeWith(2)).close();
    await withRawDb(home, async (db) => {
      const state = sub(db, 'state');
      const [key] = await state.keys({ limit: 1 }).all();
      await state.put(key!, utf8('tampered'));
    });
    const store = await BlockStore.open(home, net.genesis);
    try {
      const error = await expectStoreError(store.loadState(), 'corrupt');
      expect(error.message).toContain('block 2');
    } finally {
      await store.close();
    }
  });

  it('stores each block under its own key and never rewrites (row counts match the height)', async () => {
    await (await storeWith(4)).close();
    await withRawDb(home, async (db) => {
      expect((await sub(db, 'block').keys().all()).length).toBe(4);
      expect((await sub(db, 'cert').keys().all()).length).toBe(4);
      expect((await sub(db, 'block-hash').keys().all()).length).toBe(4);
      expect((await sub(db, 'tx').keys().all()).length).toBe(4 * 5);
    });
  });
});

describe('BlockStore: one process per home', () => {
  it("refuses a second handle in this process with the exact 'in-use' message", async () => {
    const store = await BlockStore.open(home, net.genesis);
    try {
      const error = await expectStoreError(BlockStore.open(home, net.genesis), 'in-use');
      expect(error.message).toBe(`node home ${home} is in use by another process`);
    } finally {
      await store.close();
    }
  });

  it("refuses while another process holds the home, with the exact 'in-use' message", async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'hold-store.ts'), home], {
      cwd: join(import.meta.dirname, '..', '..'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`child exited (${code}) before opening the store: ${stderr}`)));
      });
      const error = await expectStoreError(BlockStore.open(home, net.genesis), 'in-use');
      expect(error.message).toBe(`node home ${home} is in use by another process`);
    } finally {
      child.stdin.end();
      expect(await exited).toBe(0);
    }
    // Once the other process is gone, the home opens.
    await (await BlockStore.open(home, net.genesis)).close();
  });
});

describe('ConsensusWal', () => {
  it('appends, reads back in order, truncates, and survives reopen without reusing numbers', async () => {
    let store = await BlockStore.open(home, net.genesis);
    const entries = ['a', 'bb', 'ccc', 'dddd', 'eeeee'].map(utf8);
    expect(await store.wal.append(entries.slice(0, 2))).toBe(0);
    expect(await store.wal.append(entries.slice(2))).toBe(2);
    expect(await store.wal.append([])).toBe(5);
    const all = await store.wal.readAll();
    expect(all.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(all.every((e, i) => bytesEqual(e.bytes, entries[i]!))).toBe(true);

    await store.wal.truncateBelow(3);
    expect((await store.wal.readAll()).map((e) => e.seq)).toEqual([3, 4]);
    await store.close();

    store = await BlockStore.open(home, net.genesis);
    expect((await store.wal.readAll()).map((e) => e.seq)).toEqual([3, 4]);
    expect(store.wal.nextSequence).toBe(5);
    // Truncating everything, then reopening: numbering continues.
    await store.wal.truncateBelow(5);
    expect(await store.wal.readAll()).toEqual([]);
    await store.close();

    store = await BlockStore.open(home, net.genesis);
    try {
      expect(await store.wal.append([utf8('after')])).toBe(5);
      const [only] = await store.wal.readAll();
      expect(only?.seq).toBe(5);
      expect(Buffer.from(only!.bytes).toString()).toBe('after');
    } finally {
      await store.close();
    }
  });

  it('keeps WAL entries and blocks apart', async () => {
    const store = await storeWith(2);
    try {
      await store.wal.append([utf8('vote')]);
      expect((await store.wal.readAll()).length).toBe(1);
      expect(store.tip().height).toBe(2);
      await store.wal.truncateBelow(1);
      expect(await store.getBlock(1)).toBeDefined();
    } finally {
      await store.close();
    }
  });
});
