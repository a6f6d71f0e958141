/**
 * The client's proof checks, offline: a real certified chain (fixtures), the node's JSON
 * built with the server's own json.ts functions, parsed by the client's parsers and
 * verified. Honest answers verify; every kind of lie is caught and named.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientError } from '../../src/client/errors.js';
import { parseAccount, parseBlockResult, parseCommitResult, parseCommittedTx, parseRecord } from '../../src/client/parse.js';
import type { AccountInfo, CommitInfo } from '../../src/client/types.js';
import { verifyAccount, verifyBlock, verifyCommit, verifyRecord, verifyTx } from '../../src/client/verify.js';
import type { Result } from '../../src/codec/result.js';
import type { Block, QuorumCertificate } from '../../src/codec/types.js';
import { toHex, utf8 } from '../../src/crypto/bytes.js';
import { encodeAccount } from '../../src/ledger/account.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { buildBlock, type ParentLink } from '../../src/ledger/execute.js';
import { merkleProof } from '../../src/ledger/merkle.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { hashTx } from '../../src/ledger/tx.js';
import { blockResultToJson, commitResultToJson, committedTxToJson, stateProofViewToJson } from '../../src/rpc/json.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { buildChain, type CertifiedBlock } from '../store/chain.js';

const net = makeTestnet({ validators: 4 });
const chain = buildChain(net, 3, 4);

function parentOf(b: CertifiedBlock): ParentLink {
  return { height: b.block.header.height, hash: hashBlockHeader(b.block.header), timestamp: b.block.header.timestamp };
}

// Block 4: account 0 puts a record.
const third = chain[2]!;
const putNonce = third.state.account(net.addresses[0]!).nonce;
const built = buildBlock(third.state, [net.signPut(0, 'greeting', utf8('hello'), putNonce), net.signTransfer(3, 0, 7n, third.state.account(net.addresses[3]!).nonce)], net.blockFields(parentOf(third)), net.ctx);
expect(built.rejected).toHaveLength(0);
const fourth: CertifiedBlock = { block: built.block, qc: net.certify(built.block.header), writes: built.executed.writes, state: built.executed.state };
const blocks = [...chain, fourth];
const tip = fourth;
const height = 4;

/** Through the wire: what a client gets after JSON.stringify and JSON.parse. */
const wire = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function commitJson(b: CertifiedBlock, qc: QuorumCertificate = b.qc): Record<string, unknown> {
  return wire(commitResultToJson({ hash: hashBlockHeader(b.block.header), header: b.block.header, certificate: qc })) as unknown as Record<string, unknown>;
}

/** What the `account` method answers with prove (as src/rpc/methods.ts builds it). */
function accountJson(state: LedgerState, address: string, at: number): Record<string, unknown> {
  const read = state.proveAccount(address);
  const a = read.decoded ?? { balance: 0n, nonce: 0n, canTransact: false, isAdmin: false };
  return wire({
    address,
    height: at,
    balance: a.balance.toString(),
    nonce: a.nonce.toString(),
    pending_nonce: a.nonce.toString(),
    can_transact: a.canTransact,
    is_admin: a.isAdmin,
    proof: stateProofViewToJson({ stateRoot: read.root, key: read.key, value: read.value, proof: read.proof }),
  });
}

function recordJson(state: LedgerState, owner: string, key: string, at: number): Record<string, unknown> {
  const read = state.proveRecord(owner, key);
  return wire({
    owner,
    key,
    height: at,
    value: read.value === undefined ? null : Buffer.from(read.value).toString('base64'),
    proof: stateProofViewToJson({ stateRoot: read.root, key: read.key, value: read.value, proof: read.proof }),
  });
}

function txJson(b: CertifiedBlock, index: number): Record<string, unknown> {
  const tx = b.block.txs[index]!;
  const leaves = b.block.txs.map(hashTx);
  const proof = { ...merkleProof(leaves, index), txRoot: b.block.header.txRoot };
  return wire(committedTxToJson({ tx, hash: hashTx(tx), height: b.block.header.height, index, proof })) as unknown as Record<string, unknown>;
}

