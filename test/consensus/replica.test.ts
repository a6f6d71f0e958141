import { describe, expect, it } from 'vitest';
import { encodeNewViewForSigning, encodeVotePayload } from '../../src/codec/consensus.js';
import type { Block, NewView, PrePrepare, Prepare } from '../../src/codec/types.js';
import { checkQuorumCertificate } from '../../src/consensus/certificates.js';
import { Replica } from '../../src/consensus/replica.js';
import { bytesEqual, toHex } from '../../src/crypto/bytes.js';
import { computeTxRoot } from '../../src/ledger/block.js';
import type { PublicKey } from '../../src/crypto/index.js';
import { CHAIN_ID, Cluster, cryptoFor, fakeSign, GENESIS_HASH, hashHeader } from './harness.js';

function heights(cluster: Cluster): number[] {
  return cluster.replicas.map((_, i) => cluster.chain(i).length);
}

function expectAgreement(cluster: Cluster): void {
  const longest = Math.max(...heights(cluster));
  for (let h = 1; h <= longest; h++) {
    const hashes = new Set<string>();
    for (let i = 0; i < cluster.n; i++) {
      const entry = cluster.chain(i)[h - 1];
      if (entry !== undefined) hashes.add(toHex(entry.hash));
    }
    expect(hashes.size, `height ${h}`).toBe(1);
  }
}

