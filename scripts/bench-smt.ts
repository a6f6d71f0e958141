/**
 * State tree and tx root measurements: `npx tsx scripts/bench-smt.ts` (~15 s on 2 cores).
 *
 * For trees of 100,000 and 1,000,000 entries shaped like the ledger's accounts (21-byte
 * keys, 18-byte values):
 * - fromEntries (as a restarting node loads its state; it hashes as it builds, so the
 *   root comes for free afterwards);
 * - 20,000 sets (half overwrite an existing key, half add a new one), reading the root
 *   every 10,000, as a block's execution does once per block;
 * - 20,000 gets of existing keys;
 * - the heap the tree holds.
 * Then merkleRoot over a full block of 20,000 tx hashes.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sha256 } from '../src/crypto/hash.js';
import { merkleRoot } from '../src/ledger/merkle.js';
import { SparseMerkleTree } from '../src/ledger/smt.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const UPDATES = 20_000;
const ROOT_EVERY = 10_000;

/** Account-like key i: 0x01 || 20 bytes. Deterministic, so the update phase can find existing keys. */
function accountKey(i: number): Uint8Array {
  const key = new Uint8Array(21);
  key[0] = 0x01;
  new DataView(key.buffer).setUint32(1, i);
  key[20] = 0x5a;
  return key;
}

function accountValue(i: number): Uint8Array {
  const value = new Uint8Array(18);
  new DataView(value.buffer).setUint32(4, i);
  return value;
}

function* accounts(n: number): Generator<[Uint8Array, Uint8Array]> {
  for (let i = 0; i < n; i++) yield [accountKey(i), accountValue(i)];
}

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const int = (x: number): string => Math.round(x).toLocaleString('en');

function bench(n: number): void {
  const before = heapUsed();
  let t = performance.now();
  let tree = SparseMerkleTree.fromEntries(accounts(n));
  const buildMs = performance.now() - t;
  t = performance.now();
  void tree.root;
  const rootMs = performance.now() - t;
  const held = heapUsed() - before;

  t = performance.now();
  for (let i = 1; i <= UPDATES; i++) {
    const key = i % 2 === 0 ? accountKey((i * 7919) % n) : accountKey(n + i);
    tree = tree.set(key, accountValue(i));
    if (i % ROOT_EVERY === 0) void tree.root;
  }
  const setMs = performance.now() - t;

  t = performance.now();
  let found = 0;
  for (let i = 0; i < UPDATES; i++) if (tree.get(accountKey((i * 104_729) % n)) !== undefined) found++;
  const getMs = performance.now() - t;
  if (found !== UPDATES) throw new Error('bench: a key went missing');

  console.log(`n = ${int(n)}`);
  console.log(`  fromEntries        ${int(buildMs)} ms (then root: ${rootMs.toFixed(1)} ms)`);
  console.log(`  ${int(UPDATES)} sets, root every ${int(ROOT_EVERY)}: ${int(setMs)} ms = ${int((UPDATES / setMs) * 1000)} sets/s`);
  console.log(`  ${int(UPDATES)} gets: ${int(getMs)} ms = ${int((UPDATES / getMs) * 1000)} gets/s`);
  console.log(`  tree heap          ${mb(held)} = ${int(held / n)} B/entry; heap used ${mb(heapUsed())}, rss ${mb(process.memoryUsage().rss)} (size ${int(tree.size)})`);
}

bench(100_000);
bench(1_000_000);

const txHashes = Array.from({ length: 20_000 }, (_, i) => sha256(accountKey(i)));
merkleRoot(txHashes);
const runs = 10;
const t = performance.now();
for (let i = 0; i < runs; i++) merkleRoot(txHashes);
console.log(`merkleRoot of 20,000 tx hashes: ${((performance.now() - t) / runs).toFixed(1)} ms`);
