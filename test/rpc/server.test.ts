import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTx } from '../../src/codec/tx.js';
import type { Tx } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import { hashTx } from '../../src/ledger/tx.js';
import { RPC_ERROR } from '../../src/rpc/errors.js';
import { METHODS, method } from '../../src/rpc/methods.js';
import { noParams } from '../../src/rpc/params.js';
import { RpcServer, type RpcServerOptions } from '../../src/rpc/server.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { FakeNode } from './fake-node.js';

const tn = makeTestnet({ accounts: 4, balance: 1_000n });
const b64 = (tx: Tx): string => Buffer.from(encodeTx(tx)).toString('base64');
const hex = (tx: Tx): string => toHex(hashTx(tx));

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body (undefined when empty). */
  readonly body: any; // JSON under test
}

async function send(url: string, init: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : JSON.parse(text) };
}

function post(url: string, body: string | Uint8Array, contentType = 'application/json'): Promise<Reply> {
  return send(url, { method: 'POST', headers: { 'content-type': contentType }, body });
}

function call(url: string, method: string, params?: unknown, id: unknown = 1): Promise<Reply> {
  return post(url, JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
}

/** Starts a server on 127.0.0.1 port 0 over a fresh FakeNode. */
async function startServer(options: Partial<RpcServerOptions> = {}, node = new FakeNode(tn)): Promise<{ server: RpcServer; node: FakeNode; url: string }> {
  const server = new RpcServer({ port: 0, ...options }, node);
  await server.start();
  return { server, node, url: server.url! };
}

/** A raw HTTP/1.1 exchange over one socket: whatever the server sends until it closes (or `waitMs`). */
function raw(url: string, data: string | Buffer, waitMs = 2_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(data);
  });
}

