/**
 * Every parser of outside input under hostile input (targets.ts holds the inputs and the
 * contract). This is the bounded sample that runs with `npm test` (about 3,500 cases in a
 * few seconds); `npm run fuzz -- --runs 100000` runs the same targets for long.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { blockHeaderSize, decodeBlock, decodeQuorumCertificate, encodeBlock } from '../../src/codec/block.js';
import { decodeConsensusMessage } from '../../src/codec/consensus.js';
import { decodeTx } from '../../src/codec/tx.js';
import { LIMITS } from '../../src/codec/types.js';
import { FrameDecoder } from '../../src/net/framing.js';
import { decodeSyncItem } from '../../src/node/sync-item.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { TARGETS } from './targets.js';

const RUNS = 320;

describe.each(TARGETS)('$name under hostile input', (target) => {
  it(`keeps its contract on ${RUNS} generated inputs, and both accepts and refuses some`, () => {
    const run = target.run({ numRuns: RUNS });
    if (run.failure !== undefined) throw new Error(run.failure);
    expect(run.runs).toBe(RUNS);
    // A generator that only ever produced garbage (or only valid values) would test little.
    const ok = run.outcomes.get('ok') ?? 0;
    expect(ok, `outcomes: ${JSON.stringify([...run.outcomes])}`).toBeGreaterThan(0);
    expect(RUNS - ok).toBeGreaterThan(0);
  });
});

/** node's gc(), reached without --expose-gc on the command line. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('claimed lengths are judged before anything is allocated', () => {
  const tn = makeTestnet({ validators: 4, accounts: 2 });
  const tx = tn.signTransfer(0, 1, 5n, 0n);
  const header = { ...tn.blockFields(), txCount: 1, txRoot: new Uint8Array(32), stateRoot: new Uint8Array(32) };
  const block = encodeBlock({ header, txs: [tx] });

  it('inputs that claim gigabytes cost neither time nor memory', () => {
    const gc = collector();
    const hostile: Uint8Array[] = [];
    // The length and count fields: the header's chain id, the tx count, the tx's chain id.
    const headerBytes = blockHeaderSize(header);
    for (const at of [1, headerBytes, headerBytes + 4 + 1]) {
      for (const claim of [0xffff_ffff, 0x7fff_ffff, LIMITS.blockBytes, LIMITS.txBytes + 1]) {
        const bytes = Uint8Array.from(block);
        new DataView(bytes.buffer).setUint32(at, claim);
        hostile.push(bytes);
      }
    }
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setUint32(0, 0xffff_ffff);
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    let peak = before;
    for (let round = 0; round < 50; round++) {
      for (const bytes of hostile) {
        for (const decode of [decodeBlock, decodeTx, decodeQuorumCertificate, decodeConsensusMessage, decodeSyncItem] as const) {
          expect(decode(bytes).ok).toBe(false);
        }
        const frames = new FrameDecoder(LIMITS.messageBytes);
        expect(frames.push(prefix, () => undefined)?.code).toBe('too-large');
      }
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }
    const elapsed = performance.now() - started;
    // 12 inputs x 5 decoders x 50 rounds; a single 16 MiB allocation per input would show
    // as hundreds of MiB here, and a 4 GiB one would throw.
    expect(peak - before).toBeLessThan(8 * 1024 * 1024);
    expect(elapsed).toBeLessThan(5_000);
  });
});
