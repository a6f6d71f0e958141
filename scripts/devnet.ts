/**
 * `npm run devnet`: a local 4-validator network in .devnet/.
 *
 * Creates .devnet/ with `ledgerctl testnet init` if it is missing (kept across runs, so
 * the chain survives a restart), starts one `ledger-node` process per validator (logs in
 * .devnet/nodeI/node.log), prints where everything is, and on Ctrl-C stops every node
 * gracefully before exiting.
 */
import '../src/polyfill.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLedgerctl } from '../src/cli/ledgerctl.js';
import { processIo } from '../src/cli/io.js';
import { rpcPort } from '../src/cli/commands/testnet.js';

const VALIDATORS = 4;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = resolve(process.env.DEVNET_DIR ?? join(root, '.devnet'));
const nodeBin = join(root, 'bin', 'ledger-node.js');

async function main(): Promise<void> {
  if (!existsSync(join(root, 'dist', 'cli', 'ledger-node.js'))) {
    process.stderr.write('devnet: dist/ is missing; run `npm run build` (npm install does it) first\n');
    process.exit(1);
  }
  if (!existsSync(join(dir, 'genesis.json'))) {
    const code = await runLedgerctl(['testnet', 'init', '--validators', String(VALIDATORS), '--dir', dir, '--accounts', '8'], processIo());
    if (code !== 0) process.exit(code);
  }

  const children: ChildProcess[] = [];
  let shuttingDown = false;
  for (let i = 0; i < VALIDATORS; i++) {
    const home = join(dir, `node${i}`);
    const log = createWriteStream(join(home, 'node.log'), { flags: 'a' });
    // Own process group: a terminal Ctrl-C reaches only this script, which then stops each
    // node once, gracefully (a node takes a second signal as "exit now").
    const child = spawn(process.execPath, [nodeBin, 'start', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout?.pipe(log);
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      process.stderr.write(`[node${i}] ${chunk.toString()}`);
    });
    child.on('exit', (code, signal) => {
      if (!shuttingDown) process.stderr.write(`devnet: node${i} exited (${signal ?? code}); see ${join(home, 'node.log')}\n`);
    });
    children.push(child);
  }

  process.stdout.write(`\ndevnet: ${VALIDATORS} validators of chain in ${dir}\n`);
  for (let i = 0; i < VALIDATORS; i++) {
    process.stdout.write(`  node${i}: JSON-RPC http://127.0.0.1:${rpcPort(i)}   logs ${join(dir, `node${i}`, 'node.log')}\n`);
  }
  process.stdout.write(`  client key (funded admin): ${join(dir, 'client.key.json')}\n`);
  process.stdout.write(`\n  try: npx ledgerctl status --rpc http://127.0.0.1:${rpcPort(0)}\n`);
  process.stdout.write('  Ctrl-C stops every node cleanly; the chain is kept for the next run.\n\n');

  const stopAll = (): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    process.stdout.write('devnet: stopping nodes...\n');
    for (const child of children) child.kill('SIGTERM');
    let left = children.filter((c) => c.exitCode === null && c.signalCode === null).length;
    if (left === 0) process.exit(0);
    for (const child of children) {
      child.once('exit', () => {
        left--;
        if (left === 0) {
          process.stdout.write('devnet: all nodes stopped\n');
          process.exit(0);
        }
      });
    }
    setTimeout(() => {
      for (const child of children) child.kill('SIGKILL');
      process.exit(1);
    }, 15_000).unref();
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  // Never leave orphaned nodes behind, whatever ends this script.
  process.on('exit', () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}

await main();