describe('Replica: normal case', () => {
  it('commits a proposal on every replica with a verifiable certificate', () => {
    const cluster = new Cluster();
    cluster.submit(10);
    cluster.run();
    expect(heights(cluster)).toEqual([1, 1, 1, 1]);
    expectAgreement(cluster);
    const { certificate, hash } = cluster.chain(2)[0] as Cluster['chains'][number][number];
    expect(bytesEqual(certificate.blockHash, hash)).toBe(true);
    const set = { chainId: CHAIN_ID, validators: cluster.keys, crypto: cryptoFor(cluster.keys[0] as PublicKey) };
    expect(checkQuorumCertificate(set, certificate)).toBeUndefined();
    expect(certificate.signatures.length).toBeGreaterThanOrEqual(3);
  });

  it('checks no signature of a vote that a complete quorum makes redundant', () => {
    const cluster = new Cluster();
    cluster.submit(10);
    cluster.run();
    expect(heights(cluster)).toEqual([1, 1, 1, 1]);
    // Replica 1 hears the other three PREPAREs, but its own and the first two make the
    // quorum of 3: the third changes nothing and is not verified. A late COMMIT is never
    // verified either way: it finds the height committed.
    expect(cluster.verifications[1]?.get('prepare')).toBe(2);
    expect(cluster.verifications[1]?.get('commit')).toBe(2);
    expect(cluster.verifications[1]?.get('pre-prepare')).toBe(1);
  });

  it('proposes only when txs wait, and keeps proposing while they do', () => {
    const cluster = new Cluster();
    cluster.advance(5000);
    expect(heights(cluster)).toEqual([0, 0, 0, 0]);
    expect(cluster.replica(1).view).toBe(0); // idle is not a fault: no view change
    cluster.submit(450); // the stand-in primary takes 100 per block
    cluster.run();
    expect(heights(cluster)).toEqual([5, 5, 5, 5]);
    expectAgreement(cluster);
  });

  it('pipelines: the primary proposes the next height before the previous one commits', () => {
    const cluster = new Cluster({ windowSize: 4 });
    cluster.submit(400);
    cluster.run();
    const fromPrimary = cluster.sent.filter((s) => s.from === 0 && s.to === 1).map((s) => s.message);
    const firstCommitOfH1 = fromPrimary.findIndex((m) => m.type === 'commit' && m.height === 1);
    const prePrepareOfH2 = fromPrimary.findIndex((m) => m.type === 'pre-prepare' && m.height === 2);
    expect(prePrepareOfH2).toBeGreaterThanOrEqual(0);
    expect(prePrepareOfH2).toBeLessThan(firstCommitOfH1);
    expect(heights(cluster)).toEqual([4, 4, 4, 4]);
  });

  it('opens a second proposal in flight only once enough txs wait (minPipelinedTxs)', () => {
    const order = (minPipelinedTxs: number): { prePrepareOfH2: number; firstCommitOfH1: number } => {
      const cluster = new Cluster({ windowSize: 4, minPipelinedTxs });
      cluster.submit(400);
      cluster.run();
      expect(heights(cluster)).toEqual([4, 4, 4, 4]);
      const fromPrimary = cluster.sent.filter((s) => s.from === 0 && s.to === 1).map((s) => s.message);
      return {
        firstCommitOfH1: fromPrimary.findIndex((m) => m.type === 'commit' && m.height === 1),
        prePrepareOfH2: fromPrimary.findIndex((m) => m.type === 'pre-prepare' && m.height === 2),
      };
    };
    const pipelined = order(400);
    expect(pipelined.prePrepareOfH2).toBeLessThan(pipelined.firstCommitOfH1);
    // 400 waiting is below 401: the next block waits for the one in flight to commit.
    const oneAtATime = order(401);
    expect(oneAtATime.prePrepareOfH2).toBeGreaterThan(oneAtATime.firstCommitOfH1);
  });

  it('forgets what it signed far below the committed tip, so its memory does not grow with the chain', () => {
    const cluster = new Cluster({ checkpointInterval: 16 });
    cluster.submit(700 * 100); // the stand-in primary takes 100 per block
    cluster.run(2_000_000);
    expect(heights(cluster)).toEqual([700, 700, 700, 700]);
    for (let i = 0; i < 4; i++) {
      const signed = (cluster.replica(i) as unknown as { signed: Map<string, string> }).signed;
      const signedHeights = [...signed.keys()].map((key) => Number(key.slice(key.lastIndexOf(':') + 1)));
      // Kept: the last 256 heights (a re-proposal of a recent commit may still need a vote)
      // plus at most one trimming period; the first 380 or so are gone.
      expect(Math.min(...signedHeights)).toBeGreaterThan(700 - 256 - 64 - 1);
      expect(signed.size).toBeLessThanOrEqual(3 * (256 + 64 + 1));
    }
    expectAgreement(cluster);
  });

  it('persists every COMMIT before sending it (the harness throws otherwise), and no PRE-PREPARE or PREPARE', () => {
    const cluster = new Cluster();
    cluster.submit(100);
    cluster.run();
    expect(heights(cluster)).toEqual([1, 1, 1, 1]);
    for (let i = 0; i < 4; i++) {
      const kinds = new Set(cluster.wal[i]?.map((m) => m.type));
      expect([...kinds]).toEqual(['commit']);
      expect(cluster.prepared[i]?.length, `r${i} prepared certificates`).toBe(1);
    }
    expect(cluster.sent.some((s) => s.message.type === 'prepare')).toBe(true);
  });

  it('stabilises a checkpoint every K heights', () => {
    const cluster = new Cluster({ checkpointInterval: 2 });
    cluster.submit(500);
    cluster.run();
    expect(heights(cluster)).toEqual([5, 5, 5, 5]);
    expect(cluster.replica(3).status().stableCheckpoint).toBe(4);
  });
});

