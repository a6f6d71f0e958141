/**
 * The client's HTTP side against a scripted JSON-RPC server (a real server on a real
 * port): every kind of failure becomes the right ClientError code, tx builders take the
 * chain id and nonce from the node and sign verifiable txs, and bad arguments are refused
 * before anything is sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LedgerClient } from '../../src/client/client.js';
import { ClientError } from '../../src/client/errors.js';
import { addressOf, makeVerifier, toHex } from '../../src/crypto/index.js';
import { verifyTxSignature } from '../../src/ledger/tx.js';
import { makeTestnet } from '../helpers/fixtures.js';

const net = makeTestnet();
const sender = net.accountKeys[0]!;

type Handler = (request: { id: unknown; method: string; params: Record<string, unknown> }, req: IncomingMessage, res: ServerResponse) => unknown;

let server: Server;
let url: string;
let handler: Handler;
let calls: { method: string; params: Record<string, unknown>; auth: string | undefined }[];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const request = JSON.parse(Buffer.concat(chunks).toString()) as { id: unknown; method: string; params: Record<string, unknown> };
      calls.push({ method: request.method, params: request.params, auth: req.headers.authorization });
      const reply = handler(request, req, res);
      if (reply !== undefined) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  server.on('upgrade', (_req, socket) => socket.destroy()); // no WebSocket here
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  calls = [];
});

const result = (id: unknown, value: unknown) => ({ jsonrpc: '2.0', id, result: value });
const error = (id: unknown, code: number, message: string, data?: unknown) => ({ jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } });

async function failure(promise: Promise<unknown>): Promise<ClientError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ClientError);
  return e as ClientError;
}

describe('client transport: every failure has its code', () => {
  it('maps the JSON-RPC error codes', async () => {
    const client = new LedgerClient({ url });
    const cases: [number, unknown, unknown][] = [
      [-32010, { code: 'bad-nonce', message: 'nonce 3 is used' }, { code: 'tx-rejected', reason: 'bad-nonce' }],
      [-32001, undefined, { code: 'unauthorized' }],
      [-32011, { code: 'mempool-full', message: 'full' }, { code: 'mempool-full' }],
      [-32012, { hash: 'ab'.repeat(32), timeout_ms: 500 }, { code: 'commit-timeout', hash: 'ab'.repeat(32), timeoutMs: 500 }],
      [-32015, { param: 'height', latest_height: 7 }, { code: 'not-found', param: 'height', latestHeight: 7 }],
      [-32602, { param: 'height' }, { code: 'rpc', rpcCode: -32602, data: { param: 'height' } }],
    ];
    for (const [code, data, info] of cases) {
      handler = (r) => error(r.id, code, 'something', data);
      const e = await failure(client.block(3));
      expect(e.info).toEqual(info);
      expect(e.message).toContain(`block: RPC error ${code}: something`);
    }
  });

  it('reports HTTP errors, answers that are not JSON-RPC, wrong ids and malformed results', async () => {
    const client = new LedgerClient({ url });
    handler = (_r, _req, res) => void res.writeHead(503).end('busy');
    expect((await failure(client.health())).info).toEqual({ code: 'http', status: 503 });
    handler = (_r, _req, res) => void res.writeHead(200).end('<html>');
    expect((await failure(client.health())).info).toEqual({ code: 'bad-response', method: 'health' });
    handler = () => result(999_999, { ok: true, reasons: [] });
    expect((await failure(client.health())).message).toMatch(/the answer is for id 999999, not \d+/);
    handler = (r) => result(r.id, { ok: 'yes', reasons: [] });
    const malformed = await failure(client.health());
    expect(malformed.info).toEqual({ code: 'bad-response', method: 'health' });
    expect(malformed.message).toContain('result.ok: not a boolean');
  });

  it('reports an unreachable node and a silent one', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect((await failure(new LedgerClient({ url: `http://127.0.0.1:${port}` }).status())).info).toEqual({ code: 'transport', url: `http://127.0.0.1:${port}` });

    handler = () => undefined; // never answers
    expect((await failure(new LedgerClient({ url, timeoutMs: 200 }).status())).info).toEqual({ code: 'timeout', timeoutMs: 200 });
  });

  it('refuses bad arguments before sending anything', async () => {
    const client = new LedgerClient({ url });
    expect(() => new LedgerClient({ url: 'ftp://x' })).toThrow(ClientError);
    expect((await failure(client.account('not an address'))).info).toEqual({ code: 'invalid-argument', argument: 'address' });
    expect((await failure(client.tx('abc'))).info).toEqual({ code: 'invalid-argument', argument: 'hash' });
    expect((await failure(client.block(0))).info).toEqual({ code: 'invalid-argument', argument: 'height' });
    expect((await failure(client.transfer({ from: sender, to: net.addresses[1]!, amount: 0n, nonce: 0n }))).info.code).toBe('invalid-argument');
    expect((await failure(client.put({ from: sender, key: 'k'.repeat(257), value: 'v', nonce: 0n }))).info).toEqual({ code: 'invalid-argument', argument: 'key' });
    expect((await failure(client.put({ from: sender, key: 'k', value: new Uint8Array(16 * 1024 + 1), nonce: 0n }))).info).toEqual({ code: 'invalid-argument', argument: 'value' });
    expect(calls).toEqual([]);
  });
});

describe('client tx builders', () => {
  it('take the chain id (asked once) and the pending nonce from the node, and sign verifiable txs; the token goes along', async () => {
    const client = new LedgerClient({ url, token: 'sixteen-chars-token' });
    handler = (r) => {
      if (r.method === 'status') {
        return result(r.id, { node_id: 'n', chain_id: net.chainId, validator_index: 0, latest_height: 3, latest_block_hash: '00'.repeat(32), latest_block_time: 1, view: 0, catching_up: false, peers: 3 });
      }
      if (r.method === 'account') {
        return result(r.id, { address: r.params['address'], height: 3, balance: '10', nonce: '4', pending_nonce: '6', can_transact: true, is_admin: false });
      }
      return error(r.id, -32601, 'no such method');
    };
    const transfer = await client.transfer({ from: sender, to: net.addresses[1]!, amount: 5n });
    const grant = await client.grant({ from: sender, account: net.addresses[2]!.toUpperCase() });
    const put = await client.put({ from: sender, key: 'greeting', value: 'hello', nonce: 9n });
    expect([transfer.nonce, grant.nonce, put.nonce]).toEqual([6n, 6n, 9n]);
    expect(grant.body).toEqual({ kind: 'grant', account: net.addresses[2] });
    const verifier = makeVerifier(net.chainId);
    for (const tx of [transfer, grant, put]) {
      expect(tx.chainId).toBe(net.chainId);
      expect(verifyTxSignature(tx, verifier)).toBe(true);
    }
    expect(calls.filter((c) => c.method === 'status')).toHaveLength(1);
    expect(calls.filter((c) => c.method === 'account').map((c) => c.params['address'])).toEqual([addressOf(sender.publicKey), addressOf(sender.publicKey)]);
    expect(calls.every((c) => c.auth === 'Bearer sixteen-chars-token')).toBe(true);

    handler = (r) => result(r.id, { hash: toHex(new Uint8Array(32)), duplicate: false });
    const mismatch = await failure(client.broadcastTxSync(transfer));
    expect(mismatch.info.code).toBe('bad-response');
    handler = (r) => error(r.id, -32010, 'tx rejected: bad-nonce', { code: 'bad-nonce', message: 'nonce 6 is used' });
    expect((await failure(client.submitAndWait(transfer, { timeoutMs: 1000 }))).info).toEqual({ code: 'tx-rejected', reason: 'bad-nonce' });
  });
});
