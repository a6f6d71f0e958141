/**
 * Child process for the two-processes test: opens the BlockStore of the home given as
 * argv[2] (for the deterministic test genesis), prints "ready", and keeps it open until
 * its stdin closes. Run with `node --import tsx`.
 */
import { BlockStore } from '../../src/store/index.js';
import { makeTestnet } from '../helpers/fixtures.js';

const home = process.argv[2];
if (home === undefined) throw new Error('usage: hold-store.ts HOME');
const store = await BlockStore.open(home, makeTestnet().genesis);
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void store.close().then(() => process.exit(0));
});
