/**
 * The Byzantine test mode: refused without the environment's opt-in, and what each mode
 * does to real effects, with signatures checked against the real keys. Whatever it sends
 * either verifies under its own key or under none.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLedgerNode } from '../../src/cli/ledger-node.js';
import { formatCliError } from '../../src/cli/errors.js';
import { encodeCheckpointPayload, encodeViewChangeForSigning, encodeVotePayload } from '../../src/codec/consensus.js';
import type { Block, ConsensusMessage, QuorumCertificate } from '../../src/codec/types.js';
import type { Effect } from '../../src/consensus/types.js';
import { generateKeyPair, sign, toHex, verify, type KeyPair } from '../../src/crypto/index.js';
import { computeTxRoot, hashBlockHeader } from '../../src/ledger/block.js';
import { BYZANTINE_ENV, BYZANTINE_MODES, ByzantineTransformer, parseByzantineMode, type ByzantineMode } from '../../src/node/byzantine.js';
import { DEFAULT_NODE_CONFIG, writeNodeConfig } from '../../src/node/config.js';
import { Prng } from '../sim/prng.js';

const CHAIN = 'byz-test';
const N = 4;
const keys: KeyPair[] = Array.from({ length: N }, () => generateKeyPair());
const SELF = 0; // the primary of view 0

function transformer(mode: ByzantineMode, seed = 1, extra: Partial<ConstructorParameters<typeof ByzantineTransformer>[0]> = {}): ByzantineTransformer {
  const prng = new Prng(seed);
  return new ByzantineTransformer({ mode, keyPair: keys[SELF] as KeyPair, chainId: CHAIN, self: SELF, n: N, random: () => prng.float(), ...extra });
}

function block(height: number, timestamp = 1_000): Block {
  const txs: Block['txs'] = [];
  return {
    header: {
      chainId: CHAIN,
      height,
      parentHash: new Uint8Array(32),
      view: 0,
      proposer: SELF,
      timestamp,
      txCount: 0,
      txRoot: computeTxRoot(txs),
      stateRoot: new Uint8Array(32).fill(7),
    },
    txs,
  };
}

function prePrepare(b: Block, view = 0): ConsensusMessage {
  const signature = sign(keys[SELF] as KeyPair, 'pre-prepare', CHAIN, encodeVotePayload({ view, height: b.header.height, blockHash: hashBlockHeader(b.header) }));
  return { type: 'pre-prepare', view, height: b.header.height, validator: SELF, block: b, signature };
}

function vote(kind: 'prepare' | 'commit', view: number, height: number, blockHash: Uint8Array): ConsensusMessage {
  const signature = sign(keys[SELF] as KeyPair, kind, CHAIN, encodeVotePayload({ view, height, blockHash }));
  return { type: kind, view, height, blockHash, validator: SELF, signature };
}

/** Which key (by validator index) a message's signature verifies under; undefined for none (or unsigned). */
function signer(m: ConsensusMessage): number | undefined {
  const check = (kind: Parameters<typeof verify>[1], payload: Uint8Array, signature: Uint8Array): number | undefined => {
    const i = keys.findIndex((k) => verify(k.publicKey, kind, CHAIN, payload, signature));
    return i < 0 ? undefined : i;
  };
  switch (m.type) {
    case 'pre-prepare':
      return check('pre-prepare', encodeVotePayload({ view: m.view, height: m.height, blockHash: hashBlockHeader(m.block.header) }), m.signature);
    case 'prepare':
    case 'commit':
      return check(m.type, encodeVotePayload(m), m.signature);
    case 'checkpoint':
      return check('checkpoint', encodeCheckpointPayload(m), m.signature);
    case 'view-change': {
      const { signature, ...unsigned } = m;
      return check('view-change', encodeViewChangeForSigning(unsigned), signature);
    }
    default:
      return undefined;
  }
}

function sends(effects: readonly Effect[]): { to: number | 'all'; message: ConsensusMessage; persist: boolean }[] {
  const out: { to: number | 'all'; message: ConsensusMessage; persist: boolean }[] = [];
  for (const e of effects) {
    if (e.type === 'send') out.push({ to: e.to, message: e.message, persist: e.persist });
    if (e.type === 'broadcast') out.push({ to: 'all', message: e.message, persist: e.persist });
  }
  return out;
}

