/**
 * The store's read indexes: header rows (headers without loading blocks) and the sender
 * index (a sender's txs in chain order, read without decoding whole blocks), both written
 * in the block's append batch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBlockHeader } from '../../src/codec/block.js';
import { toHex } from '../../src/crypto/index.js';
import { hashTx, senderAddress } from '../../src/ledger/tx.js';
import { BlockStore, StoreError, type SenderTxRef } from '../../src/store/index.js';
import { u32Bytes } from '../../src/store/layout.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { buildChain } from './chain.js';

const net = makeTestnet({ accounts: 3 });
// 6 blocks of 4 transfers from 3 rotating senders: each sender has txs in most blocks, some twice in one block.
const chain = buildChain(net, 6, 4);

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'ledger-store-idx-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function storeWith(blocks: number): Promise<BlockStore> {
  const store = await BlockStore.open(home, net.genesis);
  for (const c of chain.slice(0, blocks)) await store.append(c.block, c.qc, c.writes);
  return store;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Where each of `sender`'s txs is, straight from the blocks. */
function expectedLocations(sender: string, from = 1, to = chain.length): { height: number; index: number }[] {
  const out: { height: number; index: number }[] = [];
  chain.forEach(({ block }, i) => {
    const height = i + 1;
    if (height < from || height > to) return;
    block.txs.forEach((tx, index) => {
      if (senderAddress(tx) === sender) out.push({ height, index });
    });
  });
  return out;
}

const locationOf = (r: SenderTxRef): { height: number; index: number } => ({ height: r.height, index: r.index });

describe('BlockStore: header rows', () => {
  it('holds every block header, and iterates them in either order, clamped to the tip', async () => {
    const store = await storeWith(chain.length);
    try {
      for (const [i, { block }] of chain.entries()) {
        const header = await store.getHeader(i + 1);
        expect(toHex(encodeBlockHeader(header!))).toBe(toHex(encodeBlockHeader(block.header)));
      }
      expect(await store.getHeader(0)).toBeUndefined();
      expect(await store.getHeader(chain.length + 1)).toBeUndefined();
      const up = await collect(store.iterateHeaders({ from: 2, to: 4 }));
      expect(up.map((h) => h.height)).toEqual([2, 3, 4]);
      expect(up.map((h) => h.header.height)).toEqual([2, 3, 4]);
      const down = await collect(store.iterateHeaders({ from: 0, to: 1_000, reverse: true }));
      expect(down.map((h) => h.height)).toEqual([6, 5, 4, 3, 2, 1]);
      expect(await collect(store.iterateHeaders({ from: 5, to: 4 }))).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('BlockStore: the sender index', () => {
  it("lists each sender's txs in chain order, and reads exactly those txs back", async () => {
    const store = await storeWith(chain.length);
    try {
      for (const sender of net.addresses) {
        const refs = await collect(store.iterateSenderTxs(sender));
        const expected = expectedLocations(sender);
        expect(expected.length).toBeGreaterThan(2);
        expect(refs.map(locationOf)).toEqual(expected);
        const txs = await store.getTxsByRef(refs);
        expect(txs.map((tx) => toHex(hashTx(tx)))).toEqual(
          expected.map(({ height, index }) => toHex(hashTx(chain[height - 1]!.block.txs[index]!))),
        );
        expect(txs.every((tx) => senderAddress(tx) === sender)).toBe(true);
      }
    } finally {
      await store.close();
    }
  });

  it('honours the height range and the reverse order', async () => {
    const store = await storeWith(chain.length);
    try {
      const sender = net.addresses[1]!;
      const ranged = await collect(store.iterateSenderTxs(sender, { from: 2, to: 4 }));
      expect(ranged.map(locationOf)).toEqual(expectedLocations(sender, 2, 4));
      const reversed = await collect(store.iterateSenderTxs(sender, { reverse: true }));
      expect(reversed.map(locationOf)).toEqual(expectedLocations(sender).reverse());
      // Beyond the tip nothing is listed, and an address that never sent has no entries.
      expect(await collect(store.iterateSenderTxs(sender, { from: 7 }))).toEqual([]);
      expect(await collect(store.iterateSenderTxs('ab'.repeat(20)))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('lists every committed tx under exactly one sender', async () => {
    // Keys are address || height || index: a range for one address must not reach the next.
    const store = await storeWith(chain.length);
    try {
      const total = (await Promise.all(net.addresses.map((a) => collect(store.iterateSenderTxs(a))))).reduce((n, refs) => n + refs.length, 0);
      expect(total).toBe(chain.reduce((n, c) => n + c.block.txs.length, 0));
    } finally {
      await store.close();
    }
  });

  it('is written in the append batch: a refused append leaves no entries, and entries survive reopen', async () => {
    let store = await storeWith(2);
    const sender = net.addresses[0]!;
    try {
      await expect(store.append(chain[3]!.block, chain[3]!.qc, chain[3]!.writes)).rejects.toBeInstanceOf(StoreError);
      expect((await collect(store.iterateSenderTxs(sender))).map(locationOf)).toEqual(expectedLocations(sender, 1, 2));
      expect(await store.getHeader(4)).toBeUndefined();
    } finally {
      await store.close();
    }
    store = await BlockStore.open(home, net.genesis);
    try {
      for (const c of chain.slice(2)) await store.append(c.block, c.qc, c.writes);
      expect((await collect(store.iterateSenderTxs(sender))).map(locationOf)).toEqual(expectedLocations(sender));
    } finally {
      await store.close();
    }
  });
});

describe('BlockStore: layout version', () => {
  it('refuses a version 1 store (it has no header or sender rows), naming both versions', async () => {
    const store = await storeWith(1);
    await store.close();
    const db = new Level<Uint8Array, Uint8Array>(join(home, 'data'), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    await db.sublevel<Uint8Array, Uint8Array>('meta', { keyEncoding: 'view', valueEncoding: 'view' }).put(new Uint8Array(Buffer.from('format')), u32Bytes(1));
    await db.close();
    const error = await BlockStore.open(home, net.genesis).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('corrupt');
    expect((error as StoreError).message).toMatch(/format version 1; this node reads version 2/);
  });
});
