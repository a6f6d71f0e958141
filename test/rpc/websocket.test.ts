/**
 * The WebSocket endpoint against a real server on 127.0.0.1 (port 0) and a real `ws`
 * client; commits come from a fake event source that the test drives with real blocks
 * (built and executed by the ledger, certified by the testnet's validators).
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Tx } from '../../src/codec/types.js';
import { toHex } from '../../src/crypto/bytes.js';
import { hashBlockHeader } from '../../src/ledger/block.js';
import { buildBlock, type ParentLink } from '../../src/ledger/execute.js';
import type { LedgerState } from '../../src/ledger/state.js';
import { hashTx } from '../../src/ledger/tx.js';
import { RPC_ERROR } from '../../src/rpc/errors.js';
import type { CommitEvent, CommitListener, CommitSource } from '../../src/rpc/events.js';
import { RpcServer } from '../../src/rpc/server.js';
import type { WebSocketOptions } from '../../src/rpc/websocket.js';
import { makeTestnet } from '../helpers/fixtures.js';
import { FakeNode } from './fake-node.js';

const tn = makeTestnet({ accounts: 4, balance: 1_000_000n });

/** The event source, driven by hand. */
class FakeCommits implements CommitSource {
  readonly listeners = new Set<CommitListener>();
  subscribeCommits(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: CommitEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** A chain of real blocks over the testnet genesis. */
class TestChain {
  private state: LedgerState = tn.state();
  private link: ParentLink = tn.genesisLink;
  private readonly nonces = new Map<number, bigint>();

  transfer(from: number, to = 3, amount = 1n): Tx {
    const nonce = this.nonces.get(from) ?? 0n;
    this.nonces.set(from, nonce + 1n);
    return tn.signTransfer(from, to, amount, nonce);
  }

  commit(txs: readonly Tx[], view = 0): CommitEvent {
    const built = buildBlock(this.state, txs, tn.blockFields(this.link, { view }), tn.ctx);
    expect(built.rejected).toEqual([]);
    const hash = hashBlockHeader(built.block.header);
    this.state = built.executed.state;
    this.link = { height: built.block.header.height, hash, timestamp: built.block.header.timestamp };
    return { block: built.block, hash, certificate: tn.certify(built.block.header), receipts: built.executed.receipts };
  }
}

/** A JSON-RPC client over one WebSocket: calls by id, and every notification in order. */
class Client {
  readonly notifications: any[] = []; // JSON under test
  private nextId = 0;
  private readonly pending = new Map<number, (reply: any) => void>();
  private readonly watchers: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (Array.isArray(message) || message.id !== undefined) {
        const id = Array.isArray(message) ? message[0]?.id : message.id;
        const resolve = this.pending.get(id);
        this.pending.delete(id);
        resolve?.(message);
        return;
      }
      this.notifications.push(message);
      for (const w of this.watchers.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends one request and resolves with the whole response object. */
  request(method: string, params?: unknown): Promise<any> {
    const id = ++this.nextId;
    return this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }, id);
  }

  /** Sends any JSON (a batch whose first entry has id `id`, a malformed request...) and resolves with the answer to `id`. */
  send(body: unknown, id: number | null): Promise<any> {
    return new Promise((resolve) => {
      this.pending.set(id as number, resolve);
      this.ws.send(typeof body === 'string' ? body : JSON.stringify(body));
    });
  }

  async subscribe(query: unknown): Promise<string> {
    const reply = await this.request('subscribe', { query });
    expect(reply.error).toBeUndefined();
    expect(typeof reply.result.subscription).toBe('string');
    return reply.result.subscription;
  }

  /** Resolves once `count` notifications have arrived in all. */
  async waitFor(count: number, timeoutMs = 5_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.notifications.length < count) {
      if (Date.now() > deadline) throw new Error(`waited for ${count} notifications, got ${this.notifications.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.watchers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.notifications;
  }

  close(): void {
    this.ws.close();
  }
}

const servers: RpcServer[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start(options: WebSocketOptions = {}, events: FakeCommits | null = new FakeCommits()) {
  const server = new RpcServer({ port: 0, websocket: options, ...(events !== null ? { events } : {}) }, new FakeNode(tn));
  servers.push(server);
  await server.start();
  const url = `ws://127.0.0.1:${server.address!.port}/websocket`;
  const open = async (): Promise<Client> => {
    const client = await Client.open(url);
    clients.push(client);
    return client;
  };
  return { server, events: events ?? new FakeCommits(), url, open };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('WebSocket subscriptions', () => {
  it('delivers block events with height, hash, time, txs and the certificate summary', async () => {
    const { events, open } = await start();
    const client = await open();
    const id = await client.subscribe({ type: 'block' });
    const chain = new TestChain();
    const txs = [chain.transfer(0), chain.transfer(1), chain.transfer(0)];
    const first = chain.commit(txs);
    const second = chain.commit([chain.transfer(2)], 1);
    events.emit(first);
    events.emit(second);

    const [a, b] = await client.waitFor(2);
    expect(a).toEqual({
      jsonrpc: '2.0',
      method: 'subscription',
      params: {
        subscription: id,
        result: {
          type: 'block',
          height: 1,
          hash: toHex(first.hash),
          parent_hash: toHex(tn.genesisHash),
          time: first.block.header.timestamp,
          view: 0,
          proposer: 0,
          state_root: toHex(first.block.header.stateRoot),
          tx_count: 3,
          txs: txs.map((tx) => toHex(hashTx(tx))),
          certificate: { view: 0, height: 1, block_hash: toHex(first.hash), signers: [0, 1, 2] },
        },
      },
    });
    expect(b.params.result).toMatchObject({ height: 2, view: 1, parent_hash: toHex(first.hash), tx_count: 1 });
  });

  it('delivers tx events by sender, in block order, and only for that sender', async () => {
    const { events, open } = await start();
    const client = await open();
    const id = await client.subscribe({ type: 'tx', sender: tn.addresses[0]!.toUpperCase() });
    const chain = new TestChain();
    const txs = [chain.transfer(0), chain.transfer(1), chain.transfer(0), chain.transfer(2)];
    const block = chain.commit(txs);
    events.emit(block);
    events.emit(chain.commit([chain.transfer(1)]));
    events.emit(chain.commit([chain.transfer(0)]));

    const got = await client.waitFor(3);
    await sleep(50);
    expect(client.notifications).toHaveLength(3);
    expect(got.map((n) => n.params.subscription)).toEqual([id, id, id]);
    expect(got[0].params.result).toEqual({
      type: 'tx',
      hash: toHex(hashTx(txs[0]!)),
      height: 1,
      index: 0,
      block_hash: toHex(block.hash),
      sender: tn.addresses[0],
      kind: 'transfer',
    });
    expect(got.map((n) => [n.params.result.height, n.params.result.index])).toEqual([
      [1, 0],
      [1, 2],
      [3, 0],
    ]);
  });

  it('delivers one tx by hash (either case) once it commits', async () => {
    const { events, open } = await start();
    const client = await open();
    const chain = new TestChain();
    const early = chain.commit([chain.transfer(1)]);
    const wanted = chain.transfer(0);
    const id = await client.subscribe({ type: 'tx', hash: toHex(hashTx(wanted)).toUpperCase() });
    events.emit(early);
    const block = chain.commit([chain.transfer(2), wanted]);
    events.emit(block);
    const [event] = await client.waitFor(1);
    expect(event.params).toEqual({
      subscription: id,
      result: { type: 'tx', hash: toHex(hashTx(wanted)), height: 2, index: 1, block_hash: toHex(block.hash), sender: tn.addresses[0], kind: 'transfer' },
    });
  });

  it('sends a block event before that block tx events, and each matching subscription its own copy', async () => {
    const { events, open } = await start();
    const client = await open();
    const chain = new TestChain();
    const tx = chain.transfer(0);
    const byHash = await client.subscribe({ type: 'tx', hash: toHex(hashTx(tx)) });
    const bySender = await client.subscribe({ type: 'tx', sender: tn.addresses[0] });
    const blocks = await client.subscribe({ type: 'block' });
    expect(new Set([byHash, bySender, blocks]).size).toBe(3);
    events.emit(chain.commit([tx]));
    const got = await client.waitFor(3);
    expect(got[0].params.subscription).toBe(blocks);
    expect(got.slice(1).map((n) => n.params.subscription).sort()).toEqual([byHash, bySender].sort());
    expect(got[1].params.result).toEqual(got[2].params.result);
  });

  it('unsubscribe stops one subscription; unsubscribe_all stops the rest', async () => {
    const { server, events, open } = await start();
    const client = await open();
    const chain = new TestChain();
    const blocks = await client.subscribe({ type: 'block' });
    const sender = await client.subscribe({ type: 'tx', sender: tn.addresses[0] });
    const other = await client.subscribe({ type: 'block' });
    expect(server.websocketStats()?.subscriptions).toBe(3);

    expect((await client.request('unsubscribe', { subscription: blocks })).result).toEqual({ unsubscribed: true });
    expect((await client.request('unsubscribe', { subscription: blocks })).result).toEqual({ unsubscribed: false });
    expect((await client.request('unsubscribe', ['nope'])).result).toEqual({ unsubscribed: false });
    events.emit(chain.commit([chain.transfer(0)]));
    const got = await client.waitFor(2);
    await sleep(50);
    expect(got.map((n) => n.params.subscription)).toEqual([other, sender]);

    expect((await client.request('unsubscribe_all')).result).toEqual({ count: 2 });
    expect(server.websocketStats()?.subscriptions).toBe(0);
    events.emit(chain.commit([chain.transfer(0)]));
    // A regular call answered after the emit proves the event would have arrived by now.
    expect((await client.request('health')).result).toEqual({ ok: true, reasons: [] });
    await sleep(50);
    expect(client.notifications).toHaveLength(2);
  });

  it('refuses bad queries with invalid params, naming what is wrong', async () => {
    const { open } = await start();
    const client = await open();
    const cases: [unknown, string][] = [
      [{ type: 'blocks' }, 'type must be'],
      [{ type: 'block', sender: tn.addresses[0] }, 'no other field'],
      [{ type: 'tx' }, 'exactly one of sender or hash'],
      [{ type: 'tx', sender: tn.addresses[0], hash: 'ab'.repeat(32) }, 'exactly one of sender or hash'],
      [{ type: 'tx', sender: 'xyz' }, 'sender must be an address'],
      [{ type: 'tx', hash: 'abc' }, 'hash must be 64 hex digits'],
      ['block', 'must be an object'],
    ];
    for (const [query, why] of cases) {
      const reply = await client.request('subscribe', { query });
      expect(reply.error?.code, JSON.stringify(query)).toBe(RPC_ERROR.invalidParams);
      expect(reply.error.message).toContain(why);
      expect(reply.error.data).toEqual({ param: 'query' });
    }
    expect((await client.request('subscribe')).error.code).toBe(RPC_ERROR.invalidParams);
  });

  it('bounds subscriptions per connection (-32014), and the bound is per connection', async () => {
    const { open } = await start({ maxSubscriptions: 3 });
    const a = await open();
    for (let i = 0; i < 3; i++) await a.subscribe({ type: 'block' });
    const refused = await a.request('subscribe', { query: { type: 'block' } });
    expect(refused.error).toMatchObject({ code: RPC_ERROR.subscriptionLimit, data: { limit: 3 } });
    const b = await open();
    for (let i = 0; i < 3; i++) await b.subscribe({ type: 'tx', sender: tn.addresses[1] });
    // Unsubscribing makes room again.
    await a.request('unsubscribe', { subscription: '2' });
    await a.subscribe({ type: 'block' });
  });

  it('drops the subscriptions of a connection that closes', async () => {
    const { server, events, open } = await start();
    const a = await open();
    const b = await open();
    await a.subscribe({ type: 'block' });
    await a.subscribe({ type: 'tx', sender: tn.addresses[0] });
    await b.subscribe({ type: 'block' });
    expect(server.websocketStats()).toMatchObject({ connections: 2, subscriptions: 3 });
    a.close();
    await a.closed;
    await until('the server to see the close', () => server.websocketStats()?.connections === 1);
    expect(server.websocketStats()?.subscriptions).toBe(1);
    const chain = new TestChain();
    events.emit(chain.commit([chain.transfer(0)]));
    await b.waitFor(1);
  });
});

describe('WebSocket: regular methods', () => {
  it('serves the HTTP method table over the socket: calls, batches, notifications and errors', async () => {
    const { open } = await start();
    const client = await open();
    expect((await client.request('health')).result).toEqual({ ok: true, reasons: [] });
    expect((await client.request('status')).result).toMatchObject({ chain_id: tn.chainId, view: 7 });
    expect((await client.request('no_such_method')).error.code).toBe(RPC_ERROR.methodNotFound);

    const batch = await client.send(
      [
        { jsonrpc: '2.0', id: 100, method: 'health' },
        { jsonrpc: '2.0', method: 'health' },
        { jsonrpc: '2.0', id: 101, method: 'subscribe', params: { query: { type: 'block' } } },
      ],
      100,
    );
    expect(batch).toHaveLength(2);
    expect(batch[0]).toEqual({ jsonrpc: '2.0', id: 100, result: { ok: true, reasons: [] } });
    expect(batch[1]).toMatchObject({ id: 101, result: { subscription: '1' } });

    expect(await client.send('{"jsonrpc":', null)).toMatchObject({ id: null, error: { code: RPC_ERROR.parseError } });
    expect(await client.send({ jsonrpc: '1.0', id: 5, method: 'health' }, 5)).toMatchObject({ error: { code: RPC_ERROR.invalidRequest } });
  });

  it('answers a binary frame with a parse error and keeps the connection', async () => {
    const { open } = await start();
    const client = await open();
    const answer = new Promise<any>((resolve) => client.ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    client.ws.send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'health' })), { binary: true });
    expect(await answer).toMatchObject({ id: null, error: { code: RPC_ERROR.parseError } });
    expect((await client.request('health')).result.ok).toBe(true);
  });

  it('has no subscription methods without an event source', async () => {
    const { open } = await start({}, null);
    const client = await open();
    expect((await client.request('subscribe', { query: { type: 'block' } })).error.code).toBe(RPC_ERROR.methodNotFound);
    expect((await client.request('health')).result.ok).toBe(true);
  });
});

describe('WebSocket limits', () => {
  it('refuses upgrades beyond maxConnections with HTTP 503, and accepts again once one closes', async () => {
    const { server, url, open } = await start({ maxConnections: 2 });
    const a = await open();
    await open();
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('error', () => {}); // the refusal, reported once more as an error
      ws.once('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      ws.once('open', () => reject(new Error('a third connection was accepted')));
    });
    expect(refused).toBe(503);
    // HTTP keeps working while the WebSocket slots are full.
    const health = await fetch(`http://127.0.0.1:${server.address!.port}/health`);
    expect(health.status).toBe(200);
    a.close();
    await until('the server to see the close', () => server.websocketStats()?.connections === 1);
    const c = await open();
    expect((await c.request('health')).result.ok).toBe(true);
  });

  it('closes a connection that sends a message over maxMessageBytes with 1009', async () => {
    const { server, open } = await start({ maxMessageBytes: 1024 });
    const client = await open();
    expect((await client.request('health', { pad: 'x'.repeat(900) })).error.code).toBe(RPC_ERROR.invalidParams);
    client.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'health', params: { pad: 'x'.repeat(2000) } }));
    const closed = await client.closed;
    expect(closed.code).toBe(1009);
    await until('the server to drop it', () => server.websocketStats()?.connections === 0);
  });

  it('disconnects a subscriber that never reads with 1008 "slow consumer", holding at most the bound', async () => {
    const maxBufferedBytes = 256 * 1024;
    const { server, events, open } = await start({ maxBufferedBytes });
    const slow = await open();
    const healthy = await open();
    await slow.subscribe({ type: 'block' });
    await healthy.subscribe({ type: 'tx', hash: '00'.repeat(32) });
    slow.ws.pause();

    // One block with many txs (an event of several KiB), published over and over.
    const chain = new TestChain();
    const block = chain.commit(Array.from({ length: 100 }, (_, i) => chain.transfer(i % 3)));
    const eventBytes = JSON.stringify(block.receipts.map((r) => toHex(r.txHash))).length;
    expect(eventBytes).toBeGreaterThan(6_000);
    const heapBefore = process.memoryUsage().heapUsed;
    let published = 0;
    // Far more than the kernel's socket buffers and the bound together could hold (~60 MiB).
    while (server.websocketStats()!.slowConsumers === 0 && published < 10_000) {
      for (let i = 0; i < 50; i++) events.emit(block);
      published += 50;
      await new Promise((r) => setImmediate(r));
    }
    const stats = server.websocketStats()!;
    expect(stats.slowConsumers).toBe(1);
    expect(stats.peakBufferedBytes).toBeGreaterThan(maxBufferedBytes);
    // The check runs before each send: at most the bound plus one message is ever held.
    expect(stats.peakBufferedBytes).toBeLessThan(maxBufferedBytes + 2 * eventBytes);
    // Publishing more after the cut costs nothing for the cut client.
    for (let i = 0; i < 500; i++) events.emit(block);
    expect(server.websocketStats()!.peakBufferedBytes).toBe(stats.peakBufferedBytes);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(server.websocketStats()!.subscriptions).toBe(1);

    // The slow client, reading again, gets what was sent, then the close with its reason.
    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^slow consumer: \d+ bytes unsent, limit 262144$/);
    expect(slow.notifications.length).toBeGreaterThan(0);
    expect(slow.notifications.length).toBeLessThan(published);
    // Others are unaffected.
    expect((await healthy.request('health')).result.ok).toBe(true);
  });

  it('stop() closes WebSocket clients with 1001', async () => {
    const { server, open } = await start();
    const client = await open();
    await client.subscribe({ type: 'block' });
    await server.stop();
    servers.length = 0;
    expect((await client.closed).code).toBe(1001);
  });
});

describe('WebSocket routing', () => {
  it('answers a plain GET /websocket with 426 and an upgrade elsewhere with 404', async () => {
    const { server } = await start();
    const port = server.address!.port;
    const plain = await fetch(`http://127.0.0.1:${port}/websocket`);
    expect(plain.status).toBe(426);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('close', () => resolve(got));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
  });
});