describe('Replica: faults', () => {
  it('replaces a crashed primary and resumes committing', () => {
    const cluster = new Cluster();
    cluster.submit(100);
    cluster.run();
    cluster.crash(0);
    cluster.submit(100);
    cluster.advance(4000);
    for (const i of [1, 2, 3]) {
      expect(cluster.replica(i).view).toBe(1);
      expect(cluster.chain(i).length).toBe(2);
    }
    expectAgreement(cluster);
  });

  it('backs off exponentially when the next primary is down too', () => {
    const cluster = new Cluster({ n: 7 }); // f = 2
    cluster.crash(0);
    cluster.crash(1);
    cluster.submit(100);
    cluster.advance(10_000);
    for (const i of [2, 3, 4, 5, 6]) expect(cluster.replica(i).view).toBe(2);
    for (const i of [2, 3, 4, 5, 6]) expect(cluster.chain(i).length).toBe(1);
    const viewChanges = cluster.sent.filter((s) => s.message.type === 'view-change' && s.from === 3 && s.to === 4);
    const views = new Set(viewChanges.map((s) => (s.message.type === 'view-change' ? s.message.newView : -1)));
    expect([...views].sort()).toEqual([1, 2]);
  });

  it('records an equivocating primary as evidence and changes view', () => {
    const cluster = new Cluster();
    const primaryKey = cluster.keys[0] as PublicKey;
    let equivocated = false;
    cluster.filter = ({ from, to, message }) => {
      if (equivocated || from !== 0 || to !== 3 || message.type !== 'pre-prepare') return true;
      equivocated = true;
      // The primary signs a second, different block for the same slot and sends both to replica 3.
      const header = { ...message.block.header, timestamp: message.block.header.timestamp + 1 };
      const blockHash = hashHeader(header);
      cluster.inject(0, 3, {
        ...message,
        block: { header, txs: [] },
        signature: fakeSign(primaryKey, 'pre-prepare', encodeVotePayload({ view: message.view, height: message.height, blockHash })),
      });
      return true;
    };
    cluster.submit(10);
    cluster.run();
    expect(cluster.evidence).toHaveLength(1);
    expect(cluster.evidence[0]?.by).toBe(3);
    expect(cluster.evidence[0]?.evidence).toMatchObject({ kind: 'pre-prepare', validator: 0, view: 0, height: 1 });
    expect(cluster.sent.some((s) => s.from === 3 && s.message.type === 'view-change')).toBe(true);
    expectAgreement(cluster);
  });

  it('refuses to vote for a block the application rejects, and replaces that primary', () => {
    const cluster = new Cluster();
    cluster.filter = ({ message }) => {
      if (message.type === 'pre-prepare' && message.validator === 0) cluster.invalid.add(toHex(hashHeader(message.block.header)));
      return true;
    };
    cluster.submit(10);
    cluster.run();
    for (const i of [1, 2, 3]) expect(cluster.replica(i).view).toBe(1);
    expect(Math.min(...heights(cluster))).toBeGreaterThanOrEqual(1);
    expect(cluster.chain(1)[0]?.block.header.proposer).toBe(1);
    expectAgreement(cluster);
  });

  it('ignores a NEW-VIEW whose proof is short', () => {
    const cluster = new Cluster();
    const key1 = cluster.keys[1] as PublicKey;
    const unsigned: Omit<NewView, 'signature'> = { type: 'new-view', view: 1, validator: 1, viewChanges: [] };
    const forged: NewView = { ...unsigned, signature: fakeSign(key1, 'new-view', encodeNewViewForSigning(unsigned)) };
    const effects = cluster.replica(2).step({ type: 'message', from: 1, message: forged });
    expect(cluster.replica(2).view).toBe(0);
    expect(effects.some((e) => e.type === 'view-entered')).toBe(false);
  });

  it('catches up after a partition through certified blocks, then votes again', () => {
    const cluster = new Cluster();
    cluster.filter = ({ from, to }) => from !== 3 && to !== 3;
    cluster.submit(1000);
    cluster.advance(1000);
    expect(cluster.chain(3).length).toBe(0);
    expect(cluster.chain(0).length).toBe(10);
    cluster.filter = () => true;
    cluster.advance(2000);
    expect(cluster.chain(3).length).toBe(10);
    cluster.crash(2); // now replica 3 is needed for every quorum
    cluster.submit(100);
    cluster.advance(2000);
    expect(cluster.chain(3).length).toBe(11);
    expectAgreement(cluster);
  });

  it('resumes after every replica restarts from its WAL and chain', () => {
    const cluster = new Cluster();
    cluster.submit(300);
    cluster.run();
    for (let i = 0; i < 4; i++) cluster.crash(i);
    for (let i = 0; i < 4; i++) cluster.restart(i);
    cluster.submit(100);
    cluster.advance(3000);
    expect(Math.min(...heights(cluster))).toBe(4);
    expectAgreement(cluster);
  });
});

