/**
 * `npm run bench:crypto`: the cost of the primitives every tx and vote pays.
 *
 * - Ed25519 sign and verify: the node (OpenSSL) engine the ledger uses against the noble
 *   reference it is cross-checked with;
 * - SHA-256 of 32 B (a Merkle node), 200 B (about one tx) and 1 KiB: node vs noble;
 * - the codec on a 1,000-tx block: encoding fresh txs (nothing cached), re-encoding txs
 *   whose encodings are cached (as a proposer does with mempool txs), and decoding.
 *
 * Each figure is the best of a few timed rounds within a fixed time budget, so one stall
 * on a shared machine does not skew it. Prints a table and, last, one JSON line. ~10 s.
 */
import { performance } from 'node:perf_hooks';
import { decodeBlock, encodeBlock } from '../src/codec/block.js';
import { encodeUnsignedTx } from '../src/codec/tx.js';
import type { Block, Tx } from '../src/codec/types.js';
import { addressOf, keyPairFromSeed, reference, sha256, sha256Reference, sign, signRaw, utf8, verifyRaw } from '../src/crypto/index.js';

const ROUND_MS = 100;
const BUDGET_MS = 600;
const BLOCK_TXS = 1_000;

interface Figure {
  readonly name: string;
  readonly opsPerSecond: number;
}

/**
 * Calls `op(i)` in rounds of ~ROUND_MS until BUDGET_MS is spent; returns the best
 * round's rate. One warm-up round first lets the JIT settle.
 */
function measure(name: string, op: (i: number) => unknown, budgetMs = BUDGET_MS): Figure {
  let i = 0;
  const warmUntil = performance.now() + ROUND_MS;
  while (performance.now() < warmUntil) op(i++);
  let best = 0;
  const end = performance.now() + budgetMs;
  while (performance.now() < end) {
    const start = performance.now();
    let n = 0;
    let elapsed = 0;
    do {
      op(i++);
      n++;
      elapsed = performance.now() - start;
    } while (elapsed < ROUND_MS);
    best = Math.max(best, (n * 1000) / elapsed);
  }
  return { name, opsPerSecond: best };
}

/** Like `measure`, for slow ops that need fresh input: only `op` is timed, rounds of 10 ops. */
function measureWithSetup<T>(name: string, setup: () => T, op: (input: T) => unknown, budgetMs = BUDGET_MS): Figure {
  const timeOne = (): number => {
    const input = setup();
    const start = performance.now();
    op(input);
    return performance.now() - start;
  };
  for (let i = 0; i < 5; i++) timeOne();
  let best = 0;
  const end = performance.now() + budgetMs;
  while (performance.now() < end) {
    let elapsed = 0;
    for (let i = 0; i < 10; i++) elapsed += timeOne();
    best = Math.max(best, (10 * 1000) / elapsed);
  }
  return { name, opsPerSecond: best };
}

function bytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 31 + fill) & 0xff);
}

// ---------------------------------------------------------------------------------------
// Ed25519

const keyPair = keyPairFromSeed(bytes(32, 1));
const messages = Array.from({ length: 256 }, (_, i) => bytes(120, i)); // about a tx's signed bytes
const signatures = messages.map((m) => signRaw(keyPair, m));
const at = (i: number): number => i & 255;

const ed25519 = [
  measure('ed25519 sign (node)', (i) => signRaw(keyPair, messages[at(i)] as Uint8Array)),
  measure('ed25519 sign (noble)', (i) => reference.sign(keyPair, messages[at(i)] as Uint8Array)),
  measure('ed25519 verify (node)', (i) => verifyRaw(keyPair.publicKey, messages[at(i)] as Uint8Array, signatures[at(i)] as Uint8Array)),
  measure('ed25519 verify (noble)', (i) => reference.verify(keyPair.publicKey, messages[at(i)] as Uint8Array, signatures[at(i)] as Uint8Array)),
];

// ---------------------------------------------------------------------------------------
// SHA-256