function ok<T>(r: Result<T, string>): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function failure<T>(r: Result<T, ClientError>): ClientError {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('verified a lie');
  expect(r.error.info.code).toBe('verification-failed');
  return r.error;
}

function checkOf<T>(r: Result<T, ClientError>): string {
  const e = failure(r);
  return e.info.code === 'verification-failed' ? e.info.check : e.info.code;
}

const alice = net.addresses[0]!;
const commit = (): CommitInfo => ok(parseCommitResult(commitJson(tip)));
const account = (json = accountJson(tip.state, alice, height)): AccountInfo => ok(parseAccount(json));

/** Flips the first hex digit of a string (a byte changes, the shape does not). */
function flipHex(s: string, at = 0): string {
  const c = s[at]!;
  return s.slice(0, at) + (c === '0' ? '1' : '0') + s.slice(at + 1);
}

describe('client verification: honest answers verify', () => {
  it('an account, with every field proven against the certified state root', () => {
    const v = verifyAccount(alice, account(), commit(), net.genesis);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const expected = tip.state.account(alice);
    expect(v.value.balance).toBe(expected.balance);
    expect(v.value.nonce).toBe(expected.nonce);
    expect(v.value.commit?.height).toBe(height);
    expect(toHex(v.value.commit!.hash)).toBe(toHex(hashBlockHeader(tip.block.header)));
  });

  it('an account that does not exist is proven absent (the empty account)', () => {
    const nobody = 'ab'.repeat(20);
    const v = verifyAccount(nobody, account(accountJson(tip.state, nobody, height)), commit(), net.genesis);
    expect(v.ok && v.value.balance === 0n && !v.value.canTransact).toBe(true);
  });

  it('at height 0 an account is proven against the genesis state, with no certificate needed', () => {
    const v = verifyAccount(alice, account(accountJson(net.state(), alice, 0)), null, net.genesis);
    expect(v.ok && v.value.commit === null && v.value.balance === 1_000_000n).toBe(true);
  });

  it('a record, present and absent', () => {
    const present = verifyRecord(alice, 'greeting', ok(parseRecord(recordJson(tip.state, alice, 'greeting', height))), commit(), net.genesis);
    expect(present.ok && Buffer.from(present.value.value!).toString()).toBe('hello');
    const absent = verifyRecord(alice, 'nothing', ok(parseRecord(recordJson(tip.state, alice, 'nothing', height))), commit(), net.genesis);
    expect(absent.ok && absent.value.value).toBeUndefined();
  });

  it('every tx of every block, by inclusion proof against its certified header', () => {
    for (const b of blocks) {
      const c = ok(parseCommitResult(commitJson(b)));
      b.block.txs.forEach((tx, i) => {
        const v = verifyTx(hashTx(tx), ok(parseCommittedTx(txJson(b, i))), c, net.genesis);
        expect(v.ok, `block ${b.block.header.height} tx ${i}`).toBe(true);
      });
    }
  });

  it('a block whose txs are the ones its certified header commits to', () => {
    const json = wire(blockResultToJson({ hash: hashBlockHeader(tip.block.header), header: tip.block.header, certificate: tip.qc, block: tip.block }));
    expect(verifyBlock(ok(parseBlockResult(json)), net.genesis, height).ok).toBe(true);
  });
});