describe('Replica: restored from its WAL', () => {
  it('replicas that sent COMMIT still report the prepared block after a restart, so a new view cannot fork it', () => {
    const cluster = new Cluster();
    // Phase 1: the primary r0 alone gathers the COMMITs of h1 and commits it; r1 sees
    // nothing; r2 and r3 prepare and send COMMIT but never see anyone else's COMMIT.
    cluster.filter = ({ to, message }) => to !== 1 && !(message.type === 'commit' && (to === 2 || to === 3));
    cluster.submit(10);
    cluster.run();
    expect(heights(cluster)).toEqual([1, 0, 0, 0]);
    const committed = toHex(cluster.chain(0)[0]?.hash as Uint8Array);
    // Phase 2: r0 is gone; r2 and r3 restart from disk. View 1 (primary r1) is built from
    // r1, r2 and r3 alone: only their persisted prepared certificates can carry h1.
    cluster.crash(0);
    cluster.crash(2);
    cluster.crash(3);
    cluster.restart(2);
    cluster.restart(3);
    cluster.filter = () => true;
    cluster.submit(10);
    cluster.advance(6_000);
    for (const i of [1, 2, 3]) {
      expect(cluster.replica(i).view, `r${i}`).toBeGreaterThanOrEqual(1);
      expect(toHex(cluster.chain(i)[0]?.hash as Uint8Array), `r${i} at h1`).toBe(committed);
      expect(cluster.chain(i).length, `r${i}`).toBeGreaterThanOrEqual(2);
    }
    cluster.restart(0);
    cluster.advance(3_000);
    expectAgreement(cluster);
  });

  it('a restarted primary proposes nothing in the view it was in; the view timer replaces it and the chain goes on', () => {
    const cluster = new Cluster();
    // The primary signs a PRE-PREPARE for height 1 that is lost on the wire: nobody votes.
    cluster.filter = ({ from, message }) => !(from === 0 && message.type === 'pre-prepare');
    cluster.submit(10);
    cluster.run();
    const lost = cluster.sent.length;
    expect(cluster.wal[0]).toEqual([]); // not persisted: the restart must not need it
    cluster.crash(0);
    cluster.filter = () => true;
    cluster.restart(0);
    // New txs: a fresh build would give a different block for (view 0, height 1). The
    // harness throws if r0 ever signs one; the replica must not even build it.
    cluster.submit(10);
    cluster.run();
    expect(cluster.sent.slice(lost).filter((s) => s.from === 0 && s.message.type === 'pre-prepare')).toEqual([]);
    expect(heights(cluster)).toEqual([0, 0, 0, 0]);
    cluster.advance(2_500);
    for (let i = 0; i < 4; i++) expect(cluster.replica(i).view, `r${i}`).toBe(1);
    expect(Math.min(...heights(cluster))).toBeGreaterThanOrEqual(1);
    expectAgreement(cluster);
  });

  it('a restarted replica sends no PREPARE in its old view but still COMMITs there, and PREPAREs again after a view change', () => {
    const cluster = new Cluster();
    cluster.submit(10);
    cluster.run();
    cluster.crash(3);
    cluster.restart(3);
    const mark = cluster.sent.length;
    cluster.submit(10);
    cluster.run();
    // r0, r1 and r2 make the PREPARE quorum; r3 sees it and COMMITs.
    expect(heights(cluster)).toEqual([2, 2, 2, 2]);
    const fromR3 = cluster.sent.slice(mark).filter((s) => s.from === 3).map((s) => s.message.type);
    expect(fromR3).not.toContain('prepare');
    expect(fromR3).toContain('commit');
    // Without r2, view 0 needs r3's PREPARE, which it may not give: the view changes.
    cluster.crash(2);
    cluster.submit(10);
    cluster.advance(3_000);
    for (const i of [0, 1, 3]) {
      expect(cluster.replica(i).view, `r${i}`).toBe(1);
      expect(cluster.chain(i).length, `r${i}`).toBe(3);
    }
    expect(cluster.sent.some((s) => s.from === 3 && s.message.type === 'prepare' && s.message.view === 1)).toBe(true);
    expectAgreement(cluster);
  });

  it('never signs a second, different PREPARE for a slot its WAL holds a vote for (a WAL of a version that logged PREPAREs)', () => {
    const cluster = new Cluster();
    const crypto = cryptoFor(cluster.keys[2] as PublicKey);
    const blockA = emptyBlock(1, 0, 100);
    const blockB = emptyBlock(1, 0, 200);
    const hashA = hashHeader(blockA.header);
    const prepareA: Prepare = {
      type: 'prepare',
      view: 0,
      height: 1,
      blockHash: hashA,
      validator: 2,
      signature: crypto.sign('prepare', encodeVotePayload({ view: 0, height: 1, blockHash: hashA })),
    };
    const replica = new Replica({ ...cluster.config, self: 2 }, crypto, {
      committed: { height: 0, hash: GENESIS_HASH, timestamp: 0, certificate: null },
      wal: [prepareA],
      ranBefore: false,
      now: 0,
    });
    const primaryKey = cluster.keys[0] as PublicKey;
    const hashB = hashHeader(blockB.header);
    const prePrepareB: PrePrepare = {
      type: 'pre-prepare',
      view: 0,
      height: 1,
      validator: 0,
      block: blockB,
      signature: fakeSign(primaryKey, 'pre-prepare', encodeVotePayload({ view: 0, height: 1, blockHash: hashB })),
    };
    const effects = replica.step({ type: 'message', from: 0, message: prePrepareB });
    const execute = effects.find((e) => e.type === 'execute');
    expect(execute).toBeDefined();
    const after = replica.step({ type: 'executed', height: 1, blockHash: hashB, valid: true });
    expect(after.filter((e) => e.type === 'broadcast' && e.message.type === 'prepare')).toEqual([]);
  });

  it('after a restart signs no PREPARE in a view its WAL reaches, though the WAL holds no vote at all', () => {
    const cluster = new Cluster();
    const prepares = (ranBefore: boolean): number => {
      const replica = new Replica({ ...cluster.config, self: 2 }, cryptoFor(cluster.keys[2] as PublicKey), {
        committed: { height: 0, hash: GENESIS_HASH, timestamp: 0, certificate: null },
        wal: [],
        ranBefore,
        now: 0,
      });
      const block = emptyBlock(1, 0, 100);
      const hash = hashHeader(block.header);
      const prePrepare: PrePrepare = {
        type: 'pre-prepare',
        view: 0,
        height: 1,
        validator: 0,
        block,
        signature: fakeSign(cluster.keys[0] as PublicKey, 'pre-prepare', encodeVotePayload({ view: 0, height: 1, blockHash: hash })),
      };
      expect(replica.step({ type: 'message', from: 0, message: prePrepare }).some((e) => e.type === 'execute')).toBe(true);
      const effects = replica.step({ type: 'executed', height: 1, blockHash: hash, valid: true });
      return effects.filter((e) => e.type === 'broadcast' && e.message.type === 'prepare').length;
    };
    expect(prepares(false)).toBe(1); // a first start: nothing can have been signed before
    expect(prepares(true)).toBe(0); // it may have prepared another block at (0, 1) and lost the record
  });
});

function emptyBlock(height: number, view: number, timestamp: number): Block {
  return {
    header: {
      chainId: CHAIN_ID,
      height,
      parentHash: GENESIS_HASH,
      view,
      proposer: 0,
      timestamp,
      txCount: 0,
      txRoot: computeTxRoot([]),
      stateRoot: new Uint8Array(32),
    },
    txs: [],
  };
}

