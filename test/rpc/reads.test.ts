/**
 * The read methods end to end through the RPC server, over the node's real read side
 * (NodeQueries) and real certified blocks: once over an in-memory chain and once over a
 * real LevelDB BlockStore (the sender index, header rows, tx slices). Every proof a
 * method returns is checked the way a light client would: against a header it fetched
 * with `commit`, whose certificate it verified against the genesis validators.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeVotePayload } from '../../src/codec/consensus.js';
import { decodeTx, encodeTx } from '../../src/codec/tx.js';
import type { BlockHeader, Prepare, Tx } from '../../src/codec/types.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.js';
import { sign } from '../../src/crypto/domain.js';
import { sha256 } from '../../src/crypto/hash.js';
import { decodeAccount } from '../../src/ledger/account.js';
import { hashBlockHeader, verifyQuorumCertificate } from '../../src/ledger/block.js';
import { genesisFromJson, genesisHash, validatorKeys } from '../../src/ledger/genesis.js';
import { verifyMerkleProof } from '../../src/ledger/merkle.js';
import { stateProofFromJson, verifyStateProof } from '../../src/ledger/smt.js';
import { accountKey, recordKey } from '../../src/ledger/state.js';
import { hashTx } from '../../src/ledger/tx.js';
import { RPC_ERROR } from '../../src/rpc/errors.js';
import { certificateFromJson, headerFromJson, txProofFromJson } from '../../src/rpc/json.js';
import { MAX_BLOCKCHAIN_HEADERS } from '../../src/rpc/methods.js';
import { RpcServer } from '../../src/rpc/server.js';
import { BlockStore } from '../../src/store/index.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { FakeNode } from './fake-node.js';

const tn = makeTestnet({ accounts: 4, balance: 1_000_000n });
const [a0, a1, a2, a3] = tn.addresses as [string, string, string, string];
const outsider = 'ab'.repeat(20);
const b64 = (tx: Tx): string => Buffer.from(encodeTx(tx)).toString('base64');
const hex = (tx: Tx): string => toHex(hashTx(tx));

/** Blocks 1-3 mix every tx kind; blocks 4-55 each hold one put from account 3 (nonces 0-51). */
const FIRST_BLOCKS: readonly (readonly Tx[])[] = [
  [tn.signTransfer(0, 1, 500n, 0n), tn.signTransfer(1, 2, 7n, 0n), tn.signPut(2, 'greeting', utf8('hello'), 0n)],
  [tn.signTransfer(0, 3, 11n, 1n), tn.signPut(2, 'greeting', utf8('world'), 1n), tn.signGrant(0, outsider, 2n)],
  [tn.signTransfer(0, outsider, 3n, 3n)],
];
const ACCOUNT3_PUTS = 52;
const CHAIN_HEIGHT = FIRST_BLOCKS.length + ACCOUNT3_PUTS;

interface Reply {
  readonly result?: any; // JSON under test
  readonly error?: { readonly code: number; readonly message: string; readonly data?: any };
}

async function call(url: string, method: string, params?: unknown): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) }),
  });
  return (await res.json()) as Reply;
}

function expectParamError(reply: Reply, param: string): void {
  expect(reply.error?.code).toBe(RPC_ERROR.invalidParams);
  expect(reply.error?.message).toContain(`${param}:`);
  expect(reply.error?.data).toEqual({ param });
}

/** What a light client does with `commit`: rebuild the header, hash it, verify the certificate. */
function checkedHeader(commit: any, height: number): BlockHeader {
  const header = headerFromJson(commit.header);
  const certificate = certificateFromJson(commit.certificate);
  if (!header.ok || !certificate.ok) throw new Error('commit does not parse');
  const hash = hashBlockHeader(header.value);
  expect(toHex(hash)).toBe(commit.hash);
  expect(verifyQuorumCertificate(certificate.value, validatorKeys(tn.genesis), tn.verifier, { height, blockHash: hash }).ok).toBe(true);
  return header.value;
}

type StoreKind = 'memory' | 'leveldb';