describe('client verification: lies are caught and named', () => {
  it('a changed balance (the proof still proves the true one)', () => {
    const json = accountJson(tip.state, alice, height);
    json['balance'] = (BigInt(json['balance'] as string) + 1000n).toString();
    const e = failure(verifyAccount(alice, account(json), commit(), net.genesis));
    expect(e.message).toContain('balance');
    expect(e.info).toEqual({ code: 'verification-failed', check: 'value' });
  });

  it('a changed nonce or permission', () => {
    const json = accountJson(tip.state, alice, height);
    json['is_admin'] = !(json['is_admin'] as boolean);
    expect(checkOf(verifyAccount(alice, account(json), commit(), net.genesis))).toBe('value');
  });

  it('a forged value with its bytes in the proof: the proof does not reach the certified root', () => {
    const json = accountJson(tip.state, alice, height);
    const truth = tip.state.account(alice);
    json['balance'] = '999999999';
    (json['proof'] as { value: string }).value = toHex(encodeAccount({ ...truth, balance: 999_999_999n }));
    expect(checkOf(verifyAccount(alice, account(json), commit(), net.genesis))).toBe('state-proof');
  });

  it('a proof sibling changed', () => {
    const json = accountJson(tip.state, alice, height);
    const smt = (json['proof'] as { smt: { siblings: string[] } }).smt;
    expect(smt.siblings.length).toBeGreaterThan(0);
    smt.siblings[0] = flipHex(smt.siblings[0]!);
    expect(checkOf(verifyAccount(alice, account(json), commit(), net.genesis))).toBe('state-proof');
  });

  it('a proof against another state root (an older block)', () => {
    const json = accountJson(chain[0]!.state, alice, height);
    expect(checkOf(verifyAccount(alice, account(json), commit(), net.genesis))).toBe('state-root');
  });

  it('a proof for another account', () => {
    const json = accountJson(tip.state, net.addresses[1]!, height);
    json['address'] = alice;
    expect(checkOf(verifyAccount(alice, account(json), commit(), net.genesis))).toBe('state-key');
  });

  it('no proof at all', () => {
    const json = accountJson(tip.state, alice, height);
    delete json['proof'];
    expect(checkOf(verifyAccount(alice, account(json), commit(), net.genesis))).toBe('missing-proof');
  });

  it("a header whose state root was swapped: it no longer hashes to the certified block", () => {
    const json = commitJson(tip);
    const header = json['header'] as { state_root: string };
    header.state_root = toHex(chain[0]!.state.root);
    const lied = accountJson(chain[0]!.state, alice, height);
    expect(checkOf(verifyAccount(alice, account(lied), ok(parseCommitResult(json)), net.genesis))).toBe('header-hash');
  });

  it('a made-up header with its own hash: the certificate does not sign it', () => {
    const fake = { ...tip.block.header, stateRoot: chain[0]!.state.root };
    const json = wire(commitResultToJson({ hash: hashBlockHeader(fake), header: fake, certificate: tip.qc }));
    expect(checkOf(verifyCommit(ok(parseCommitResult(json)), net.genesis, height))).toBe('certificate');
  });

  it('a certificate with a forged signature, too few signers, or signers outside the genesis', () => {
    const forged = commitJson(tip);
    const sigs = (forged['certificate'] as { signatures: { signature: string }[] }).signatures;
    sigs[1]!.signature = flipHex(sigs[1]!.signature, 10);
    expect(failure(verifyCommit(ok(parseCommitResult(forged)), net.genesis)).message).toMatch(/validator 1.*does not verify/);

    const two = net.certify(tip.block.header, [0, 1]);
    expect(failure(verifyCommit(ok(parseCommitResult(commitJson(tip, two))), net.genesis)).message).toContain('quorum');

    const strangers = makeTestnet({ validators: 4, seed: 'strangers' });
    const theirs = strangers.certify(tip.block.header);
    expect(checkOf(verifyCommit(ok(parseCommitResult(commitJson(tip, theirs))), net.genesis))).toBe('certificate');
  });

  it('a header of another chain, or of another height than asked', () => {
    const other = makeTestnet({ chainId: 'other-chain' });
    expect(checkOf(verifyCommit(commit(), other.genesis))).toBe('chain-id');
    expect(checkOf(verifyCommit(commit(), net.genesis, 3))).toBe('height');
  });

  it('a record value changed', () => {
    const json = recordJson(tip.state, alice, 'greeting', height);
    json['value'] = Buffer.from('HELLO').toString('base64');
    expect(checkOf(verifyRecord(alice, 'greeting', ok(parseRecord(json)), commit(), net.genesis))).toBe('value');
    const hidden = recordJson(tip.state, alice, 'greeting', height);
    hidden['value'] = null;
    expect(checkOf(verifyRecord(alice, 'greeting', ok(parseRecord(hidden)), commit(), net.genesis))).toBe('value');
  });

  it('a record claimed absent with a proof of absence for another key', () => {
    const json = recordJson(tip.state, alice, 'nothing', height);
    json['key'] = 'greeting';
    json['value'] = null;
    expect(checkOf(verifyRecord(alice, 'greeting', ok(parseRecord(json)), commit(), net.genesis))).toBe('state-key');
  });

  it('a tx: another tx, a bad sibling, a wrong index, a wrong root, no proof', () => {
    const c = commit();
    const hash = hashTx(tip.block.txs[1]!);
    const parsed = (json: Record<string, unknown>) => ok(parseCommittedTx(json));
    expect(checkOf(verifyTx(hash, parsed(txJson(tip, 0)), c, net.genesis))).toBe('tx-hash');

    const sibling = txJson(tip, 1);
    const proof = sibling['proof'] as { siblings: string[]; index: number; tx_root: string };
    proof.siblings[0] = flipHex(proof.siblings[0]!);
    expect(checkOf(verifyTx(hash, parsed(sibling), c, net.genesis))).toBe('tx-proof');

    const moved = txJson(tip, 1);
    moved['index'] = 0;
    (moved['proof'] as { index: number }).index = 0;
    expect(checkOf(verifyTx(hash, parsed(moved), c, net.genesis))).toBe('tx-proof');

    const rooted = txJson(tip, 1);
    (rooted['proof'] as { tx_root: string }).tx_root = toHex(chain[0]!.block.header.txRoot);
    expect(checkOf(verifyTx(hash, parsed(rooted), c, net.genesis))).toBe('tx-root');

    const bare = txJson(tip, 1);
    delete bare['proof'];
    expect(checkOf(verifyTx(hash, parsed(bare), c, net.genesis))).toBe('missing-proof');
  });

  it('a block with a tx dropped or swapped behind its certificate', () => {
    const view = (block: Block) => wire(blockResultToJson({ hash: hashBlockHeader(tip.block.header), header: tip.block.header, certificate: tip.qc, block }));
    const dropped = view({ header: tip.block.header, txs: tip.block.txs.slice(1) });
    expect(checkOf(verifyBlock(ok(parseBlockResult(dropped)), net.genesis))).toBe('block-txs');
    const swapped = view({ header: tip.block.header, txs: [...chain[0]!.block.txs.slice(0, 1), ...tip.block.txs.slice(1)] });
    expect(checkOf(verifyBlock(ok(parseBlockResult(swapped)), net.genesis))).toBe('block-txs');
  });
});

