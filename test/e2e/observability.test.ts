/**
 * One real node: /metrics and /websocket on its RPC port, while a tx commits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { toHex } from '../../src/crypto/bytes.js';
import { addressOf, sha256 } from '../../src/crypto/index.js';
import { parseExposition, sampleValue } from '../helpers/prometheus.js';
import { base64, E2ECluster, rpc, waitFor } from './cluster.js';

describe('a real node serves /metrics and /websocket', () => {
  let cluster: E2ECluster;

  beforeAll(async () => {
    cluster = await E2ECluster.create(1);
    await cluster.startAll();
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('streams the block and the tx as they commit, and counts them in /metrics', async () => {
    const url = cluster.rpcUrl(0);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/websocket`);
    const messages: any[] = []; // JSON under test
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    try {
      const sender = addressOf(cluster.client.publicKey);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { query: { type: 'block' } } }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'subscribe', params: { query: { type: 'tx', sender } } }));
      await waitFor('both subscriptions', async () => (messages.filter((m) => m.id !== undefined).length === 2 ? true : undefined), 5_000, 20);
      const blocksId = messages.find((m) => m.id === 1).result.subscription;
      const txsId = messages.find((m) => m.id === 2).result.subscription;

      const tx = cluster.signedTx({ kind: 'put', key: 'k', value: new Uint8Array([1, 2, 3]) });
      const hash = toHex(sha256(tx));
      const committed = await rpc(url, 'broadcast_tx_commit', { tx: base64(tx) });
      expect(committed.error).toBeUndefined();
      const { height } = committed.result as { height: number };

      const txEvent = await waitFor('the tx event', async () => messages.find((m) => m.params?.subscription === txsId), 5_000, 20);
      expect(txEvent.params.result).toMatchObject({ type: 'tx', hash, height, index: 0, sender, kind: 'put' });
      const blockEvent = messages.find((m) => m.params?.subscription === blocksId && m.params.result.height === height);
      expect(blockEvent.params.result).toMatchObject({ type: 'block', height, tx_count: 1, txs: [hash] });
      expect(blockEvent.params.result.certificate.signers).toEqual([0]);
      // The block event came before that block's tx event.
      expect(messages.indexOf(blockEvent)).toBeLessThan(messages.indexOf(txEvent));

      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      const families = parseExposition(await res.text());
      const value = (name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels) ?? -1;
      expect(value('ledger_height')).toBeGreaterThanOrEqual(height);
      expect(value('ledger_blocks_committed_total')).toBeGreaterThanOrEqual(1);
      expect(value('ledger_txs_committed_total')).toBeGreaterThanOrEqual(1);
      expect(value('ledger_commit_latency_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(value('ledger_wal_write_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(value('ledger_store_write_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(value('ledger_signature_verifications_total', { kind: 'tx', result: 'valid' })).toBeGreaterThanOrEqual(1);
      expect(value('ledger_rpc_requests_total', { transport: 'http', method: 'broadcast_tx_commit', code: '0' })).toBe(1);
      expect(value('ledger_rpc_requests_total', { transport: 'ws', method: 'subscribe', code: '0' })).toBe(2);
      expect(value('ledger_websocket_connections')).toBe(1);
      expect(value('ledger_websocket_subscriptions')).toBe(2);
      expect(value('ledger_mempool_txs')).toBe(0);
      expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    } finally {
      ws.terminate();
    }
  });
});
