import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTx } from '../../src/codec/tx.js';
import { toHex } from '../../src/crypto/bytes.js';
import { hashTx } from '../../src/ledger/tx.js';
import { describeCallError, rpcCall } from '../../src/rpc/client.js';
import { RPC_ERROR } from '../../src/rpc/errors.js';
import { METHODS, method } from '../../src/rpc/methods.js';
import { noParams } from '../../src/rpc/params.js';
import { RpcServer } from '../../src/rpc/server.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { FakeNode } from './fake-node.js';

const tn = makeTestnet({ accounts: 3 });

/** A plain HTTP server answering every request with `status` and `body`. */
async function cannedServer(status: number, body: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('rpcCall', () => {
  const node = new FakeNode(tn);
  const sleep = method({ name: 'test_sleep', description: 'Never finishes.', params: noParams, handler: () => new Promise<never>(() => {}) });
  const server = new RpcServer({ port: 0, maxBodyBytes: 4096, methods: [...METHODS, sleep] }, node);
  let url: string;
  beforeAll(async () => {
    await server.start();
    url = server.url!;
  });
  afterAll(() => server.stop());

  it('returns the result of a call', async () => {
    const tx = tn.signPut(1, 'k', Uint8Array.of(1), 0n);
    const r = await rpcCall(url, 'broadcast_tx_sync', { tx: Buffer.from(encodeTx(tx)).toString('base64') });
    expect(r).toEqual({ ok: true, value: { hash: toHex(hashTx(tx)), duplicate: false } });
    expect(await rpcCall(url, 'health')).toEqual({ ok: true, value: { ok: true, reasons: [] } });
  });

  it('returns a JSON-RPC error as kind rpc, with its code and data', async () => {
    const r = await rpcCall(url, 'broadcast_tx_sync', { tx: Buffer.from('junk').toString('base64') });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ kind: 'rpc', code: RPC_ERROR.txRejected, status: 200, data: { code: 'malformed' } });
    expect(describeCallError(r.error)).toContain('-32010');
    const missing = await rpcCall(url, 'no_such_method');
    expect(!missing.ok && missing.error).toMatchObject({ kind: 'rpc', code: RPC_ERROR.methodNotFound });
  });

  it('reports an HTTP-level refusal through its JSON-RPC error body', async () => {
    const r = await rpcCall(url, 'broadcast_tx_sync', { tx: 'A'.repeat(8192) });
    expect(!r.ok && r.error).toMatchObject({ kind: 'rpc', code: RPC_ERROR.invalidRequest, status: 413 });
  });

  it('times out', async () => {
    const started = Date.now();
    const r = await rpcCall(url, 'test_sleep', undefined, { timeoutMs: 150 });
    expect(!r.ok && r.error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a refused connection as kind transport', async () => {
    const closed = new RpcServer({ port: 0 }, node);
    await closed.start();
    const deadUrl = closed.url!;
    await closed.stop();
    const r = await rpcCall(deadUrl, 'health', undefined, { timeoutMs: 2_000 });
    expect(!r.ok && r.error.kind).toBe('transport');
  });

  it('refuses answers that are not JSON-RPC responses, or too large', async () => {
    const cases: [number, string, string][] = [
      [200, 'not json', 'bad-response'],
      [200, '{"jsonrpc":"2.0","id":999999,"result":1}', 'bad-response'],
      [200, '{"result":1}', 'bad-response'],
      [500, 'oops', 'http'],
    ];
    for (const [status, body, kind] of cases) {
      const canned = await cannedServer(status, body);
      try {
        const r = await rpcCall(canned.url, 'health');
        expect(!r.ok && r.error.kind, body).toBe(kind);
      } finally {
        canned.server.close();
      }
    }
    const huge = await cannedServer(200, `{"jsonrpc":"2.0","id":1,"result":"${'x'.repeat(10_000)}"}`);
    try {
      const r = await rpcCall(huge.url, 'health', undefined, { maxResponseBytes: 1_000 });
      expect(!r.ok && r.error.kind).toBe('bad-response');
    } finally {
      huge.server.close();
    }
  });
});
