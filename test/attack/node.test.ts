/**
 * A hostile validator against real `ledger-node` processes. Three honest validators run
 * as processes; the fourth validator's key is held by this test, which connects to them
 * with a bare libp2p host (same Noise prologue, so it is admitted like the real one) and
 * sends well-formed but useless consensus traffic: votes with bad signatures, signed votes
 * for far-future views and heights, duplicates, conflicting votes, far-future view
 * changes, status floods with forged certificates, and unsolicited block responses.
 * Throughout, the honest three must keep committing client txs, and their memory must
 * stay bounded.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCheckpointPayload, encodeConsensusMessage, encodeViewChangeForSigning, encodeVotePayload } from '../../src/codec/consensus.js';
import type { Block, ConsensusMessage, QuorumCertificate, Tx } from '../../src/codec/types.js';
import { parseKeyFile, sign, type KeyPair } from '../../src/crypto/index.js';
import { genesisHash, parseGenesis, type Genesis } from '../../src/ledger/genesis.js';
import { encodeFrame } from '../../src/net/framing.js';
import { CONSENSUS_PROTOCOL } from '../../src/net/host.js';
import { libp2pPrivateKey, peerIdOfValidator } from '../../src/net/identity.js';
import { E2ECluster, sleep, waitFor } from '../e2e/cluster.js';
import { TxLoad } from '../crash/harness.js';

const ATTACKER = 3;
const HONEST = [0, 1, 2];

function rssBytes(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+) kB/.exec(s)?.[1] ?? 0) * 1024);
}

const random = (n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (Math.random() * 256) | 0;
  return out;
};

describe('a hostile validator against real nodes', () => {
  let cluster: E2ECluster;
  let genesis: Genesis;
  let key: KeyPair;
  let rogue: Libp2p;

  beforeAll(async () => {
    cluster = await E2ECluster.create(4, { viewTimeoutMs: 1_000 });
    await Promise.all(HONEST.map((i) => cluster.start(i)));
    const parsed = parseGenesis(await readFile(join(cluster.dir, 'genesis.json'), 'utf8'));
    if (!parsed.ok) throw new Error(parsed.error.message);
    genesis = parsed.value;
    key = parseKeyFile('node3', await readFile(join(cluster.home(ATTACKER), 'node.key.json'), 'utf8'));
    rogue = await createLibp2p({
      privateKey: await libp2pPrivateKey(key.seed),
      transports: [tcp()],
      connectionEncrypters: [noise({ prologueBytes: genesisHash(genesis) })],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
    });
    await rogue.start();
  }, 60_000);

  afterAll(async () => {
    await rogue?.stop();
    await cluster?.destroy();
  });

  /** Status, retried: undici may reuse a keep-alive socket the server has just closed. */
  async function statusOf(i: number): Promise<{ latest_height: number; view: number }> {
    return waitFor(`status of node${i}`, () => cluster.status(i), 10_000, 200);
  }

  async function streamTo(i: number): Promise<Stream> {
    const v = genesis.validators[i]!;
    const target = multiaddr(`${v.p2p}/p2p/${peerIdOfValidator(v.publicKey).toString()}`);
    return rogue.dialProtocol(target, CONSENSUS_PROTOCOL);
  }

  const chainId = (): string => genesis.chainId;
  const vote = (type: 'prepare' | 'commit', view: number, height: number, blockHash: Uint8Array, signed: boolean): ConsensusMessage => ({
    type,
    view,
    height,
    blockHash,
    validator: ATTACKER,
    signature: signed ? sign(key, type, chainId(), encodeVotePayload({ view, height, blockHash })) : random(64),
  });

  function forgedCertificate(height: number): QuorumCertificate {
    return { view: 0, height, blockHash: random(32), signatures: [0, 1, 2, 3].map((validator) => ({ validator, signature: random(64) })) };
  }

  function junkBlock(height: number, txs: number): Block {
    const tx = (i: number): Tx => ({ chainId: chainId(), sender: random(32), nonce: BigInt(i), body: { kind: 'put', key: `k${i}`, value: random(16 * 1024 - 64) }, signature: random(64) });
    const list = Array.from({ length: txs }, (_, i) => tx(i));
    return {
      header: { chainId: chainId(), height, parentHash: random(32), view: 0, proposer: ATTACKER, timestamp: Date.now(), txCount: list.length, txRoot: random(32), stateRoot: random(32) },
      txs: list,
    };
  }

  /** One round of useless traffic, as frames: every kind, a few thousand messages. */
  function uselessFrames(view: number, tip: number): Uint8Array[] {
    const messages: ConsensusMessage[] = [];
    const hash = random(32);
    for (let k = 0; k < 1_500; k++) messages.push(vote(k % 2 === 0 ? 'prepare' : 'commit', view, tip + 1 + (k % 50), random(32), false)); // bad signatures
    for (let k = 0; k < 200; k++) messages.push(vote('prepare', view + 1_000 + k, 2 ** 40 + k, hash, true)); // far-future views and heights
    const dup = vote('prepare', view, tip + 2, hash, true);
    for (let k = 0; k < 1_000; k++) messages.push(dup); // one valid vote, over and over
    for (let k = 0; k < 60; k++) messages.push(vote('commit', view, tip + 1 + k, random(32), true)); // signed, conflicting with the honest ones
    for (let k = 0; k < 20; k++) {
      const height = 50 * (k + 1_000);
      messages.push({ type: 'checkpoint', height, blockHash: hash, validator: ATTACKER, signature: sign(key, 'checkpoint', chainId(), encodeCheckpointPayload({ height, blockHash: hash })) });
    }
    for (let k = 0; k < 20; k++) {
      const unsigned = { type: 'view-change' as const, newView: view + 10 + k * 1_000, validator: ATTACKER, committed: null, prepared: [] };
      messages.push({ ...unsigned, signature: sign(key, 'view-change', chainId(), encodeViewChangeForSigning(unsigned)) });
    }
    for (let k = 0; k < 500; k++) messages.push({ type: 'status', validator: ATTACKER, view: 2 ** 40, committed: forgedCertificate(tip + 1_000 + k) });
    for (let k = 0; k < 200; k++) messages.push({ type: 'block-request', validator: ATTACKER, height: tip, blockHash: random(32) });
    return messages.map((m) => encodeFrame(encodeConsensusMessage(m)));
  }

  it('the honest three keep committing under a flood of useless messages, and their memory stays bounded', async () => {
    const load = new TxLoad(cluster, () => HONEST, 20);
    try {
      await cluster.waitForHeight(0, 3, 30_000);
      const pids = HONEST.map((i) => cluster.processes[i]!.pid!);
      const rssBefore = await Promise.all(pids.map(rssBytes));
      const streams = await Promise.all(HONEST.map(streamTo));
      const bigBlock = encodeFrame(encodeConsensusMessage({ type: 'block-response', validator: ATTACKER, block: junkBlock(5, 60) }));

      const started = Date.now();
      const heightAtStart = (await statusOf(0)).latest_height;
      // The flood follows the chain (a poller keeps view and tip fresh), so its votes land
      // in the current view and window, where they cost a signature check each.
      let latest = await statusOf(0);
      const progress: number[] = [];
      const poller = setInterval(() => {
        cluster.status((progress.length % 3) as 0 | 1 | 2).then((s) => {
          latest = s;
          progress.push(s.latest_height);
        }, () => undefined);
      }, 500);
      let sentFrames = 0;
      let refusedDials = 0;
      let sentBytes = 0;
      const floodMs = 20_000;
      try {
        while (Date.now() - started < floodMs) {
          const frames = [...uselessFrames(latest.view, latest.latest_height), bigBlock];
          const batch = Buffer.concat(frames);
          await Promise.all(
            streams.map(async (stream, k) => {
              if (stream.status !== 'open' || stream.writeStatus !== 'writable') {
                // The node cut us (bad signatures get a peer penalized, then banned for a
                // while): the better defence. Keep trying; a refused dial is counted.
                try {
                  streams[k] = stream = await streamTo(HONEST[k]!);
                } catch {
                  refusedDials++;
                  await sleep(50);
                  return;
                }
              }
              stream.send(batch);
              // Keep what waits on our side small, so what arrives is fresh.
              if (stream.writeBufferLength > 256 * 1024) await stream.onDrain({ signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
            }),
          );
          sentFrames += frames.length * streams.length;
          sentBytes += batch.length * streams.length;
          // Let this process's tx load and poller run: they share the event loop with the flood.
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        clearInterval(poller);
      }
      for (const i of HONEST) expect(cluster.processes[i]?.exitCode, `node${i}: ${cluster.logOf(i).slice(-3000)}`).toBeNull();
      console.log('progress during the flood', progress.join(','));
      const heightAtEnd = (await statusOf(0)).latest_height;
      const rssAfter = await Promise.all(pids.map(rssBytes));
      const mib = (n: number): string => (n / 1024 / 1024).toFixed(0);
      const report = `refused dials ${refusedDials}; sent ${sentFrames} frames (${mib(sentBytes)} MiB) in ${floodMs} ms; heights ${progress.join(',')}; RSS before ${rssBefore.map(mib).join('/')} MiB, after ${rssAfter.map(mib).join('/')} MiB`;
      console.log(report);

      // Liveness: blocks kept coming through the flood, on every honest node.
      expect(heightAtEnd - heightAtStart, report).toBeGreaterThanOrEqual(10);
      for (const i of HONEST) await cluster.waitForHeight(i, heightAtEnd, 20_000);
      // Memory: bounded, not proportional to what was sent.
      for (let k = 0; k < pids.length; k++) expect(rssAfter[k]! - rssBefore[k]!, report).toBeLessThan(300 * 1024 * 1024);
      // Still alive, still answering.
      for (const i of HONEST) expect(cluster.processes[i]!.exitCode).toBeNull();
    } finally {
      await load.stop();
    }
    await sleep(100);
  }, 120_000);
});
