/**
 * `ledgerctl watch`: new blocks as they commit, one line each (or one JSON object per line
 * with --json), like `tail -f`, over the node's WebSocket, until Ctrl-C. If the connection
 * drops, the command fails (exit 1) rather than pretend the chain stopped.
 */
import type { Command } from 'commander';
import type { BlockEvent } from '../../client/types.js';
import { toHex } from '../../crypto/bytes.js';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { isoTime, printJson, withClient, withClientOptions, type ClientOptions } from './client-options.js';

function blockLine(b: BlockEvent): string {
  const txs = `${b.txCount} tx${b.txCount === 1 ? '' : 's'}`;
  const signers = b.certificate.signers.length;
  return `${isoTime(b.time)}  height ${b.height}  ${toHex(b.hash).slice(0, 16)}..  ${txs.padEnd(8)} proposer ${b.proposer}  view ${b.view}  signed by ${signers}\n`;
}

export function registerWatchCommand(program: Command, io: CliIo): void {
  withClientOptions(program.command('watch').description('stream new blocks as they commit, until Ctrl-C')).action(async (options: ClientOptions) => {
    await withClient(io, options, async (client) => {
      const stop = io.interrupt;
      if (stop?.aborted === true) return;
      const status = await client.status();
      const subscription = await client.subscribeBlocks((block) => {
        if (options.json === true) printJson(io, block);
        else io.stdout(blockLine(block));
      });
      if (options.json !== true) io.stderr(`watching ${status.chainId} at ${options.rpc} from height ${status.latestHeight}; Ctrl-C stops\n`);
      const stopped = new Promise<'stopped'>((resolve) => {
        if (stop === undefined) return;
        if (stop.aborted) resolve('stopped');
        stop.addEventListener('abort', () => resolve('stopped'), { once: true });
      });
      const outcome = await Promise.race([subscription.ended, stopped]);
      if (outcome === 'stopped') {
        await subscription.unsubscribe();
        return;
      }
      if (outcome !== undefined) throw new CliError(`${options.rpc}: the block stream ended: ${outcome.message}`);
    });
  });
}
