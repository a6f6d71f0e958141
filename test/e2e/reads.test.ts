/**
 * The read methods of a real node (one validator process, real LevelDB and libp2p),
 * checked the way a light client would check them: every header it relies on comes from
 * `commit` with a certificate verified against the genesis validators it read from the
 * genesis file (not from the node), and every tx and state proof is verified against
 * that header.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockHeader } from '../../src/codec/types.js';
import { addressOf, fromHex, generateKeyPair, makeVerifier, sha256, toHex, utf8 } from '../../src/crypto/index.js';
import { decodeAccount } from '../../src/ledger/account.js';
import { hashBlockHeader, verifyQuorumCertificate } from '../../src/ledger/block.js';
import { genesisHash, parseGenesis, validatorKeys, type Genesis } from '../../src/ledger/genesis.js';
import { verifyMerkleProof } from '../../src/ledger/merkle.js';
import { stateProofFromJson, verifyStateProof } from '../../src/ledger/smt.js';
import { accountKey, recordKey } from '../../src/ledger/state.js';
import { certificateFromJson, headerFromJson, txProofFromJson } from '../../src/rpc/json.js';
import { base64, E2ECluster, rpc } from './cluster.js';

describe('read methods of a real node', () => {
  let cluster: E2ECluster;
  let url: string;
  let genesis: Genesis;
  const recipient = addressOf(generateKeyPair().publicKey);
  const committed: { hash: string; height: number; index: number }[] = [];

  async function result(method: string, params: unknown = {}): Promise<any> {
    const reply = await rpc(url, method, params);
    if (reply.error !== undefined) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }

  /** Fetches `commit {height}` and checks it as a light client: header hash, then the certificate. */
  async function certifiedHeader(height: number): Promise<BlockHeader> {
    const commit = await result('commit', { height });
    const header = headerFromJson(commit.header);
    const certificate = certificateFromJson(commit.certificate);
    if (!header.ok || !certificate.ok) throw new Error('commit does not parse');
    const blockHash = hashBlockHeader(header.value);
    expect(toHex(blockHash)).toBe(commit.hash);
    const verified = verifyQuorumCertificate(certificate.value, validatorKeys(genesis), makeVerifier(genesis.chainId), { height, blockHash });
    expect(verified).toEqual({ ok: true, value: undefined });
    return header.value;
  }

  beforeAll(async () => {
    cluster = await E2ECluster.create(1);
    const parsed = parseGenesis(await readFile(join(cluster.dir, 'genesis.json'), 'utf8'));
    if (!parsed.ok) throw new Error(parsed.error.message);
    genesis = parsed.value;
    await cluster.startAll();
    url = cluster.rpcUrl(0);
    const txs = [
      cluster.signedTx({ kind: 'transfer', to: recipient, amount: 25n }),
      cluster.signedTx({ kind: 'put', key: 'color', value: utf8('blue') }),
      cluster.signedTx({ kind: 'grant', account: recipient }),
    ];
    // The first two without waiting (they may share a block), then wait for all three.
    const sent = txs.map((tx) => rpc(url, 'broadcast_tx_commit', { tx: base64(tx) }, 20_000));
    for (const reply of await Promise.all(sent)) {
      if (reply.error !== undefined) throw new Error(JSON.stringify(reply.error));
      committed.push(reply.result as { hash: string; height: number; index: number });
    }
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('blocks: block, block_by_hash, header, commit and blockchain agree, and every certificate verifies', async () => {
    const { height, hash, index } = committed[0]!;
    const header = await certifiedHeader(height);
    const block = await result('block', { height });
    expect(block.header).toEqual((await result('header', { height })).header);
    expect(block.txs[index].hash).toBe(hash);
    expect(block.txs).toHaveLength(header.txCount);
    expect(await result('block_by_hash', { hash: block.hash })).toEqual(block);
    const latest = await result('commit');
    await certifiedHeader(latest.header.height);
    const chain = await result('blockchain');
    expect(chain.latest_height).toBeGreaterThanOrEqual(latest.header.height);
    const heights = chain.headers.map((h: any) => h.header.height);
    expect(heights).toEqual([...heights].sort((a: number, b: number) => b - a));
    expect(heights[heights.length - 1]).toBe(1);
    expect(chain.headers.find((h: any) => h.header.height === height).hash).toBe(block.hash);
  });

  it('tx with prove: the inclusion proof verifies against the certified tx root', async () => {
    for (const { hash, height, index } of committed) {
      const tx = await result('tx', { hash, prove: true });
      expect(tx).toMatchObject({ hash, height, index, code: 'ok' });
      expect(toHex(sha256(new Uint8Array(Buffer.from(tx.tx, 'base64'))))).toBe(hash);
      const header = await certifiedHeader(height);
      const proof = txProofFromJson(tx.proof);
      if (!proof.ok) throw new Error(proof.error);
      expect(verifyMerkleProof(header.txRoot, fromHex(hash), { index: proof.value.index, total: header.txCount, siblings: proof.value.siblings })).toBe(true);
    }
  });

  it("tx_search finds the client's txs by sender, in chain order", async () => {
    const client = addressOf(cluster.client.publicKey);
    const found = await result('tx_search', { sender: client });
    expect(found.total_count).toBe(3);
    const inChainOrder = [...committed].sort((a, b) => a.height - b.height || a.index - b.index);
    expect(found.txs.map((t: any) => t.hash)).toEqual(inChainOrder.map((c) => c.hash));
    expect(found.txs.map((t: any) => t.nonce)).toEqual(['0', '1', '2']);
    const byHeight = await result('tx_search', { min_height: committed[0]!.height, max_height: committed[0]!.height });
    expect(byHeight.txs.some((t: any) => t.hash === committed[0]!.hash)).toBe(true);
  });

  it('account and query with prove: values proven against the certified state root at their height', async () => {
    const account = await result('account', { address: recipient, prove: true });
    expect(account).toMatchObject({ balance: '25', can_transact: true });
    let header = await certifiedHeader(account.height);
    let smt = stateProofFromJson(account.proof.smt);
    if (!smt.ok) throw new Error(smt.error);
    const value = fromHex(account.proof.value);
    expect(verifyStateProof(header.stateRoot, accountKey(recipient), value, smt.value)).toBe(true);
    const decoded = decodeAccount(value);
    expect(decoded.ok && [decoded.value.balance, decoded.value.canTransact]).toEqual([25n, true]);

    const client = addressOf(cluster.client.publicKey);
    const record = await result('query', { owner: client, key: 'color', prove: true });
    expect(Buffer.from(record.value, 'base64').toString()).toBe('blue');
    header = await certifiedHeader(record.height);
    smt = stateProofFromJson(record.proof.smt);
    if (!smt.ok) throw new Error(smt.error);
    expect(verifyStateProof(header.stateRoot, recordKey(client, 'color'), utf8('blue'), smt.value)).toBe(true);

    const missing = await result('query', { owner: client, key: 'shape', prove: true });
    expect(missing.value).toBeNull();
    header = await certifiedHeader(missing.height);
    smt = stateProofFromJson(missing.proof.smt);
    expect(smt.ok && verifyStateProof(header.stateRoot, recordKey(client, 'shape'), undefined, smt.value)).toBe(true);
  });

  it('validators, genesis, net_info, the mempool and evidence', async () => {
    const validators = await result('validators');
    expect(validators).toMatchObject({ count: 1, quorum: 1 });
    expect(validators.validators[0]).toMatchObject({ index: 0, public_key: toHex(genesis.validators[0]!.publicKey), address: genesis.validators[0]!.address });
    const g = await result('genesis');
    expect(g.genesis_hash).toBe(toHex(genesisHash(genesis)));
    expect(g.genesis.chainId).toBe(genesis.chainId);
    const net = await result('net_info');
    expect(net).toMatchObject({ connected_peers: 0, peers: [] });
    expect(net.node_id).toBe((await result('status')).node_id);
    expect(net.listen_addresses.length).toBeGreaterThan(0);
    expect(await result('num_unconfirmed_txs')).toEqual({ count: 0, total_bytes: 0 });
    expect(await result('unconfirmed_txs', { limit: 5 })).toEqual({ count: 0, total_bytes: 0, txs: [] });
    expect(await result('evidence')).toEqual({ count: 0, evidence: [] });
    const missing = await rpc(url, 'block', { height: 1_000_000 });
    expect(missing.error?.code).toBe(-32015);
  });
});
