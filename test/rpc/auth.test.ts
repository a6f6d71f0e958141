/**
 * The optional bearer token for the methods that change the node (src/rpc/auth.ts): with
 * one configured, broadcast_tx_* over HTTP and WebSocket need "Authorization: Bearer
 * <token>" (else -32001, and the tx never reaches the mempool); reads stay open; ledgerctl's
 * tx commands send it from --rpc-token or LEDGER_RPC_TOKEN.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { runLedgerctl } from '../../src/cli/ledgerctl.js';
import { encodeTx } from '../../src/codec/tx.js';
import { writeKeyFile } from '../../src/crypto/keyfile.js';
import { BearerAuth } from '../../src/rpc/auth.js';
import { RPC_ERROR } from '../../src/rpc/errors.js';
import { RpcServer } from '../../src/rpc/server.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { FakeNode } from './fake-node.js';

const tn = makeTestnet({ accounts: 3, balance: 1_000_000n });
const TOKEN = 'n0de-s3cret_token.with~chars+/=';
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

describe('BearerAuth', () => {
  const auth = new BearerAuth(TOKEN);

  it('accepts exactly the token, under a case-insensitive Bearer scheme', () => {
    expect(auth.authorizes(`Bearer ${TOKEN}`)).toBe(true);
    expect(auth.authorizes(`bearer ${TOKEN}`)).toBe(true);
    expect(auth.authorizes(`BEARER   ${TOKEN}`)).toBe(true);
  });

  it('refuses anything else', () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer ', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN} extra`, TOKEN, `Bearer ${TOKEN.toUpperCase()}`]) {
      expect(auth.authorizes(header), String(header)).toBe(false);
    }
    // node:http joins repeated headers; a list is never a token.
    expect(auth.authorizes([`Bearer ${TOKEN}`])).toBe(false);
  });

  it('refuses to guard with an empty token', () => {
    expect(() => new BearerAuth('')).toThrow(RangeError);
  });
});

describe('an RPC server with an auth token', () => {
  let server: RpcServer;
  let node: FakeNode;
  let url: string;
  let nonce = 0n;

  beforeAll(async () => {
    node = new FakeNode(tn);
    server = new RpcServer({ port: 0, authToken: TOKEN, websocket: {} }, node);
    await server.start();
    url = server.url!;
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function post(body: unknown, authorization?: string): Promise<any> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization !== undefined) headers['authorization'] = authorization;
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return res.json();
  }

  const nextTx = (): string => b64(encodeTx(tn.signTransfer(0, 1, 1n, nonce++)));

  it('refuses every broadcast without the token, before the mempool sees the tx', async () => {
    const before = node.submissions;
    for (const method of ['broadcast_tx_sync', 'broadcast_tx_async', 'broadcast_tx_commit']) {
      for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`, `Bearer ${TOKEN}!`]) {
        const reply = await post({ jsonrpc: '2.0', id: 7, method, params: { tx: nextTx() } }, authorization);
        expect(reply.error?.code, `${method} with ${String(authorization)}`).toBe(RPC_ERROR.unauthorized);
        expect(reply.error.message).toMatch(/^unauthorized/);
        expect(reply.id).toBe(7);
      }
    }
    await new Promise((r) => setImmediate(r)); // async broadcasts admit on the next turn
    expect(node.submissions).toBe(before);
    expect(node.mempool.size).toBe(0);
  });

  it('admits a broadcast that carries the token', async () => {
    nonce = 0n;
    const reply = await post({ jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: nextTx() } }, `Bearer ${TOKEN}`);
    expect(reply.error).toBeUndefined();
    expect(reply.result.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(node.mempool.size).toBe(1);
  });

  it('keeps reads open, also inside a batch where the write is refused', async () => {
    const status = await post({ jsonrpc: '2.0', id: 1, method: 'status' });
    expect(status.result.chain_id).toBe(tn.chainId);
    const batch = await post([
      { jsonrpc: '2.0', id: 'a', method: 'account', params: { address: tn.addresses[0] } },
      { jsonrpc: '2.0', id: 'b', method: 'broadcast_tx_sync', params: { tx: nextTx() } },
      { jsonrpc: '2.0', id: 'c', method: 'health' },
    ]);
    expect(batch.map((r: any) => r.id)).toEqual(['a', 'b', 'c']);
    expect(batch[0].result.address).toBe(tn.addresses[0]);
    expect(batch[1].error.code).toBe(RPC_ERROR.unauthorized);
    expect(batch[2].result.ok).toBe(true);
  });

  async function wsCall(headers: Record<string, string>, request: unknown): Promise<any> {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/websocket`, { headers });
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const answer = new Promise<any>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
      ws.send(JSON.stringify(request));
      return await answer;
    } finally {
      ws.close();
    }
  }

  it('guards WebSocket broadcasts by the upgrade request’s token, and leaves WebSocket reads open', async () => {
    const refused = await wsCall({}, { jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: nextTx() } });
    expect(refused.error.code).toBe(RPC_ERROR.unauthorized);
    const read = await wsCall({}, { jsonrpc: '2.0', id: 2, method: 'status' });
    expect(read.result.chain_id).toBe(tn.chainId);
    nonce -= 1n; // the refused tx never took its nonce
    const admitted = await wsCall({ authorization: `Bearer ${TOKEN}` }, { jsonrpc: '2.0', id: 3, method: 'broadcast_tx_sync', params: { tx: nextTx() } });
    expect(admitted.error).toBeUndefined();
    expect(admitted.result.duplicate).toBe(false);
  });

  it('ledgerctl tx sends the token from --rpc-token or LEDGER_RPC_TOKEN, and says unauthorized without it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-auth-'));
    try {
      const keyFile = join(dir, 'sender.key.json');
      await writeKeyFile(keyFile, tn.accountKeys[2]!);
      const run = async (args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> => {
        const out: string[] = [];
        const err: string[] = [];
        const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), cwd: dir, env };
        const code = await runLedgerctl(['tx', 'transfer', '--key', keyFile, '--rpc', url, '--to', tn.addresses[0]!, '--amount', '3', ...args], io);
        return { code, out: out.join(''), err: err.join('') };
      };
      const without = await run([]);
      expect(without.code).toBe(1);
      expect(without.err).toContain(`RPC error ${RPC_ERROR.unauthorized}: unauthorized`);
      expect(without.err.trim().split('\n')).toHaveLength(1);

      const byFlag = await run(['--rpc-token', TOKEN]);
      expect(byFlag.code, byFlag.err).toBe(0);
      expect(byFlag.out).toMatch(/^tx [0-9a-f]{64} \(nonce 0\)/);

      const byEnv = await run([], { LEDGER_RPC_TOKEN: TOKEN });
      expect(byEnv.code, byEnv.err).toBe(0);
      expect(byEnv.out).toMatch(/\(nonce 1\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an RPC server without a token', () => {
  it('admits broadcasts from anyone', async () => {
    const node = new FakeNode(tn);
    const server = new RpcServer({ port: 0 }, node);
    await server.start();
    try {
      const res = await fetch(server.url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: b64(encodeTx(tn.signTransfer(0, 1, 1n, 0n))) } }),
      });
      const reply = (await res.json()) as any;
      expect(reply.result.duplicate).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