describe('client verification: no single changed byte passes', () => {
  /** Every hex string of at least a hash's length in a JSON value, by path. */
  function hexPaths(x: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
    if (typeof x === 'string' && x.length >= 40 && /^[0-9a-f]+$/.test(x)) out.push(path);
    else if (Array.isArray(x)) x.forEach((v, i) => hexPaths(v, [...path, i], out));
    else if (typeof x === 'object' && x !== null) for (const [k, v] of Object.entries(x)) hexPaths(v, [...path, k], out);
    return out;
  }

  function mutate(root: Record<string, unknown>, path: readonly (string | number)[], at: number): void {
    let o = root as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) o = o[p] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    const s = o[last] as string;
    o[last] = flipHex(s, at % s.length);
  }

  it('flipping any hex digit of the account answer or of its commit fails parsing or verification', () => {
    const accountBase = accountJson(tip.state, alice, height);
    const commitBase = commitJson(tip);
    const targets = [
      ...hexPaths(accountBase).map((p) => ['account', p] as const),
      ...hexPaths(commitBase).map((p) => ['commit', p] as const),
    ];
    fc.assert(
      fc.property(fc.nat(targets.length - 1), fc.nat(127), (which, at) => {
        const a = wire(accountBase);
        const c = wire(commitBase);
        const [where, path] = targets[which]!;
        mutate(where === 'account' ? a : c, path, at);
        const pa = parseAccount(a);
        const pc = parseCommitResult(c);
        if (!pa.ok || !pc.ok) return;
        expect(verifyAccount(alice, pa.value, pc.value, net.genesis).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