describe('parseByzantineMode', () => {
  it('accepts every mode only with the environment opt-in', () => {
    for (const mode of BYZANTINE_MODES) {
      expect(parseByzantineMode(mode, { [BYZANTINE_ENV]: '1' })).toEqual({ ok: true, value: mode });
      const refused = parseByzantineMode(mode, {});
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.error.code).toBe('not-enabled');
      expect(parseByzantineMode(mode, { [BYZANTINE_ENV]: 'true' }).ok).toBe(false);
    }
  });

  it('refuses an unknown mode even with the opt-in', () => {
    const r = parseByzantineMode('equivocat', { [BYZANTINE_ENV]: '1' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('unknown-mode');
  });
});

describe('ledger-node start --unsafe-byzantine', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'ledger-byz-cli-'));
    await writeNodeConfig(home, DEFAULT_NODE_CONFIG);
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>, mode = 'flood'): Promise<{ message: string; exitCode: number; started: boolean }> {
    let started = false;
    const io = { stdout: () => {}, stderr: () => {}, cwd: home };
    try {
      await buildLedgerNode(io, async () => {
        started = true;
      }, env).parseAsync(['start', '--home', home, '--unsafe-byzantine', mode], { from: 'user' });
      return { message: '', exitCode: 0, started };
    } catch (error) {
      return { ...formatCliError(error), started };
    }
  }

  it(`is refused without ${BYZANTINE_ENV}=1, before anything is opened`, async () => {
    const r = await start({});
    expect(r).toMatchObject({ exitCode: 2, started: false });
    expect(r.message).toContain(`${BYZANTINE_ENV}=1`);
  });

  it('is refused for an unknown mode', async () => {
    const r = await start({ [BYZANTINE_ENV]: '1' }, 'nice');
    expect(r).toMatchObject({ exitCode: 2, started: false });
    expect(r.message).toContain('unknown mode "nice"');
  });
});

