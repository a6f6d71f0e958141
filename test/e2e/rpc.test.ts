/**
 * Hostile and careless clients against a real node: each bad request gets the right
 * JSON-RPC error, and the node keeps serving (and committing) after every one.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { encodeTx } from '../../src/codec/tx.js';
import { addressOf, generateKeyPair } from '../../src/crypto/index.js';
import { signTx } from '../../src/ledger/tx.js';
import { base64, E2ECluster, postRaw, rpc } from './cluster.js';

describe('JSON-RPC of a real node under bad input', () => {
  let cluster: E2ECluster;
  let url: string;

  beforeAll(async () => {
    cluster = await E2ECluster.create(1);
    await cluster.startAll();
    url = cluster.rpcUrl(0);
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  async function stillServing(): Promise<void> {
    const health = await rpc(url, 'health');
    expect(health.result).toBeDefined();
  }

  it('answers malformed JSON with -32700', async () => {
    const { text } = await postRaw(url, '{"jsonrpc": "2.0", "method": ');
    expect(JSON.parse(text).error.code).toBe(-32700);
    await stillServing();
  });

  it('answers an unknown method with -32601', async () => {
    expect((await rpc(url, 'no_such_method')).error?.code).toBe(-32601);
    await stillServing();
  });

  it('answers bad params with -32602 naming the parameter', async () => {
    const response = await rpc(url, 'broadcast_tx_sync', { tx: 42 });
    expect(response.error?.code).toBe(-32602);
    expect(response.error?.message).toContain('tx');
    await stillServing();
  });

  it('refuses an oversized body', async () => {
    const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'health', params: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    const { status, text } = await postRaw(url, huge).catch(() => ({ status: 413, text: '' }));
    expect([200, 413]).toContain(status);
    if (status === 200) expect(JSON.parse(text).error.code).toBe(-32600);
    await stillServing();
  });

  it('rejects a forged tx (signed by another key) with the validation code', async () => {
    const impostor = generateKeyPair();
    const unsigned = { chainId: cluster.chainId, sender: cluster.client.publicKey, nonce: 0n, body: { kind: 'transfer' as const, to: addressOf(impostor.publicKey), amount: 1n } };
    const honest = signTx(unsigned, cluster.client);
    const forged = { ...honest, signature: signTx({ ...unsigned, sender: impostor.publicKey }, impostor).signature };
    const response = await rpc(url, 'broadcast_tx_sync', { tx: base64(encodeTx(forged)) });
    expect(response.error).toBeDefined();
    expect(JSON.stringify(response.error?.data)).toContain('bad-signature');
    await stillServing();
  });

  it('rejects garbage tx bytes as malformed, and still commits a good tx afterwards', async () => {
    const garbage = await rpc(url, 'broadcast_tx_sync', { tx: base64(new Uint8Array([1, 2, 3, 4, 5])) });
    expect(JSON.stringify(garbage.error?.data)).toContain('malformed');
    const tx = cluster.signedTx({ kind: 'transfer', to: addressOf(generateKeyPair().publicKey), amount: 1n });
    const committed = await rpc(url, 'broadcast_tx_commit', { tx: base64(tx) }, 20_000);
    expect(committed.error).toBeUndefined();
    expect((committed.result as { height: number }).height).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('ledgerctl sends transfers, puts, grants and revokes, tracking nonces, and reads status', async () => {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), cwd: cluster.dir };
    const account = join(cluster.dir, 'accounts', 'account0.key.json');
    const to = addressOf(generateKeyPair().publicKey);
    // Two in a row without waiting: the second takes its nonce from the node's mempool view.
    expect(await runLedgerctl(['tx', 'transfer', '--to', to, '--amount', '7', '--key', account, '--rpc', url], io), out.join('')).toBe(0);
    expect(await runLedgerctl(['tx', 'put', '--data-key', 'greeting', '--value', 'hello', '--key', account, '--rpc', url, '--wait'], io), out.join('')).toBe(0);
    expect(out.join('')).toMatch(/\(nonce 0\)[\s\S]*\(nonce 1\)[\s\S]*committed at height \d+/);
    const admin = join(cluster.dir, 'client.key.json');
    expect(await runLedgerctl(['tx', 'grant', '--account', to, '--key', admin, '--rpc', url, '--wait', '--json'], io), out.join('')).toBe(0);
    expect(await runLedgerctl(['tx', 'revoke', '--account', to, '--key', account, '--rpc', url, '--wait'], io)).toBe(1);
    expect(out.join('')).toMatch(/not-permitted/);
    const balance = await rpc(url, 'account', { address: to });
    expect(balance.result).toMatchObject({ balance: '7', can_transact: true });
    out.length = 0;
    expect(await runLedgerctl(['status', '--rpc', url], io)).toBe(0);
    expect(out.join('')).toMatch(/chain:\s+e2e[\s\S]*height:\s+\d+/);
    expect(await runLedgerctl(['tx', 'transfer', '--to', 'nope', '--amount', '1', '--key', account, '--rpc', url], io)).toBe(2);
    expect(await runLedgerctl(['status', '--rpc', 'http://127.0.0.1:1'], io)).toBe(1);
  }, 60_000);
});