describe.each<StoreKind>(['memory', 'leveldb'])('read methods over a %s chain', (kind) => {
  let node: FakeNode;
  let server: RpcServer;
  let url: string;
  let home: string | undefined;
  let store: BlockStore | undefined;
  const committed: Tx[][] = [];

  beforeAll(async () => {
    if (kind === 'leveldb') {
      home = await mkdtemp(join(tmpdir(), 'ledger-reads-'));
      store = await BlockStore.open(home, tn.genesis, { sync: false });
    }
    node = new FakeNode(tn, store === undefined ? {} : { store });
    for (const txs of FIRST_BLOCKS) {
      node.commit(txs);
      committed.push([...txs]);
    }
    for (let nonce = 0; nonce < ACCOUNT3_PUTS; nonce++) {
      const txs = [tn.signPut(3, `k${nonce}`, utf8(`v${nonce}`), BigInt(nonce))];
      node.commit(txs);
      committed.push(txs);
    }
    await node.settled();
    server = new RpcServer({ port: 0 }, node);
    await server.start();
    url = server.url as string;
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    await store?.close();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  const txAt = (height: number, index: number): Tx => committed[height - 1]![index]!;

  describe('blocks', () => {
    it('block: header, certificate and txs as bytes and decoded fields; the latest without a height', async () => {
      const reply = await call(url, 'block', { height: 2 });
      const header = checkedHeader(reply.result, 2);
      expect(header.txCount).toBe(3);
      const txs = reply.result.txs as any[];
      expect(txs.map((t) => t.hash)).toEqual(committed[1]!.map(hex));
      for (const t of txs) {
        const decoded = decodeTx(new Uint8Array(Buffer.from(t.tx, 'base64')));
        expect(decoded.ok && toHex(sha256(encodeTx(decoded.value)))).toBe(t.hash);
      }
      expect(txs[0]).toEqual({
        hash: hex(txAt(2, 0)),
        tx: b64(txAt(2, 0)),
        chain_id: tn.chainId,
        sender: toHex(tn.accountKeys[0]!.publicKey),
        sender_address: a0,
        nonce: '1',
        signature: toHex(txAt(2, 0).signature),
        body: { kind: 'transfer', to: a3, amount: '11' },
      });
      expect(txs[1].body).toEqual({ kind: 'put', key: 'greeting', value: Buffer.from('world').toString('base64') });
      expect(txs[2].body).toEqual({ kind: 'grant', account: outsider });

      const latest = await call(url, 'block');
      expect(latest.result.header.height).toBe(CHAIN_HEIGHT);
      expect(latest.result.certificate.height).toBe(CHAIN_HEIGHT);
    });

    it('block_by_hash finds the same block; header and commit are its parts', async () => {
      const byHeight = (await call(url, 'block', [3])).result;
      const byHash = (await call(url, 'block_by_hash', { hash: byHeight.hash.toUpperCase() })).result;
      expect(byHash).toEqual(byHeight);
      expect((await call(url, 'header', { height: 3 })).result).toEqual({ hash: byHeight.hash, header: byHeight.header });
      expect((await call(url, 'commit', { height: 3 })).result).toEqual({ hash: byHeight.hash, header: byHeight.header, certificate: byHeight.certificate });
      expect((await call(url, 'commit')).result.header.height).toBe(CHAIN_HEIGHT);
    });

    it('answers -32015 for what the node does not have, and -32602 naming a bad param', async () => {
      for (const method of ['block', 'header', 'commit']) {
        const above = await call(url, method, { height: CHAIN_HEIGHT + 1 });
        expect(above.error?.code).toBe(RPC_ERROR.notFound);
        expect(above.error?.data).toEqual({ param: 'height', latest_height: CHAIN_HEIGHT });
        expectParamError(await call(url, method, { height: 0 }), 'height');
        expectParamError(await call(url, method, { height: '3' }), 'height');
        expectParamError(await call(url, method, { hieght: 3 }), 'hieght');
      }
      const unknown = await call(url, 'block_by_hash', { hash: '00'.repeat(32) });
      expect(unknown.error?.code).toBe(RPC_ERROR.notFound);
      expect(unknown.error?.data).toEqual({ param: 'hash' });
      expectParamError(await call(url, 'block_by_hash', { hash: 'xyz' }), 'hash');
      expectParamError(await call(url, 'block_by_hash', {}), 'hash');
    });

    it(`blockchain: headers newest first, at most ${MAX_BLOCKCHAIN_HEADERS}, clamped to the tip`, async () => {
      const page = (await call(url, 'blockchain')).result;
      expect(page.latest_height).toBe(CHAIN_HEIGHT);
      expect(page.headers.map((h: any) => h.header.height)).toEqual(Array.from({ length: MAX_BLOCKCHAIN_HEADERS }, (_, i) => CHAIN_HEIGHT - i));
      for (const h of page.headers) {
        const parsed = headerFromJson(h.header);
        expect(parsed.ok && toHex(hashBlockHeader(parsed.value))).toBe(h.hash);
      }
      const back = (await call(url, 'blockchain', { max_height: 5 })).result;
      expect(back.headers.map((h: any) => h.header.height)).toEqual([5, 4, 3, 2, 1]);
      // Each header links to the one after it in the list.
      expect(back.headers[0].header.parent_hash).toBe(back.headers[1].hash);
      const window = (await call(url, 'blockchain', { min_height: 50, max_height: 1_000 })).result;
      expect(window.headers.map((h: any) => h.header.height)).toEqual([55, 54, 53, 52, 51, 50]);
      expect((await call(url, 'blockchain', { min_height: 60 })).result.headers).toEqual([]);
      expectParamError(await call(url, 'blockchain', { min_height: 6, max_height: 5 }), 'min_height');
      expectParamError(await call(url, 'blockchain', { max_height: -1 }), 'max_height');
    });
  });

  describe('txs', () => {
    it('tx: the committed tx with height and index; with prove, a Merkle proof to the certified tx root', async () => {
      const tx = txAt(2, 1);
      const plain = (await call(url, 'tx', { hash: hex(tx) })).result;
      expect(plain).toMatchObject({ hash: hex(tx), tx: b64(tx), height: 2, index: 1, code: 'ok' });
      expect(plain.proof).toBeUndefined();

      const proved = (await call(url, 'tx', { hash: hex(tx), prove: true })).result;
      const header = checkedHeader((await call(url, 'commit', { height: proved.height })).result, proved.height);
      const proof = txProofFromJson(proved.proof);
      expect(proof.ok).toBe(true);
      if (!proof.ok) return;
      expect(toHex(proof.value.txRoot)).toBe(toHex(header.txRoot));
      const merkle = { index: proof.value.index, total: header.txCount, siblings: proof.value.siblings };
      expect(merkle.index).toBe(1);
      expect(verifyMerkleProof(header.txRoot, hashTx(tx), merkle)).toBe(true);
      expect(verifyMerkleProof(header.txRoot, hashTx(txAt(2, 0)), merkle)).toBe(false);
    });

    it('tx: -32015 for an unknown hash, -32602 for a bad one or a bad prove flag', async () => {
      const pending = tn.signTransfer(3, 0, 1n, 99n);
      const unknown = await call(url, 'tx', { hash: hex(pending) });
      expect(unknown.error?.code).toBe(RPC_ERROR.notFound);
      expect(unknown.error?.data).toEqual({ param: 'hash' });
      expectParamError(await call(url, 'tx', { hash: '12' }), 'hash');
      expectParamError(await call(url, 'tx', { hash: hex(pending), prove: 'yes' }), 'prove');
    });

    it("tx_search by sender: the sender's txs in chain order, paged, with the total", async () => {
      const first = (await call(url, 'tx_search', { sender: a3, per_page: 10 })).result;
      expect(first).toMatchObject({ total_count: ACCOUNT3_PUTS, total_capped: false, page: 1, per_page: 10 });
      expect(first.txs.map((t: any) => t.height)).toEqual(Array.from({ length: 10 }, (_, i) => 4 + i));
      expect(first.txs.every((t: any) => t.sender_address === a3 && t.code === 'ok' && t.index === 0)).toBe(true);
      const last = (await call(url, 'tx_search', { sender: a3, per_page: 10, page: 6 })).result;
      expect(last.txs.map((t: any) => t.nonce)).toEqual(['50', '51']);
      const beyond = (await call(url, 'tx_search', { sender: a3, per_page: 10, page: 7 })).result;
      expect(beyond).toMatchObject({ txs: [], total_count: ACCOUNT3_PUTS });
      const newest = (await call(url, 'tx_search', { sender: a3, per_page: 3, order: 'desc' })).result;
      expect(newest.txs.map((t: any) => t.height)).toEqual([CHAIN_HEIGHT, CHAIN_HEIGHT - 1, CHAIN_HEIGHT - 2]);
      expect(newest.txs[0].hash).toBe(hex(txAt(CHAIN_HEIGHT, 0)));

      const a0Txs = (await call(url, 'tx_search', { sender: a0 })).result;
      expect(a0Txs.txs.map((t: any) => [t.height, t.index])).toEqual([[1, 0], [2, 0], [2, 2], [3, 0]]);
      expect(a0Txs.txs.map((t: any) => t.hash)).toEqual([txAt(1, 0), txAt(2, 0), txAt(2, 2), txAt(3, 0)].map(hex));
      const ranged = (await call(url, 'tx_search', { sender: a0, min_height: 2, max_height: 2 })).result;
      expect(ranged.txs.map((t: any) => t.index)).toEqual([0, 2]);
      expect((await call(url, 'tx_search', { sender: outsider })).result).toMatchObject({ txs: [], total_count: 0 });
    });

    it('tx_search by height range: every tx of those blocks in (height, index) order, either way', async () => {
      const all = (await call(url, 'tx_search', { min_height: 1, max_height: 3 })).result;
      const expected = committed.slice(0, 3).flatMap((txs, h) => txs.map((tx, index) => [h + 1, index, hex(tx)]));
      expect(all.total_count).toBe(7);
      expect(all.txs.map((t: any) => [t.height, t.index, t.hash])).toEqual(expected);
      const paged = (await call(url, 'tx_search', { min_height: 1, max_height: 3, per_page: 3, page: 2 })).result;
      expect(paged.txs.map((t: any) => t.hash)).toEqual(expected.slice(3, 6).map((e) => e[2]));
      const desc = (await call(url, 'tx_search', { min_height: 1, max_height: 3, per_page: 4, order: 'desc' })).result;
      expect(desc.txs.map((t: any) => t.hash)).toEqual([...expected].reverse().slice(0, 4).map((e) => e[2]));
      const everything = (await call(url, 'tx_search', { per_page: 100 })).result;
      expect(everything.total_count).toBe(7 + ACCOUNT3_PUTS);
      expect(everything.txs).toHaveLength(7 + ACCOUNT3_PUTS);
      expect(everything.txs.map((t: any) => t.hash)).toEqual(committed.flat().map(hex));
    });

    it('tx_search bounds every page and names the param it refuses', async () => {
      expectParamError(await call(url, 'tx_search', { per_page: 101 }), 'per_page');
      expectParamError(await call(url, 'tx_search', { per_page: 0 }), 'per_page');
      expectParamError(await call(url, 'tx_search', { page: 0 }), 'page');
      expectParamError(await call(url, 'tx_search', { page: 101, per_page: 100 }), 'page');
      expectParamError(await call(url, 'tx_search', { sender: 'nope' }), 'sender');
      expectParamError(await call(url, 'tx_search', { order: 'newest' }), 'order');
      expectParamError(await call(url, 'tx_search', { min_height: 9, max_height: 8 }), 'min_height');
      expect((await call(url, 'tx_search', { page: 100, per_page: 100 })).result.txs).toEqual([]);
    });
  });

  describe('state', () => {
    it('account with prove: the value and a proof against the certified state root at its height', async () => {
      const reply = (await call(url, 'account', { address: a1, prove: true })).result;
      expect(reply).toMatchObject({ address: a1, height: CHAIN_HEIGHT, balance: String(1_000_000 + 500 - 7), nonce: '1' });
      const header = checkedHeader((await call(url, 'commit', { height: reply.height })).result, reply.height);
      expect(reply.proof.state_root).toBe(toHex(header.stateRoot));
      const smt = stateProofFromJson(reply.proof.smt);
      expect(smt.ok).toBe(true);
      if (!smt.ok) return;
      const value = fromHex(reply.proof.value);
      // The client derives the key itself rather than trusting the one sent.
      expect(reply.proof.key).toBe(toHex(accountKey(a1)));
      expect(verifyStateProof(header.stateRoot, accountKey(a1), value, smt.value)).toBe(true);
      expect(verifyStateProof(header.stateRoot, accountKey(a2), value, smt.value)).toBe(false);
      const account = decodeAccount(value);
      expect(account.ok && account.value.balance.toString()).toBe(reply.balance);
      expect((await call(url, 'account', { address: a1 })).result.proof).toBeUndefined();
    });

    it('account: an address with nothing is proven absent', async () => {
      const nobody = 'cd'.repeat(20);
      const reply = (await call(url, 'account', { address: nobody, prove: true })).result;
      expect(reply).toMatchObject({ balance: '0', nonce: '0', can_transact: false });
      expect(reply.proof.value).toBeNull();
      const smt = stateProofFromJson(reply.proof.smt);
      expect(smt.ok && verifyStateProof(fromHex(reply.proof.state_root), accountKey(nobody), undefined, smt.value)).toBe(true);
      expectParamError(await call(url, 'account', { address: nobody, prove: 1 }), 'prove');
    });

    it('query: a data record (base64) with its proof; a missing record is null and proven absent', async () => {
      const reply = (await call(url, 'query', { owner: a2, key: 'greeting', prove: true })).result;
      expect(reply).toMatchObject({ owner: a2, key: 'greeting', height: CHAIN_HEIGHT, value: Buffer.from('world').toString('base64') });
      const header = checkedHeader((await call(url, 'commit', { height: reply.height })).result, reply.height);
      const smt = stateProofFromJson(reply.proof.smt);
      expect(smt.ok && verifyStateProof(header.stateRoot, recordKey(a2, 'greeting'), utf8('world'), smt.value)).toBe(true);
      expect(smt.ok && verifyStateProof(header.stateRoot, recordKey(a2, 'greeting'), utf8('hello'), smt.value)).toBe(false);

      const missing = (await call(url, 'query', [a2, 'farewell', true])).result;
      expect(missing.value).toBeNull();
      const absent = stateProofFromJson(missing.proof.smt);
      expect(absent.ok && verifyStateProof(header.stateRoot, recordKey(a2, 'farewell'), undefined, absent.value)).toBe(true);
      expect((await call(url, 'query', { owner: a3, key: 'k51' })).result).toEqual({ owner: a3, key: 'k51', height: CHAIN_HEIGHT, value: Buffer.from('v51').toString('base64') });

      expectParamError(await call(url, 'query', { owner: a2, key: '' }), 'key');
      expectParamError(await call(url, 'query', { owner: a2, key: 'x'.repeat(257) }), 'key');
      expectParamError(await call(url, 'query', { owner: a2, key: '\ud800' }), 'key');
      expectParamError(await call(url, 'query', { owner: 'zz', key: 'greeting' }), 'owner');
      expectParamError(await call(url, 'query', { owner: a2 }), 'key');
    });
  });

  describe('node', () => {
    it('validators and genesis come from the genesis', async () => {
      const v = (await call(url, 'validators')).result;
      expect(v.count).toBe(4);
      expect(v.quorum).toBe(3);
      expect(v.validators[1]).toEqual({
        index: 1,
        name: 'v1',
        address: tn.genesis.validators[1]!.address,
        public_key: toHex(tn.validatorKeys[1]!.publicKey),
        p2p: tn.genesis.validators[1]!.p2p,
        rpc: tn.genesis.validators[1]!.rpc,
      });
      const g = (await call(url, 'genesis')).result;
      expect(g.genesis_hash).toBe(toHex(tn.genesisHash));
      const parsed = genesisFromJson(g.genesis);
      expect(parsed.ok && toHex(genesisHash(parsed.value))).toBe(toHex(tn.genesisHash));
    });

    it('net_info lists every peer with its genesis name, address and connection state', async () => {
      const info = (await call(url, 'net_info')).result;
      expect(info.node_id).toBe('12D3KooWFake');
      expect(info.listen_addresses).toEqual(['/ip4/127.0.0.1/tcp/26676']);
      expect(info.connected_peers).toBe(2);
      expect(info.peers.map((p: any) => [p.index, p.name, p.address, p.connected])).toEqual([
        [0, 'v0', tn.genesis.validators[0]!.p2p, true],
        [1, 'v1', tn.genesis.validators[1]!.p2p, true],
        [3, 'v3', tn.genesis.validators[3]!.p2p, false],
      ]);
      expect(info.peers[1]).toMatchObject({ role: 'validator', node_id: '12D3KooWPeer1', banned: false, penalties: 2 });
      expect(info.peers[1].tx_queue).toEqual({ queued_bytes: 10, queued_frames: 1, sent_frames: 101, dropped_frames: 0, stream_open: true });
    });

    it('num_unconfirmed_txs and unconfirmed_txs list the mempool in arrival order, bounded by limit', async () => {
      const before = (await call(url, 'num_unconfirmed_txs')).result;
      const pending = [tn.signTransfer(1, 0, 1n, 1n), tn.signTransfer(1, 0, 2n, 2n), tn.signPut(0, 'later', utf8('x'), 4n)];
      for (const tx of pending) expect((await call(url, 'broadcast_tx_sync', { tx: b64(tx) })).error).toBeUndefined();
      const counted = (await call(url, 'num_unconfirmed_txs')).result;
      expect(counted.count).toBe(before.count + 3);
      expect(counted.total_bytes).toBe(before.total_bytes + pending.reduce((n, tx) => n + encodeTx(tx).length, 0));
      const listed = (await call(url, 'unconfirmed_txs', { limit: 2 })).result;
      expect(listed.count).toBe(counted.count);
      expect(listed.txs.map((t: any) => t.hash)).toEqual(pending.slice(0, 2).map(hex));
      expect((await call(url, 'unconfirmed_txs')).result.txs.map((t: any) => t.hash)).toEqual(pending.map(hex));
      expectParamError(await call(url, 'unconfirmed_txs', { limit: 0 }), 'limit');
      expectParamError(await call(url, 'unconfirmed_txs', { limit: 101 }), 'limit');
      // A pending tx is not committed: tx by hash does not find it.
      expect((await call(url, 'tx', { hash: hex(pending[0]!) })).error?.code).toBe(RPC_ERROR.notFound);
    });

    it('evidence: both conflicting messages with what their signatures cover', async () => {
      expect((await call(url, 'evidence')).result).toEqual({ count: 0, evidence: [] });
      const prepare = (blockHash: Uint8Array): Prepare => ({
        type: 'prepare',
        view: 4,
        height: 9,
        blockHash,
        validator: 1,
        signature: sign(tn.validatorKeys[1]!, 'prepare', tn.chainId, encodeVotePayload({ view: 4, height: 9, blockHash })),
      });
      const first = prepare(new Uint8Array(32).fill(1));
      const second = prepare(new Uint8Array(32).fill(2));
      node.evidence.push({ validator: 1, kind: 'prepare', view: 4, height: 9, first, second });
      const reply = (await call(url, 'evidence')).result;
      expect(reply.count).toBe(1);
      const e = reply.evidence[0];
      expect(e).toMatchObject({ validator: 1, kind: 'prepare', view: 4, height: 9 });
      expect(e.first).toEqual({ type: 'prepare', validator: 1, view: 4, height: 9, block_hash: '01'.repeat(32), signature: toHex(first.signature) });
      // A third party can check each signature from the JSON alone.
      for (const m of [e.first, e.second]) {
        const payload = encodeVotePayload({ view: m.view, height: m.height, blockHash: fromHex(m.block_hash) });
        expect(tn.verifier.verify(tn.validatorKeys[1]!.publicKey, 'prepare', payload, fromHex(m.signature))).toBe(true);
      }
      node.evidence.length = 0;
    });
  });
});

describe('read methods before the first block', () => {
  it('answer not found (latest 0) rather than failing, and list nothing', async () => {
    const node = new FakeNode(tn);
    const server = new RpcServer({ port: 0 }, node);
    await server.start();
    const url = server.url as string;
    try {
      const block = await call(url, 'block');
      expect(block.error?.code).toBe(RPC_ERROR.notFound);
      expect(block.error?.data).toEqual({ param: 'height', latest_height: 0 });
      expect((await call(url, 'blockchain')).result).toEqual({ latest_height: 0, headers: [] });
      expect((await call(url, 'tx_search', { sender: a0 })).result).toEqual({ txs: [], total_count: 0, total_capped: false, page: 1, per_page: 30 });
      const account = (await call(url, 'account', { address: a0, prove: true })).result;
      expect(account.height).toBe(0);
      // At height 0 the proof is against the genesis state.
      const smt = stateProofFromJson(account.proof.smt);
      expect(account.proof.state_root).toBe(toHex(tn.state().root));
      expect(smt.ok && verifyStateProof(tn.state().root, accountKey(a0), fromHex(account.proof.value), smt.value)).toBe(true);
    } finally {
      await server.stop();
    }
  });
});