describe('RpcServer: lifecycle', () => {
  it('listens on 127.0.0.1 by default, reports the bound port, and stops', async () => {
    const { server, url } = await startServer();
    expect(server.address?.host).toBe('127.0.0.1');
    expect(server.address?.port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${server.address?.port}`);
    expect((await call(url, 'health')).body.result).toEqual({ ok: true, reasons: [] });
    await server.stop();
    expect(server.address).toBeUndefined();
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
  });

  it('refuses to start twice, and fails to start on a taken port', async () => {
    const { server } = await startServer();
    await expect(server.start()).rejects.toThrow(/already started/);
    const other = new RpcServer({ port: server.address!.port }, new FakeNode(tn));
    await expect(other.start()).rejects.toThrow();
    await server.stop();
  });

  it('stops promptly despite idle connections, including one that never sent a request', async () => {
    const { server, url } = await startServer();
    const { hostname, port } = new URL(url);
    const silent = connect(Number(port), hostname);
    await new Promise((resolve) => silent.once('connect', resolve));
    await call(url, 'health'); // leaves a keep-alive connection in fetch's pool
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(500);
    silent.destroy();
  });

  it('finishes an in-flight request on stop, then refuses new connections', async () => {
    const { server, node, url } = await startServer();
    const tx = tn.signTransfer(1, 2, 5n, 0n);
    const pending = call(url, 'broadcast_tx_commit', { tx: b64(tx), timeout_ms: 5_000 });
    await vi_waitFor(() => node.mempool.size === 1);
    const stopped = server.stop();
    node.commit([tx]);
    const reply = await pending;
    expect(reply.body.result).toEqual({ hash: hex(tx), height: 1, index: 0 });
    expect(reply.headers.get('connection')).toBe('close');
    await stopped;
    await expect(call(url, 'health')).rejects.toThrow();
  });
});

/** Polls `cond` every 5 ms for up to 2 s. */
async function vi_waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not reached');
}

describe('RpcServer: methods', () => {
  let server: RpcServer;
  let node: FakeNode;
  let url: string;
  beforeAll(async () => ({ server, node, url } = await startServer({}, new FakeNode(tn, { maxTxs: 5 }))));
  afterAll(() => server.stop());

  it('status: the node status in snake_case with hex hashes', async () => {
    const reply = await call(url, 'status', undefined, 'abc');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.body).toEqual({
      jsonrpc: '2.0',
      id: 'abc',
      result: {
        node_id: '12D3KooWFake',
        chain_id: tn.chainId,
        validator_index: 2,
        latest_height: node.status().latestHeight,
        latest_block_hash: toHex(tn.genesisHash),
        latest_block_time: tn.genesis.genesisTime,
        view: 7,
        catching_up: false,
        peers: 3,
      },
    });
  });

  it('health: the method and GET /health (200 healthy, 503 not)', async () => {
    expect((await call(url, 'health')).body.result).toEqual({ ok: true, reasons: [] });
    expect((await send(`${url}/health`, { method: 'GET' })).status).toBe(200);
    node.healthy = false;
    try {
      const reply = await send(`${url}/health`, { method: 'GET' });
      expect(reply.status).toBe(503);
      expect(reply.body).toEqual({ ok: false, reasons: ['no peers'] });
      expect((await call(url, 'health')).body.result).toEqual({ ok: false, reasons: ['no peers'] });
    } finally {
      node.healthy = true;
    }
  });

  it('broadcast_tx_sync: admits and returns the lowercase hex hash; a resubmission is a duplicate', async () => {
    const tx = tn.signPut(1, 'sync', Uint8Array.of(1), 0n);
    const reply = await call(url, 'broadcast_tx_sync', { tx: b64(tx) });
    expect(reply.body.result).toEqual({ hash: hex(tx), duplicate: false });
    expect(reply.body.result.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(node.mempool.has(hashTx(tx))).toBe(true);
    expect((await call(url, 'broadcast_tx_sync', [b64(tx)])).body.result).toEqual({ hash: hex(tx), duplicate: true });
  });

  it('broadcast_tx_sync: a rejected tx is -32010 with the admission code', async () => {
    const bytes = new Uint8Array(encodeTx(tn.signPut(2, 'bad', Uint8Array.of(1), 0n)));
    bytes[bytes.length - 1]! ^= 1;
    const reply = await call(url, 'broadcast_tx_sync', { tx: Buffer.from(bytes).toString('base64') });
    expect(reply.body.error.code).toBe(RPC_ERROR.txRejected);
    expect(reply.body.error.data.code).toBe('bad-signature');
    expect(typeof reply.body.error.data.message).toBe('string');
    const garbage = await call(url, 'broadcast_tx_sync', { tx: Buffer.from('not a tx').toString('base64') });
    expect(garbage.body.error.data.code).toBe('malformed');
    const future = await call(url, 'broadcast_tx_sync', { tx: b64(tn.signPut(2, 'x', Uint8Array.of(1), 500n)) });
    expect(future.body.error).toMatchObject({ code: RPC_ERROR.txRejected, data: { code: 'bad-nonce' } });
  });

  it('broadcast_tx_async: returns the hash at once and admits afterwards; a rejection is not reported', async () => {
    const tx = tn.signPut(3, 'async', Uint8Array.of(1), 0n);
    const reply = await call(url, 'broadcast_tx_async', { tx: b64(tx) });
    expect(reply.body.result).toEqual({ hash: hex(tx) });
    await vi_waitFor(() => node.mempool.has(hashTx(tx)));
    const bad = await call(url, 'broadcast_tx_async', { tx: Buffer.from('junk').toString('base64') });
    expect(bad.body.result.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('broadcast_tx_commit: waits for the commit and returns height and index', async () => {
    const tx = tn.signPut(1, 'commit', Uint8Array.of(1), 1n);
    const pending = call(url, 'broadcast_tx_commit', { tx: b64(tx), timeout_ms: 5_000 });
    await vi_waitFor(() => node.mempool.has(hashTx(tx)));
    const committed = node.commitPending();
    const reply = await pending;
    expect(reply.body.result).toEqual({ hash: hex(tx), height: node.status().latestHeight, index: committed.indexOf(committed.find((t) => hex(t) === hex(tx))!) });
    // The same bytes again: the tx is committed, so this is its location, not an error.
    expect((await call(url, 'broadcast_tx_commit', { tx: b64(tx) })).body.result).toEqual(reply.body.result);
    expect((await call(url, 'broadcast_tx_sync', { tx: b64(tx) })).body.result).toEqual({ hash: hex(tx), duplicate: true });
  });

  it('broadcast_tx_commit: a timeout is -32012 carrying the hash, and the tx stays pending', async () => {
    const tx = tn.signPut(2, 'slow', Uint8Array.of(1), 0n);
    const started = Date.now();
    const reply = await call(url, 'broadcast_tx_commit', { tx: b64(tx), timeout_ms: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(reply.body.error.code).toBe(RPC_ERROR.commitTimeout);
    expect(reply.body.error.data).toEqual({ hash: hex(tx), timeout_ms: 100 });
    expect(node.mempool.has(hashTx(tx))).toBe(true);
  });

  it('mempool full is -32011', async () => {
    let nonce = 0n;
    for (;;) {
      const reply = await call(url, 'broadcast_tx_sync', { tx: b64(tn.signPut(0, 'fill', Uint8Array.of(1), nonce++)) });
      if (reply.body.error !== undefined) {
        expect(reply.body.error).toMatchObject({ code: RPC_ERROR.mempoolFull, data: { code: 'mempool-full' } });
        break;
      }
      expect(nonce).toBeLessThan(10n);
    }
    expect(node.mempool.size).toBe(5);
  });
});

describe('RpcServer: protocol errors, and serving on after each', () => {
  let server: RpcServer;
  let node: FakeNode;
  let url: string;
  beforeAll(async () => ({ server, node, url } = await startServer({ maxBodyBytes: 64 * 1024, maxBatch: 5 })));
  afterAll(() => server.stop());

  const alive = async (): Promise<void> => {
    expect((await call(url, 'health')).body.result.ok).toBe(true);
  };

  it('-32700 for a body that is not JSON, or not UTF-8', async () => {
    for (const body of ['{', '', '{"jsonrpc":"2.0",', 'nul', '[1,]']) {
      const reply = await post(url, body);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ jsonrpc: '2.0', id: null, error: { code: RPC_ERROR.parseError, message: expect.any(String) } });
      await alive();
    }
    const notUtf8 = await post(url, Uint8Array.of(0x22, 0xff, 0xfe, 0x22));
    expect(notUtf8.body.error.code).toBe(RPC_ERROR.parseError);
    await alive();
  });

  it('-32600 for a request that is not an object', async () => {
    for (const body of ['1', '"x"', 'null', 'true']) {
      const reply = await post(url, body);
      expect(reply.body).toEqual({ jsonrpc: '2.0', id: null, error: { code: RPC_ERROR.invalidRequest, message: expect.any(String) } });
      await alive();
    }
  });

  it('-32600 for a wrong jsonrpc version, a bad method or id, or unstructured params', async () => {
    const cases: [unknown, unknown][] = [
      [{ jsonrpc: '1.0', id: 7, method: 'status' }, 7],
      [{ id: 7, method: 'status' }, 7],
      [{ jsonrpc: '2.0', id: 7, method: 5 }, 7],
      [{ jsonrpc: '2.0', id: 7 }, 7],
      [{ jsonrpc: '2.0', id: 7, method: 'status', params: 'x' }, 7],
      [{ jsonrpc: '2.0', id: { a: 1 }, method: 'status' }, null],
      [{ jsonrpc: '2.0', id: true, method: 'status' }, null],
    ];
    for (const [request, id] of cases) {
      const reply = await post(url, JSON.stringify(request));
      expect(reply.body, JSON.stringify(request)).toEqual({ jsonrpc: '2.0', id, error: { code: RPC_ERROR.invalidRequest, message: expect.any(String) } });
      await alive();
    }
  });

  it('-32601 for an unknown method, including object-prototype names', async () => {
    for (const name of ['nope', 'constructor', '__proto__', 'toString', '']) {
      const reply = await call(url, name, undefined, 3);
      expect(reply.body).toEqual({ jsonrpc: '2.0', id: 3, error: { code: RPC_ERROR.methodNotFound, message: expect.any(String) } });
    }
    await alive();
  });

  it('-32602 naming the bad param', async () => {
    const tx = b64(tn.signPut(1, 'p', Uint8Array.of(1), 0n));
    const cases: [unknown, string][] = [
      [{}, 'tx'],
      [{ tx: 5 }, 'tx'],
      [{ tx: 'not base64!' }, 'tx'],
      [{ tx: 'QUJD' + '=' }, 'tx'],
      [{ tx: '' }, 'tx'],
      [{ tx, timeout_ms: 0 }, 'timeout_ms'],
      [{ tx, timeout_ms: 'soon' }, 'timeout_ms'],
      [{ tx, timeout_ms: 1.5 }, 'timeout_ms'],
      [{ tx, timeout: 100 }, 'timeout'],
      [[tx, 100, 'extra'], ''],
    ];
    for (const [params, param] of cases) {
      const reply = await call(url, 'broadcast_tx_commit', params);
      expect(reply.body.error.code, JSON.stringify(params)).toBe(RPC_ERROR.invalidParams);
      expect(reply.body.error.data).toEqual({ param });
      if (param !== '') expect(reply.body.error.message).toContain(`${param}:`);
    }
    const extra = await call(url, 'status', { verbose: true });
    expect(extra.body.error).toMatchObject({ code: RPC_ERROR.invalidParams, data: { param: 'verbose' } });
    expect(node.submissions).toBe(0);
    await alive();
  });

  it('413 for a body over maxBodyBytes, declared or streamed, and serves on', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'status', params: { pad: 'x'.repeat(70 * 1024) } });
    const reply = await post(url, big);
    expect(reply.status).toBe(413);
    expect(reply.body.error.code).toBe(RPC_ERROR.invalidRequest);
    expect(reply.headers.get('connection')).toBe('close');
    await alive();
    // Chunked: no Content-Length, so the limit is found while reading.
    const chunked = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const req = request({ host: hostname, port, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 80; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(chunked).toBe(413);
    await alive();
  });

  it('batches: answers in order, omits notifications, bounds the size', async () => {
    const empty = await post(url, '[]');
    expect(empty.body).toEqual({ jsonrpc: '2.0', id: null, error: { code: RPC_ERROR.invalidRequest, message: expect.any(String) } });

    const tx = tn.signPut(2, 'batch', Uint8Array.of(1), 0n);
    const mixed = await post(
      url,
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'health' },
        { jsonrpc: '2.0', method: 'broadcast_tx_sync', params: { tx: b64(tx) } }, // notification
        { jsonrpc: '2.0', id: 'two', method: 'nope' },
        42,
        { jsonrpc: '2.0', id: 3, method: 'broadcast_tx_sync', params: {} },
      ]),
    );
    expect(mixed.status).toBe(200);
    expect(mixed.body).toEqual([
      { jsonrpc: '2.0', id: 1, result: { ok: true, reasons: [] } },
      { jsonrpc: '2.0', id: 'two', error: { code: RPC_ERROR.methodNotFound, message: expect.any(String) } },
      { jsonrpc: '2.0', id: null, error: { code: RPC_ERROR.invalidRequest, message: expect.any(String) } },
      { jsonrpc: '2.0', id: 3, error: { code: RPC_ERROR.invalidParams, message: expect.stringContaining('tx'), data: { param: 'tx' } } },
    ]);
    expect(node.mempool.has(hashTx(tx))).toBe(true); // the notification ran

    const tooMany = await post(url, JSON.stringify(Array.from({ length: 6 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'health' }))));
    expect(tooMany.body.error.code).toBe(RPC_ERROR.invalidRequest);
    await alive();
  });

  it('notifications get no answer: 204 with an empty body, single or a whole batch', async () => {
    const tx = tn.signPut(3, 'note', Uint8Array.of(1), 0n);
    const single = await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'broadcast_tx_sync', params: { tx: b64(tx) } }));
    expect(single.status).toBe(204);
    expect(single.text).toBe('');
    expect(node.mempool.has(hashTx(tx))).toBe(true);
    const batch = await post(url, JSON.stringify([{ jsonrpc: '2.0', method: 'health' }, { jsonrpc: '2.0', method: 'nope' }]));
    expect(batch.status).toBe(204);
    await alive();
  });

  it('405 for methods other than POST (GET only on /health), 404 elsewhere, 415 for other content types', async () => {
    for (const m of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const reply = await send(url, { method: m });
      expect(reply.status, m).toBe(405);
      expect(reply.headers.get('allow')).toBe('POST');
      expect(reply.body.error.code).toBe(RPC_ERROR.invalidRequest);
    }
    const postHealth = await send(`${url}/health`, { method: 'POST' });
    expect(postHealth.status).toBe(405);
    expect(postHealth.headers.get('allow')).toBe('GET');
    expect((await send(`${url}/elsewhere`, { method: 'POST' })).status).toBe(404);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'health' });
    expect((await post(url, body, 'text/plain')).status).toBe(415);
    expect((await send(url, { method: 'POST', body })).status).toBe(415);
    expect((await post(url, body, 'application/json; charset=utf-8')).body.result.ok).toBe(true);
    await alive();
  });

  it('malformed HTTP is refused by the parser and does not hurt the server', async () => {
    const answer = await raw(url, 'NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await alive();
  });

  it('never crashes on arbitrary bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
          fc.array(fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.integer(), fc.string()), method: fc.constantFrom(...METHODS.map((m) => m.name)), params: fc.anything() })).map((a) => JSON.stringify(a)),
        ),
        async (body) => {
          const reply = await post(url, body);
          expect([200, 204]).toContain(reply.status);
        },
      ),
      { numRuns: 60 },
    );
    // Deep nesting within the body limit: parsed or refused as a parse error, never a crash.
    const deep = await post(url, '['.repeat(30_000) + ']'.repeat(30_000));
    expect(deep.status).toBe(200);
    expect([RPC_ERROR.parseError, RPC_ERROR.invalidRequest]).toContain(deep.body.error?.code ?? deep.body[0]?.error?.code);
    await alive();
  });
});

describe('RpcServer: resource bounds', () => {
  it('answers -32013 when a method outlives requestTimeoutMs, and serves on', async () => {
    const sleep = method({
      name: 'test_sleep',
      description: 'Never finishes.',
      params: noParams,
      handler: () => new Promise<never>(() => {}),
    });
    const { server, url } = await startServer({ requestTimeoutMs: 200, methods: [...METHODS, sleep] });
    try {
      const reply = await call(url, 'test_sleep');
      expect(reply.body.error.code).toBe(RPC_ERROR.requestTimeout);
      expect((await call(url, 'health')).body.result.ok).toBe(true);
      // broadcast_tx_commit keeps within the request deadline, so its own timeout (with the hash) wins.
      const tx = tn.signPut(1, 'deadline', Uint8Array.of(1), 0n);
      const commit = await call(url, 'broadcast_tx_commit', { tx: b64(tx), timeout_ms: 60_000 });
      expect(commit.body.error.code).toBe(RPC_ERROR.commitTimeout);
      expect(commit.body.error.data.hash).toBe(hex(tx));
    } finally {
      await server.stop();
    }
  });

  it('answers 500 -32603 when a handler throws, without leaking the error', async () => {
    const boom = method({ name: 'test_boom', description: 'Throws.', params: noParams, handler: async () => { throw new Error('secret detail'); } });
    const big = method({ name: 'test_bigint', description: 'Returns what JSON cannot hold.', params: noParams, handler: async () => 1n });
    const { server, url } = await startServer({ methods: [...METHODS, boom, big] });
    try {
      const reply = await call(url, 'test_boom');
      expect(reply.body.error).toEqual({ code: RPC_ERROR.internalError, message: 'Internal error' });
      expect(reply.text).not.toContain('secret');
      expect((await call(url, 'test_bigint')).body.error.code).toBe(RPC_ERROR.internalError);
      expect((await call(url, 'health')).body.result.ok).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('drops a request whose body does not arrive within requestTimeoutMs', async () => {
    const { server, url } = await startServer({ requestTimeoutMs: 300 });
    try {
      const started = Date.now();
      const answer = await raw(url, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc"', 5_000);
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
      expect((await call(url, 'health')).body.result.ok).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('bounds concurrent connections: beyond maxConnections new ones are dropped, and served again once one closes', async () => {
    const { server, url } = await startServer({ maxConnections: 2 });
    const { hostname, port } = new URL(url);
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = connect(Number(port), hostname, () => resolve(s));
        s.on('error', reject);
      });
    const held = [await open(), await open()];
    try {
      // Let the server register both before the third arrives.
      await new Promise((r) => setTimeout(r, 50));
      const third = await raw(url, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', 1_000);
      expect(third).toBe('');
      held.pop()!.destroy();
      await new Promise((r) => setTimeout(r, 50));
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'health' });
      const fourth = await raw(url, `POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      expect(fourth).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      for (const s of held) s.destroy();
      await server.stop();
    }
  });
});
