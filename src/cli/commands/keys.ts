import type { Command } from 'commander';
import { addressOf, generateKeyPair, loadKeyFile, toHex, writeKeyFile } from '../../crypto/index.js';
import { cliPath, type CliIo } from '../io.js';

interface GenerateOptions {
  readonly out: string;
  readonly json?: boolean;
}

export function registerKeysCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('create and inspect Ed25519 key files');

  keys
    .command('generate')
    .description('write a new key file (mode 0600); never overwrites an existing file')
    .requiredOption('--out <file>', 'where to write the key file')
    .option('--json', 'print the address and public key as JSON')
    .action(async (options: GenerateOptions) => {
      const path = cliPath(io, options.out);
      const keyPair = generateKeyPair();
      await writeKeyFile(path, keyPair);
      printKey(io, addressOf(keyPair.publicKey), toHex(keyPair.publicKey), options.json === true, path);
    });

  keys
    .command('show')
    .description('print the address and public key of a key file (never the private key)')
    .argument('<file>', 'the key file')
    .option('--json', 'print as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const loaded = await loadKeyFile(cliPath(io, file));
      for (const warning of loaded.warnings) io.stderr(`warning: ${warning}\n`);
      printKey(io, loaded.address, toHex(loaded.keyPair.publicKey), options.json === true);
    });
}

function printKey(io: CliIo, address: string, publicKey: string, json: boolean, file?: string): void {
  if (json) {
    io.stdout(`${JSON.stringify(file === undefined ? { address, publicKey } : { address, publicKey, file })}\n`);
    return;
  }
  if (file !== undefined) io.stdout(`wrote ${file}\n`);
  io.stdout(`address:    ${address}\npublic key: ${publicKey}\n`);
}