const hashing: Figure[] = [];
for (const size of [32, 200, 1024]) {
  const inputs = Array.from({ length: 64 }, (_, i) => bytes(size, i));
  hashing.push(measure(`sha256 ${size} B (node)`, (i) => sha256(inputs[i & 63] as Uint8Array), 400));
  hashing.push(measure(`sha256 ${size} B (noble)`, (i) => sha256Reference(inputs[i & 63] as Uint8Array), 400));
}

// ---------------------------------------------------------------------------------------
// Codec: a block of signed txs, 9 transfers to 1 put of a 64-byte value.

const CHAIN_ID = 'bench-chain';
const senders = Array.from({ length: 50 }, (_, i) => keyPairFromSeed(sha256(utf8(`bench/sender/${i}`))));

function signedTx(i: number): Tx {
  const sender = senders[i % senders.length] as (typeof senders)[number];
  const body: Tx['body'] =
    i % 10 === 9
      ? { kind: 'put', key: `record/${i}`, value: bytes(64, i) }
      : { kind: 'transfer', to: addressOf((senders[(i + 1) % senders.length] as (typeof senders)[number]).publicKey), amount: BigInt(1 + i) };
  const unsigned = { chainId: CHAIN_ID, sender: sender.publicKey, nonce: BigInt(i), body };
  return { ...unsigned, signature: sign(sender, 'tx', CHAIN_ID, encodeUnsignedTx(unsigned)) };
}

const txs = Array.from({ length: BLOCK_TXS }, (_, i) => signedTx(i));
const block: Block = {
  header: {
    chainId: CHAIN_ID,
    height: 1,
    parentHash: bytes(32, 7),
    view: 0,
    proposer: 0,
    timestamp: 1_700_000_000_000,
    txCount: txs.length,
    txRoot: bytes(32, 8),
    stateRoot: bytes(32, 9),
  },
  txs,
};
const encoded = encodeBlock(block);
const blockBytes = encoded.length;

const decoded = decodeBlock(encoded);
if (!decoded.ok || !Buffer.from(encodeBlock(decoded.value)).equals(encoded)) throw new Error('codec round trip failed');

const codec = [
  // Fresh tx objects carry no cached encoding, so each op gets a new copy of the block,
  // made outside the timed part.
  measureWithSetup('codec encode 1,000-tx block (fresh txs)', () => ({ header: block.header, txs: txs.map((t) => ({ ...t })) }), encodeBlock),
  measure('codec encode 1,000-tx block (cached txs)', () => encodeBlock(block), 400),
  measure('codec decode 1,000-tx block', () => decodeBlock(encoded), 400),
];

// ---------------------------------------------------------------------------------------
// Report

const rows = [...ed25519, ...hashing, ...codec];
const width = Math.max(...rows.map((r) => r.name.length));
const format = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`${'operation'.padEnd(width)}  ${'ops/s'.padStart(12)}  ${'us/op'.padStart(9)}`);
for (const r of rows) {
  console.log(`${r.name.padEnd(width)}  ${format(r.opsPerSecond).padStart(12)}  ${(1e6 / r.opsPerSecond).toFixed(2).padStart(9)}`);
}
const ratio = (a: Figure | undefined, b: Figure | undefined): number => Number(((a?.opsPerSecond ?? 0) / (b?.opsPerSecond ?? 1)).toFixed(1));
console.log(`node/noble: sign ${ratio(ed25519[0], ed25519[1])}x, verify ${ratio(ed25519[2], ed25519[3])}x; block of ${BLOCK_TXS} txs = ${blockBytes} bytes`);
console.log(
  JSON.stringify({
    bench: 'crypto',
    opsPerSecond: Object.fromEntries(rows.map((r) => [r.name, Math.round(r.opsPerSecond)])),
    blockTxs: BLOCK_TXS,
    blockBytes,
    txsPerSecond: {
      encodeFresh: Math.round((codec[0]?.opsPerSecond ?? 0) * BLOCK_TXS),
      encodeCached: Math.round((codec[1]?.opsPerSecond ?? 0) * BLOCK_TXS),
      decode: Math.round((codec[2]?.opsPerSecond ?? 0) * BLOCK_TXS),
    },
  }),
);