describe('ByzantineTransformer', () => {
  it('equivocate: as primary, two different blocks for one slot, each signed by itself, to disjoint peer groups', () => {
    const t = transformer('equivocate');
    const b = block(1);
    const original = prePrepare(b);
    const out = t.transform([{ type: 'broadcast', message: original, persist: true }], 0);
    // The replica's own pre-prepare is persisted as it made it; what leaves is per peer.
    expect(out[0]).toEqual({ type: 'persist', message: original });
    const sent = sends(out);
    expect(sent.map((s) => s.to).sort()).toEqual([1, 2, 3]);
    expect(sent.every((s) => !s.persist)).toBe(true);
    const hashes = new Set(sent.map((s) => (s.message.type === 'pre-prepare' ? toHex(hashBlockHeader(s.message.block.header)) : '')));
    expect(hashes.size).toBe(2);
    expect(hashes.has(toHex(hashBlockHeader(b.header)))).toBe(true);
    for (const s of sent) expect(signer(s.message)).toBe(SELF);

    // Its votes follow the split: each peer gets the vote for the block it was shown.
    const shown = new Map(sent.map((s) => [s.to, s.message.type === 'pre-prepare' ? toHex(hashBlockHeader(s.message.block.header)) : '']));
    const votes = sends(t.transform([{ type: 'broadcast', message: vote('prepare', 0, 1, hashBlockHeader(b.header)), persist: true }], 1));
    for (const v of votes) {
      expect(v.message.type).toBe('prepare');
      if (v.message.type === 'prepare') expect(toHex(v.message.blockHash)).toBe(shown.get(v.to));
      expect(signer(v.message)).toBe(SELF);
    }
    // A retransmission is split the same way.
    const again = sends(t.transform([{ type: 'broadcast', message: original, persist: false }], 2));
    for (const s of again) if (s.message.type === 'pre-prepare') expect(toHex(hashBlockHeader(s.message.block.header))).toBe(shown.get(s.to));
  });

  it('equivocate: the alternative block is valid as a proposal (same txs and roots, a later timestamp)', () => {
    const t = transformer('equivocate', 3);
    const b = block(5, 50_000);
    const sent = sends(t.transform([{ type: 'broadcast', message: prePrepare(b), persist: true }], 0));
    const alt = sent.map((s) => s.message).find((m) => m.type === 'pre-prepare' && m.block !== b);
    expect(alt?.type).toBe('pre-prepare');
    if (alt?.type !== 'pre-prepare') return;
    expect(alt.block.txs).toBe(b.txs);
    expect({ ...alt.block.header, timestamp: 0 }).toEqual({ ...b.header, timestamp: 0 });
    expect(alt.block.header.timestamp).toBeGreaterThan(b.header.timestamp);
  });

  it('bad-signatures: some messages leave with signatures that verify under no key; none under another key', () => {
    const t = transformer('bad-signatures', 7);
    let corrupted = 0;
    let intact = 0;
    for (let h = 1; h <= 60; h++) {
      for (const s of sends(t.transform([{ type: 'broadcast', message: vote('commit', 0, h, hashBlockHeader(block(h).header)), persist: true }], h))) {
        const who = signer(s.message);
        if (who === undefined) corrupted++;
        else {
          expect(who).toBe(SELF);
          intact++;
        }
        expect(s.message.validator).toBe(SELF);
      }
    }
    expect(corrupted).toBeGreaterThan(20);
    expect(intact).toBeGreaterThan(20);
  });

  it('bad-signatures: a view-change may carry a broken certificate under a valid outer signature', () => {
    const t = transformer('bad-signatures', 11);
    const b = block(3);
    const blockHash = hashBlockHeader(b.header);
    const certificate: QuorumCertificate = {
      view: 0,
      height: 3,
      blockHash,
      signatures: [0, 1, 2].map((i) => ({ validator: i, signature: sign(keys[i] as KeyPair, 'commit', CHAIN, encodeVotePayload({ view: 0, height: 3, blockHash })) })),
    };
    const unsigned = { type: 'view-change' as const, newView: 1, validator: SELF, committed: certificate, prepared: [] };
    const vc: ConsensusMessage = { ...unsigned, signature: sign(keys[SELF] as KeyPair, 'view-change', CHAIN, encodeViewChangeForSigning(unsigned)) };
    let brokenInside = 0;
    for (let i = 0; i < 40; i++) {
      for (const s of sends(t.transform([{ type: 'broadcast', message: vc, persist: true }], i))) {
        if (s.message.type !== 'view-change' || s.message === vc) continue;
        const inner = s.message.committed?.signatures ?? [];
        const innerOk = inner.every((sig) => verify((keys[sig.validator] as KeyPair).publicKey, 'commit', CHAIN, encodeVotePayload(certificate), sig.signature));
        if (!innerOk && signer(s.message) === SELF) brokenInside++;
      }
    }
    expect(brokenInside).toBeGreaterThan(0);
  });

  it('garbage-votes: votes for digests nobody proposed, signed by itself', () => {
    const t = transformer('garbage-votes', 5);
    const real = hashBlockHeader(block(2).header);
    const injected: ConsensusMessage[] = [];
    let replaced = 0;
    for (let i = 0; i < 40; i++) {
      for (const s of sends(t.transform([{ type: 'broadcast', message: vote('prepare', 0, 2, real), persist: true }], i * 200))) {
        if (s.message.type === 'prepare' && s.message.height === 2 && toHex(s.message.blockHash) !== toHex(real)) replaced++;
        if (s.message.type === 'commit' || (s.message.type === 'prepare' && s.message.height !== 2)) injected.push(s.message);
      }
    }
    expect(replaced).toBeGreaterThan(5);
    expect(injected.length).toBeGreaterThan(10);
    for (const m of injected) expect(signer(m)).toBe(SELF);
  });

  it('stale-views: sends messages about views and heights behind its own', () => {
    const t = transformer('stale-views', 9);
    // Let it see some history: a view change to view 6 and commits up to height 20.
    const history: Effect[] = [{ type: 'view-entered', view: 6, primary: 2 }];
    for (let h = 1; h <= 20; h++) history.push({ type: 'execute', height: h, blockHash: hashBlockHeader(block(h).header), block: block(h) });
    t.transform(history, 0);
    const sent: ConsensusMessage[] = [];
    for (let i = 1; i <= 200; i++) for (const s of sends(t.transform([], i * 150))) sent.push(s.message);
    expect(sent.length).toBeGreaterThan(100);
    for (const m of sent) {
      if (m.type === 'prepare' || m.type === 'commit' || m.type === 'pre-prepare') expect(m.view).toBeLessThan(6);
      if (m.type === 'view-change') expect(m.newView).toBeLessThanOrEqual(6);
      if (m.type === 'status') expect(m.view).toBeLessThan(6);
      const who = signer(m);
      if (who !== undefined) expect(who).toBe(SELF);
    }
    expect(new Set(sent.map((m) => m.type)).size).toBeGreaterThanOrEqual(4);
  });

  it('flood: a high rate, but never beyond the bound', () => {
    const t = transformer('flood', 13, { floodPerSecond: 400 });
    let count = 0;
    for (let now = 0; now <= 5_000; now += 20) count += sends(t.transform([], now)).length;
    // 5 s at 400/s, and a burst never beyond a tenth of a second's worth.
    expect(count).toBeGreaterThan(1_500);
    expect(count).toBeLessThanOrEqual(2_000 + 40);
    // A stalled loop does not make up for lost time in one burst.
    expect(sends(t.transform([], 60_000)).length).toBeLessThanOrEqual(40);
  });

  it('mixed: cycles through every behaviour, and leaves non-message effects alone', () => {
    const t = transformer('mixed', 17, { mixedPeriodMs: 1_000 });
    const seen = new Set<string>();
    for (let now = 0; now < 10_000; now += 500) seen.add(t.behaviourAt(now));
    expect(seen).toEqual(new Set(['equivocate', 'bad-signatures', 'garbage-votes', 'stale-views', 'flood']));
    const b = block(4);
    const passive: Effect[] = [
      { type: 'execute', height: 4, blockHash: hashBlockHeader(b.header), block: b },
      { type: 'fetch', fromHeight: 1, toHeight: 3 },
    ];
    const out = t.transform(passive, 0);
    expect(out.slice(0, 2)).toEqual(passive);
  });
});
