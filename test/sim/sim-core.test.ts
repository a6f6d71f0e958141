/**
 * The simulator's own parts: the PRNG, the event queue, the network, the fake signature
 * scheme, the forger, the mempool and the checker (which must catch what it claims to).
 */
import { describe, expect, it } from 'vitest';
import { encodeVotePayload } from '../../src/codec/consensus.js';
import type { Block, Commit, Prepare, QuorumCertificate } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/index.js';
import { hashBlockHeader, verifyQuorumCertificate } from '../../src/ledger/block.js';
import { buildBlock } from '../../src/ledger/execute.js';
import { hashTx as hashOf } from '../../src/ledger/tx.js';
import { DEFAULT_CHAIN_PARAMS, makeSimChain } from './chain.js';
import { Checker, ViolationError } from './checker.js';
import { FORGERY_MODES, Forger } from './forge.js';
import { makeSimKeys } from './keys.js';
import { Mempool } from './mempool.js';
import { Network } from './network.js';
import { Prng } from './prng.js';
import { EventQueue, MAX_EVENTS_PER_MS } from './queue.js';

describe('Prng', () => {
  it('is a pure function of the seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 100 }, () => a.u32());
    expect(Array.from({ length: 100 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.u32())).not.toEqual(xs);
    // Seeds above 2^32 are not folded onto their low bits.
    expect(new Prng(2 ** 32 + 7).u32()).not.toBe(new Prng(7).u32());
  });

  it('draws integers uniformly within bounds', () => {
    const p = new Prng(1);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = p.int(10);
      counts[x] = (counts[x] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    for (let i = 0; i < 1000; i++) {
      const r = p.range(-3, 3);
      expect(r).toBeGreaterThanOrEqual(-3);
      expect(r).toBeLessThanOrEqual(3);
      const f = p.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
    expect(() => p.int(0)).toThrow(RangeError);
    expect(() => p.int(2.5)).toThrow(RangeError);
    expect(() => new Prng(-1)).toThrow(RangeError);
  });

  it('shuffles into a permutation', () => {
    const p = new Prng(9);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = p.shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
  });
});

describe('EventQueue', () => {
  it('runs events by time, ties in scheduling order', () => {
    const q = new EventQueue();
    const seen: string[] = [];
    q.after(10, () => seen.push('b'));
    q.after(5, () => seen.push('a'));
    q.after(10, () => {
      seen.push('c');
      q.after(0, () => seen.push('e'));
    });
    q.after(10, () => seen.push('d'));
    while (q.runNext(100)) {
      // drain
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(q.now).toBe(10);
    expect(q.runNext(100)).toBe(false);
  });

  it('stops a zero-time livelock instead of hanging', () => {
    const q = new EventQueue();
    const loop = (): void => q.after(0, loop);
    q.after(1, loop);
    expect(() => {
      while (q.runNext(10)) {
        // a livelock
      }
    }).toThrow(`over ${MAX_EVENTS_PER_MS} zero-delay events`);
  });

  it('lets a large but finite burst of events at one millisecond through', () => {
    const q = new EventQueue();
    let ran = 0;
    for (let i = 0; i < MAX_EVENTS_PER_MS + 10; i++) q.after(5, () => ran++);
    while (q.runNext(10)) {
      // a burst, not a livelock
    }
    expect(ran).toBe(MAX_EVENTS_PER_MS + 10);
  });
});

describe('Network', () => {
  function setup(profile = { minDelayMs: 3, meanExtraDelayMs: 5, lossRate: 0, duplicateRate: 0 }) {
    const q = new EventQueue();
    const net = new Network(q, new Prng(3), 3, profile);
    const got: string[] = [];
    const drain = (): void => {
      while (q.runNext(10_000)) {
        // drain
      }
    };
    return { q, net, got, drain };
  }

  it('delivers after at least the minimum delay, and partitions cut links both ways', () => {
    const { q, net, got, drain } = setup();
    net.send(0, 1, () => got.push(`0->1@${q.now}`));
    drain();
    expect(got).toHaveLength(1);
    expect(Number(got[0]?.split('@')[1])).toBeGreaterThanOrEqual(3);

    net.partition([[0], [1, 2]]);
    net.send(0, 1, () => got.push('cut'));
    net.send(1, 0, () => got.push('cut'));
    net.send(1, 2, () => got.push('1->2'));
    drain();
    expect(got).not.toContain('cut');
    expect(got).toContain('1->2');

    // A packet in flight when the partition starts is cut too.
    net.heal();
    net.send(0, 2, () => got.push('in-flight'));
    net.partition([[0, 1], [2]]);
    drain();
    expect(got).not.toContain('in-flight');
    expect(net.stats.cut).toBe(3);
  });

  it('loses and duplicates packets as the profile says', () => {
    const lossy = setup({ minDelayMs: 1, meanExtraDelayMs: 0, lossRate: 1, duplicateRate: 0 });
    lossy.net.send(0, 1, () => lossy.got.push('x'));
    lossy.drain();
    expect(lossy.got).toEqual([]);
    const dup = setup({ minDelayMs: 1, meanExtraDelayMs: 0, lossRate: 0, duplicateRate: 1 });
    dup.net.send(0, 1, () => dup.got.push('x'));
    dup.drain();
    expect(dup.got).toEqual(['x', 'x']);
  });

  it('blocks a single direction', () => {
    const { net, got, drain } = setup();
    net.blockLink(0, 1);
    net.send(0, 1, () => got.push('0->1'));
    net.send(1, 0, () => got.push('1->0'));
    drain();
    expect(got).toEqual(['1->0']);
  });
});

describe('fake signatures and the forger', () => {
  const keys = makeSimKeys('fake', 'sim', 4, 2);
  const payload = encodeVotePayload({ view: 1, height: 2, blockHash: new Uint8Array(32).fill(7) });

  it('verify for the signer, kind and payload only', () => {
    const sig = keys.validatorSigner(1).sign('prepare', payload);
    expect(sig).toHaveLength(64);
    expect(keys.verifier.verify(keys.validators[1] as Uint8Array, 'prepare', payload, sig)).toBe(true);
    expect(keys.verifier.verify(keys.validators[2] as Uint8Array, 'prepare', payload, sig)).toBe(false);
    expect(keys.verifier.verify(keys.validators[1] as Uint8Array, 'commit', payload, sig)).toBe(false);
    expect(keys.verifier.verify(keys.validators[1] as Uint8Array, 'prepare', payload.slice(1), sig)).toBe(false);
  });

  it('real Ed25519 mode signs and verifies the same way', () => {
    const real = makeSimKeys('real', 'sim', 4, 1);
    const sig = real.validatorSigner(0).sign('commit', payload);
    expect(real.verifier.verify(real.validators[0] as Uint8Array, 'commit', payload, sig)).toBe(true);
    expect(real.verifier.verify(real.validators[1] as Uint8Array, 'commit', payload, sig)).toBe(false);
  });

  it('forged certificates never verify, whatever the mode', () => {
    const forger = new Forger(keys.validatorSigner(3), 3, 4, new Prng(5));
    const blockHash = new Uint8Array(32).fill(9);
    for (const mode of FORGERY_MODES) {
      const qc = forger.forgedCertificate(2, 5, blockHash, mode);
      const verdict = verifyQuorumCertificate(qc, keys.validators, keys.verifier, { height: 5, blockHash });
      expect(verdict.ok, mode).toBe(false);
    }
    // What it signs as itself does verify: a Byzantine node's own votes are real.
    const own = forger.commit(2, 5, blockHash);
    expect(keys.verifier.verify(keys.validators[3] as Uint8Array, 'commit', encodeVotePayload({ view: 2, height: 5, blockHash }), own.signature)).toBe(true);
  });
});

describe('Mempool', () => {
  const chain = makeSimChain({ ...DEFAULT_CHAIN_PARAMS, clients: 2 });
  const keys = chain.keys;
  const tx = (client: number, nonce: number) =>
    keys.signTx({ chainId: keys.chainId, sender: keys.clients[client] as Uint8Array, nonce: BigInt(nonce), body: { kind: 'put', key: 'k', value: new Uint8Array([nonce]) } }, client);

  it('offers each sender its run of consecutive nonces, and counts what is in flight', () => {
    const m = new Mempool();
    const txs = [tx(0, 1), tx(0, 0), tx(1, 0), tx(0, 3), tx(1, 1)];
    for (const t of txs) expect(m.add(toHex(hashOf(t)), t)).toBe(true);
    expect(m.add(toHex(hashOf(txs[0] as never)), txs[0] as never)).toBe(false);
    const order = [...m.candidates(chain.genesisState)].map((t) => `${keys.clients.indexOf(t.sender)}:${t.nonce}`);
    // Round-robin over senders, nonces ascending, nonce 3 waits for the missing 2.
    expect(order).toEqual(['0:0', '1:0', '0:1', '1:1']);
    expect(m.pending).toBe(5);
    m.markInFlight([toHex(hashOf(txs[1] as never)), toHex(hashOf(txs[2] as never))]);
    expect(m.pending).toBe(3);
    m.delete(toHex(hashOf(txs[1] as never)));
    expect(m.pending).toBe(3);
    m.clearInFlight();
    expect(m.pending).toBe(4);
  });

  it('builds blocks the ledger accepts from its candidates', () => {
    const m = new Mempool();
    for (const t of [tx(0, 0), tx(0, 1), tx(1, 0)]) m.add(toHex(hashOf(t)), t);
    const built = buildBlock(
      chain.genesisState,
      m.candidates(chain.genesisState),
      { chainId: keys.chainId, height: 1, parentHash: chain.genesisHash, view: 0, proposer: 0, timestamp: chain.genesis.genesisTime },
      chain.execution,
    );
    expect(built.block.txs).toHaveLength(3);
    expect(built.rejected).toHaveLength(0);
  });
});


describe('Checker', () => {
  const chain = makeSimChain({ ...DEFAULT_CHAIN_PARAMS, clients: 1 });
  const keys = chain.keys;
  const node = (i: number) => ({ name: `r${i}`, index: i });
  const block = (timestamp: number): Block =>
    buildBlock(chain.genesisState, [], { chainId: keys.chainId, height: 1, parentHash: chain.genesisHash, view: 0, proposer: 0, timestamp }, chain.execution).block;
  const certify = (b: Block, signers = [0, 1, 2]): QuorumCertificate => {
    const blockHash = hashBlockHeader(b.header);
    const payload = encodeVotePayload({ view: 0, height: 1, blockHash });
    return { view: 0, height: 1, blockHash, signatures: signers.map((v) => ({ validator: v, signature: keys.validatorSigner(v).sign('commit', payload) })) };
  };
  const caught = (f: () => void): string => {
    try {
      f();
    } catch (e) {
      if (e instanceof ViolationError) return e.violation.kind;
      throw e;
    }
    return 'none';
  };

  it('accepts agreeing commits and flags a second block at one height', () => {
    const c = new Checker(keys.validators, keys.verifier, () => 0);
    const a = block(chain.genesis.genesisTime);
    const b = block(chain.genesis.genesisTime + 1);
    c.onCommit(node(0), a, hashBlockHeader(a.header), certify(a));
    c.onCommit(node(1), a, hashBlockHeader(a.header), certify(a));
    expect(caught(() => c.onCommit(node(2), b, hashBlockHeader(b.header), certify(b)))).toBe('agreement');
  });

  it('flags a certificate without a quorum', () => {
    const c = new Checker(keys.validators, keys.verifier, () => 0);
    const a = block(chain.genesis.genesisTime);
    expect(caught(() => c.onCommit(node(0), a, hashBlockHeader(a.header), certify(a, [0, 1])))).toBe('certificate');
  });

  it('flags a committed tx no client submitted', () => {
    const c = new Checker(keys.validators, keys.verifier, () => 0);
    const t = keys.signTx({ chainId: keys.chainId, sender: keys.clients[0] as Uint8Array, nonce: 0n, body: { kind: 'put', key: 'k', value: new Uint8Array([1]) } }, 0);
    const b = buildBlock(chain.genesisState, [t], { chainId: keys.chainId, height: 1, parentHash: chain.genesisHash, view: 0, proposer: 0, timestamp: chain.genesis.genesisTime }, chain.execution).block;
    expect(caught(() => c.onCommit(node(0), b, hashBlockHeader(b.header), certify(b)))).toBe('validity');
    const c2 = new Checker(keys.validators, keys.verifier, () => 0);
    c2.onSubmit(t, true);
    expect(c2.unconfirmedCount).toBe(1);
    c2.onCommit(node(0), b, hashBlockHeader(b.header), certify(b));
    expect(c2.unconfirmedCount).toBe(0);
  });

  it('flags an honest validator that signs two digests for one slot, and a bad signature', () => {
    const c = new Checker(keys.validators, keys.verifier, () => 0);
    const vote = (kind: 'prepare' | 'commit', fill: number, height = 4): Prepare | Commit => {
      const blockHash = new Uint8Array(32).fill(fill);
      const signature = keys.validatorSigner(2).sign(kind, encodeVotePayload({ view: 3, height, blockHash }));
      return { type: kind, view: 3, height, blockHash, validator: 2, signature } as Prepare | Commit;
    };
    c.onHonestSend(node(2), vote('prepare', 1));
    c.onHonestSend(node(2), vote('prepare', 1));
    c.onHonestSend(node(2), vote('commit', 1));
    expect(caught(() => c.onHonestSend(node(2), vote('prepare', 2)))).toBe('equivocation');
    // A first vote for a block the driver never executed as valid is flagged.
    c.onHonestSend(node(2), vote('prepare', 8, 5), () => true);
    expect(caught(() => c.onHonestSend(node(2), vote('prepare', 8, 6), () => false))).toBe('validity');
    const forged = { ...vote('commit', 5), signature: new Uint8Array(64) };
    expect(caught(() => c.onHonestSend(node(2), forged))).toBe('bad-message');
    expect(caught(() => c.onHonestSend(node(1), vote('commit', 6)))).toBe('bad-message');
  });

  it('flags evidence against an honest validator', () => {
    const c = new Checker(keys.validators, keys.verifier, () => 0);
    const mk = (fill: number): Prepare => {
      const blockHash = new Uint8Array(32).fill(fill);
      return { type: 'prepare', view: 0, height: 1, blockHash, validator: 1, signature: keys.validatorSigner(1).sign('prepare', encodeVotePayload({ view: 0, height: 1, blockHash })) };
    };
    const evidence = { validator: 1, kind: 'prepare' as const, view: 0, height: 1, first: mk(1), second: mk(2) };
    c.onEvidence(node(0), evidence, (v) => v !== 1); // validator 1 Byzantine: fine
    expect(c.evidence).toHaveLength(1);
    expect(caught(() => c.onEvidence(node(0), evidence, () => true))).toBe('evidence');
  });
});
