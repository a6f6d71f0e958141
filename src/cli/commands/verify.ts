import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError, type Command } from 'commander';
import type { Block } from '../../codec/types.js';
import { bytesEqual, makeVerifier, toHex, type Hash, type Verifier } from '../../crypto/index.js';
import { computeTxRoot, hashBlockHeader, verifyQuorumCertificate } from '../../ledger/block.js';
import { applyTx, checkHeaderLinks, executeBlock, executionContext, type ParentLink } from '../../ledger/execute.js';
import { genesisHash, genesisState, parseGenesis, validatorKeys, type Genesis } from '../../ledger/genesis.js';
import type { LedgerState } from '../../ledger/state.js';
import { loadNodeConfig, resolveConfigPaths } from '../../node/config.js';
import { BlockStore } from '../../store/index.js';
import { CliError } from '../errors.js';
import { cliPath, type CliIo } from '../io.js';
import { progress } from './progress.js';

/**
 * `ledgerctl verify --home DIR`: trusts nothing in the store. From the genesis state it
 * re-checks every block's height, parent link, timestamp, tx root, certificate (against
 * the genesis validators) and index entries, re-executes it (signatures included) and
 * compares the state root, then compares the stored state with the executed one. It
 * takes the store's lock, so it refuses to run beside a live node.
 */
export function registerVerifyCommand(program: Command, io: CliIo): void {
  program
    .command('verify')
    .description("re-verify a node's stored chain from genesis (stop the node first)")
    .requiredOption('--home <dir>', 'the node home')
    .option('--progress-every <n>', 'when stderr is not a terminal: a progress line every N blocks', parseCount, 1000)
    .action(async (options: { home: string; progressEvery: number }) => {
      await verifyHome(io, options.home, options.progressEvery);
    });
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('Expected a whole number from 1.');
  return n;
}

export interface ChainSummary {
  readonly blocks: number;
  readonly txs: number;
  readonly tipHeight: number;
  readonly tipHash: Hash;
  readonly stateRoot: Hash;
}

async function verifyHome(io: CliIo, homeArg: string, progressEvery: number): Promise<void> {
  const home = cliPath(io, homeArg);
  const config = await loadNodeConfig(home);
  if (!config.ok) throw new CliError(config.error.message);
  const paths = resolveConfigPaths(home, config.value);
  const genesis = await readGenesis(paths.genesisFile);
  const started = performance.now();
  // The home is named as the user gave it, so an 'in-use' refusal reads back their path.
  const store = await BlockStore.open(homeArg, genesis, { dataDir: paths.dataDir, create: false });
  let summary: ChainSummary;
  const bar = progress(io, store.tip().height, { unit: 'blocks', label: 'verified', every: progressEvery });
  try {
    summary = await verifyStoredChain(store, genesis, makeVerifier(genesis.chainId), (height) => bar.update(height));
  } finally {
    bar.finish();
    await store.close();
  }
  const seconds = (performance.now() - started) / 1000;
  io.stdout(`chain ${genesis.chainId}: verified ${summary.blocks} blocks, ${summary.txs} txs\n`);
  io.stdout(`tip:        height ${summary.tipHeight}, hash ${toHex(summary.tipHash)}\n`);
  io.stdout(`state root: ${toHex(summary.stateRoot)}\n`);
  io.stdout(`elapsed:    ${seconds.toFixed(2)} s\n`);
}

export async function readGenesis(path: string): Promise<Genesis> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`genesis file ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`}`);
  }
  const parsed = parseGenesis(text);
  if (!parsed.ok) throw new CliError(`genesis file ${path}: ${parsed.error.message}`);
  return parsed.value;
}

function short(hash: Hash): string {
  return `${toHex(hash).slice(0, 8)}..`;
}

/**
 * Walks the whole stored chain; throws a CliError naming the first faulty block
 * ("block 17: state root mismatch: header ab12cd34.., executed 9f3c0a11..").
 */
export async function verifyStoredChain(
  store: BlockStore,
  genesis: Genesis,
  verifier: Verifier,
  /** Called after each block verifies, with its height (for progress). */
  onVerified?: (height: number) => void,
): Promise<ChainSummary> {
  const ctx = executionContext(genesis, verifier);
  const validators = validatorKeys(genesis);
  let state = genesisState(genesis);
  let parent: ParentLink = { height: 0, hash: genesisHash(genesis), timestamp: genesis.genesisTime };
  let txs = 0;

  for await (const { height, block } of store.iterateBlocks()) {
    const fault = (what: string): CliError => new CliError(`block ${height}: ${what}`);
    if (height !== parent.height + 1) throw new CliError(`block ${parent.height + 1}: missing from the store`);
    const { header } = block;
    if (header.height !== height) throw fault(`stored under height ${height} but its header says ${header.height}`);
    const link = checkHeaderLinks(header, parent, genesis.chainId);
    if (!link.ok) throw fault(link.error.message);

    const blockHash = hashBlockHeader(header);
    if ((await store.getHeightByHash(blockHash)) !== height) throw fault(`the block hash index does not map ${short(blockHash)} here`);
    const qc = await store.getCertificate(height);
    if (qc === undefined) throw fault('its certificate is missing');
    const certified = verifyQuorumCertificate(qc, validators, verifier, { height, blockHash });
    if (!certified.ok) throw fault(`certificate: ${certified.error.message}`);

    const txRoot = computeTxRoot(block.txs);
    if (!bytesEqual(txRoot, header.txRoot)) throw fault(`tx root mismatch: header ${short(header.txRoot)}, computed ${short(txRoot)}`);

    const executed = executeBlock(state, block, ctx);
    if (!executed.ok) {
      if (executed.error.code === 'bad-state-root') {
        throw fault(`state root mismatch: header ${short(header.stateRoot)}, executed ${short(executedRoot(state, block))}`);
      }
      throw fault(`execution fails: ${executed.error.message}`);
    }
    const locations = await store.getTxLocations(executed.value.receipts.map((r) => r.txHash));
    locations.forEach((location, index) => {
      if (location?.height !== height || location.index !== index) {
        const found = location === undefined ? 'nothing' : `block ${location.height} tx ${location.index}`;
        throw fault(`tx index entry of tx ${index} points to ${found}`);
      }
    });

    state = executed.value.state;
    parent = { height, hash: blockHash, timestamp: header.timestamp };
    txs += block.txs.length;
    onVerified?.(height);
  }

  const tip = store.tip();
  if (tip.height !== parent.height) throw new CliError(`block ${parent.height + 1}: missing from the store (the tip is ${tip.height})`);
  const stored = await store.loadState();
  if (!bytesEqual(stored.root, state.root)) {
    throw new CliError(`block ${tip.height}: stored state root ${short(stored.root)} differs from the executed ${short(state.root)}`);
  }
  return { blocks: parent.height, txs, tipHeight: tip.height, tipHash: parent.hash, stateRoot: state.root };
}

/**
 * The state root a block's txs actually produce, for the fault message when it differs
 * from the header's (executeBlock reports only that they differ). The block already
 * passed every other check, so each applyTx succeeds.
 */
function executedRoot(parent: LedgerState, block: Block): Hash {
  let state = parent;
  block.txs.forEach((tx, index) => {
    const applied = applyTx(state, tx, { height: block.header.height, index });
    if (applied.ok) state = applied.value.state;
  });
  return state.root;
}
