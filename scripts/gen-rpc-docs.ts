/**
 * `npm run docs:rpc`: rewrites the RPC reference section of README.md from the method
 * table. `npm run docs:rpc -- --check` only compares, and exits 1 when the README is stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentSection, renderRpcReference, replaceSection } from './rpc-docs.js';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const readme = await readFile(README, 'utf8');
  const section = renderRpcReference();
  const updated = replaceSection(readme, section);
  if (!updated.ok) {
    process.stderr.write(`gen-rpc-docs: ${updated.error}\n`);
    return 1;
  }
  if (currentSection(readme) === section) {
    process.stdout.write('README.md: the RPC reference is up to date\n');
    return 0;
  }
  if (check) {
    process.stderr.write('README.md: the RPC reference is stale: run `npm run docs:rpc`\n');
    return 1;
  }
  await writeFile(README, updated.text);
  process.stdout.write('README.md: the RPC reference was regenerated\n');
  return 0;
}

process.exitCode = await main();
