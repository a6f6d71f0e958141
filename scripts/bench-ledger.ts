/**
 * `npm run bench:ledger`: how fast the ledger executes and the store persists full blocks.
 *
 *   1. pre-sign ACCOUNTS x BLOCKS transfers (every account sends one tx per block);
 *   2. build the chain with buildBlock (the proposer's path);
 *   3. executeBlock on each block, decoded afresh from its bytes as a replica receives it
 *      (so tx hashing is included): (a) signatures skipped through the alreadyVerified hook,
 *      as when the mempool has verified them, and (b) with every signature verified;
 *   4. append each block with its certificate and state writes to a real LevelDB (fsync'ed
 *      batches, as the node does), then measure the bytes on disk per tx.
 *
 * Prints a table and, last, one JSON line with the figures. Runs in well under a minute.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Level } from 'level';
import { decodeBlock, encodeBlock } from '../src/codec/block.js';
import { encodeVotePayload } from '../src/codec/consensus.js';
import type { Block, QuorumCertificate, Tx } from '../src/codec/types.js';
import { addressOf, keyPairFromSeed, makeVerifier, sha256, sign, toHex, utf8, type KeyPair } from '../src/crypto/index.js';
import { hashBlockHeader } from '../src/ledger/block.js';
import { buildBlock, executeBlock, executionContext, type ExecutedBlock, type ParentLink } from '../src/ledger/execute.js';
import { genesisFromJson, genesisHash, genesisState } from '../src/ledger/genesis.js';
import { quorumSize } from '../src/ledger/quorum.js';
import type { LedgerState } from '../src/ledger/state.js';
import { signTx } from '../src/ledger/tx.js';
import { BlockStore } from '../src/store/index.js';

const ACCOUNTS = 10_000;
const BLOCKS = 5;
const VALIDATORS = 4;
const CHAIN_ID = 'bench';

function key(label: string, i: number): KeyPair {
  return keyPairFromSeed(sha256(utf8(`bench/${label}/${i}`)));
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await dirBytes(path) : (await stat(path)).size;
  }
  return total;
}

const rows: [string, string][] = [];
function report(label: string, value: string): void {
  rows.push([label, value]);
  process.stderr.write(`  ${label}: ${value}\n`);
}

// ---- setup -------------------------------------------------------------------------
let t = performance.now();
const validators = Array.from({ length: VALIDATORS }, (_, i) => key('validator', i));
const accounts = Array.from({ length: ACCOUNTS }, (_, i) => key('account', i));
const addresses = accounts.map((k) => addressOf(k.publicKey));
const parsed = genesisFromJson({
  chainId: CHAIN_ID,
  genesisTime: 1_767_225_600_000,
  validators: validators.map((k, i) => ({ name: `v${i}`, publicKey: toHex(k.publicKey), p2p: `/ip4/127.0.0.1/tcp/${26656 + 10 * i}` })),
  accounts: addresses.map((address) => ({ address, balance: '1000000000', canTransact: true })),
  consensus: { maxBlockTxs: ACCOUNTS },
});
if (!parsed.ok) throw new Error(parsed.error.message);
const genesis = parsed.value;
const verifier = makeVerifier(CHAIN_ID);
const trusting = executionContext(genesis, verifier, { alreadyVerified: () => true, noteVerified: () => {} });
const checking = executionContext(genesis, verifier);
process.stderr.write(`setup: ${ACCOUNTS} accounts, ${VALIDATORS} validators in ${seconds(t).toFixed(2)} s\n`);

// ---- 1. pre-sign ---------------------------------------------------------------------
t = performance.now();
const txsByBlock: Tx[][] = [];
for (let b = 0; b < BLOCKS; b++) {
  const txs: Tx[] = new Array<Tx>(ACCOUNTS);
  for (let i = 0; i < ACCOUNTS; i++) {
    const from = accounts[i] as KeyPair;
    const body = { kind: 'transfer' as const, to: addresses[(i + 1) % ACCOUNTS] as string, amount: BigInt(1 + b) };
    txs[i] = signTx({ chainId: CHAIN_ID, sender: from.publicKey, nonce: BigInt(b), body }, from);
  }
  txsByBlock.push(txs);
}
const signRate = (BLOCKS * ACCOUNTS) / seconds(t);
report('tx signing', `${Math.round(signRate)} tx/s`);

// ---- 2. build the chain -----------------------------------------------------------------
function certify(block: Block): QuorumCertificate {
  const blockHash = hashBlockHeader(block.header);
  const payload = encodeVotePayload({ view: block.header.view, height: block.header.height, blockHash });
  const signers = Array.from({ length: quorumSize(VALIDATORS) }, (_, i) => i);
  return {
    view: block.header.view,
    height: block.header.height,
    blockHash,
    signatures: signers.map((validator) => ({ validator, signature: sign(validators[validator] as KeyPair, 'commit', CHAIN_ID, payload) })),
  };
}

t = performance.now();
const parents: LedgerState[] = [];
const blocks: Block[] = [];
const executedBlocks: ExecutedBlock[] = [];
let state = genesisState(genesis);
let parent: ParentLink = { height: 0, hash: genesisHash(genesis), timestamp: genesis.genesisTime };
for (const txs of txsByBlock) {
  const fields = { chainId: CHAIN_ID, height: parent.height + 1, parentHash: parent.hash, view: 0, proposer: 0, timestamp: parent.timestamp + 1000 };
  const built = buildBlock(state, txs, fields, trusting);
  if (built.block.txs.length !== ACCOUNTS) throw new Error(`block ${fields.height}: only ${built.block.txs.length} txs built`);
  parents.push(state);
  blocks.push(built.block);
  executedBlocks.push(built.executed);
  state = built.executed.state;
  parent = { height: fields.height, hash: hashBlockHeader(built.block.header), timestamp: fields.timestamp };
}
const buildRate = (BLOCKS * ACCOUNTS) / seconds(t);
report('buildBlock (signatures pre-verified)', `${Math.round(buildRate)} tx/s`);
const certificates = blocks.map(certify);
const encoded = blocks.map(encodeBlock);
const blockBytes = encoded.reduce((n, b) => n + b.length, 0) / BLOCKS;
report('encoded block size', `${(blockBytes / 1024 / 1024).toFixed(2)} MiB (${Math.round(blockBytes / ACCOUNTS)} B/tx)`);

// ---- 3. execute -----------------------------------------------------------------------
function decodeAll(): Block[] {
  return encoded.map((bytes) => {
    const decoded = decodeBlock(bytes);
    if (!decoded.ok) throw new Error(decoded.error.message);
    return decoded.value;
  });
}

t = performance.now();
let fresh = decodeAll();
const decodeRate = (BLOCKS * ACCOUNTS) / seconds(t);
report('decodeBlock', `${Math.round(decodeRate)} tx/s`);

function executeAll(label: string, ctx: typeof trusting): number {
  let elapsed = 0;
  fresh.forEach((block, b) => {
    const start = performance.now();
    const executed = executeBlock(parents[b] as LedgerState, block, ctx);
    elapsed += performance.now() - start;
    if (!executed.ok) throw new Error(`${label}: block ${b + 1}: ${executed.error.message}`);
  });
  return (BLOCKS * ACCOUNTS) / (elapsed / 1000);
}

const executeTrusting = executeAll('trusting', trusting);
report('executeBlock, signatures skipped (alreadyVerified)', `${Math.round(executeTrusting)} tx/s`);
fresh = decodeAll();
const executeChecking = executeAll('checking', checking);
report('executeBlock, every signature verified', `${Math.round(executeChecking)} tx/s`);

// ---- 4. append to LevelDB --------------------------------------------------------------
const home = await mkdtemp(join(tmpdir(), 'bench-ledger-'));
try {
  const store = await BlockStore.open(home, genesis);
  const genesisBytes = await dirBytes(join(home, 'data'));
  t = performance.now();
  for (let b = 0; b < BLOCKS; b++) {
    await store.append(blocks[b] as Block, certificates[b] as QuorumCertificate, (executedBlocks[b] as ExecutedBlock).writes);
  }
  const appendSeconds = seconds(t);
  const blocksPerSecond = BLOCKS / appendSeconds;
  report('append (fsync, block + cert + indexes + state)', `${blocksPerSecond.toFixed(2)} blocks/s = ${Math.round(blocksPerSecond * ACCOUNTS)} tx/s`);
  await store.close();
  const bytesPerTx = ((await dirBytes(join(home, 'data'))) - genesisBytes) / (BLOCKS * ACCOUNTS);
  report('bytes on disk per tx (after close)', bytesPerTx.toFixed(1));
  // LevelDB keeps overwritten state values and its own log until compaction; a full
  // compaction shows the steady-state footprint.
  const raw = new Level<Uint8Array, Uint8Array>(join(home, 'data'), { keyEncoding: 'view', valueEncoding: 'view' });
  await raw.open();
  // compactRange is classic-level's (Node) addition; the universal `level` typings omit it.
  const compactable = raw as unknown as { compactRange(start: Uint8Array, end: Uint8Array): Promise<void> };
  await compactable.compactRange(new Uint8Array([0]), new Uint8Array(64).fill(0xff));
  await raw.close();
  const compactedPerTx = ((await dirBytes(join(home, 'data'))) - genesisBytes) / (BLOCKS * ACCOUNTS);
  report('bytes on disk per tx (after full compaction)', compactedPerTx.toFixed(1));

  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`\nledger benchmark: ${BLOCKS} blocks x ${ACCOUNTS} transfers, ${VALIDATORS} validators\n`);
  for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ledger',
      blocks: BLOCKS,
      txsPerBlock: ACCOUNTS,
      signTxPerSec: Math.round(signRate),
      buildTxPerSec: Math.round(buildRate),
      decodeTxPerSec: Math.round(decodeRate),
      executeTxPerSecSkipVerify: Math.round(executeTrusting),
      executeTxPerSecVerify: Math.round(executeChecking),
      appendBlocksPerSec: Number(blocksPerSecond.toFixed(2)),
      appendTxPerSec: Math.round(blocksPerSecond * ACCOUNTS),
      blockBytesPerTx: Math.round(blockBytes / ACCOUNTS),
      diskBytesPerTx: Number(bytesPerTx.toFixed(1)),
      diskBytesPerTxCompacted: Number(compactedPerTx.toFixed(1)),
    })}\n`,
  );
} finally {
  await rm(home, { recursive: true, force: true });
}
