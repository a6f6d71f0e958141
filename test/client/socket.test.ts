/**
 * The client's WebSocket handling against a scripted server (a real ws server on a real
 * port, speaking JSON-RPC like the node, but in the order each test needs): an event the
 * server sends before its answer to `subscribe` is not lost, a dropped socket ends the
 * subscription with the close code, an event that does not parse ends it as bad-response.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { LedgerClient } from '../../src/client/client.js';
import type { BlockEvent } from '../../src/client/types.js';
import { websocketUrl } from '../../src/client/socket.js';

const H = (n: number) => n.toString(16).padStart(64, '0');

function blockEventJson(height: number): Record<string, unknown> {
  return {
    type: 'block',
    height,
    hash: H(height),
    parent_hash: H(height - 1),
    time: 1_767_225_600_000 + height,
    view: 0,
    proposer: 0,
    state_root: H(99),
    tx_count: 0,
    txs: [],
    certificate: { view: 0, height, block_hash: H(height), signers: [0, 1, 2] },
  };
}

interface Scripted {
  readonly url: string;
  readonly server: Server;
  readonly wss: WebSocketServer;
  readonly seen: unknown[];
  readonly headers: Record<string, string | string[] | undefined>[];
}

/** A server whose answer to each WebSocket request is `onRequest`'s. */
async function scripted(onRequest: (ws: WebSocket, request: { id: number; method: string; params: Record<string, unknown> }) => void): Promise<Scripted> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: '/websocket' });
  const seen: unknown[] = [];
  const headers: Scripted['headers'] = [];
  wss.on('connection', (ws, req) => {
    headers.push(req.headers);
    ws.on('message', (data) => {
      const request = JSON.parse(data.toString()) as { id: number; method: string; params: Record<string, unknown> };
      seen.push(request);
      onRequest(ws, request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, wss, seen, headers };
}

const open: Scripted[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) {
    for (const ws of s.wss.clients) ws.terminate();
    s.wss.close();
    await new Promise((resolve) => s.server.close(resolve));
  }
});

const notify = (ws: WebSocket, subscription: string, result: unknown) =>
  ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { subscription, result } }));
const answer = (ws: WebSocket, id: number, result: unknown) => ws.send(JSON.stringify({ jsonrpc: '2.0', id, result }));

describe('client WebSocket', () => {
  it('maps http(s) URLs to the /websocket endpoint', () => {
    expect(websocketUrl('http://127.0.0.1:26657')).toBe('ws://127.0.0.1:26657/websocket');
    expect(websocketUrl('https://node.example/rpc/')).toBe('wss://node.example/rpc/websocket');
  });

  it('keeps an event that arrives before the answer to subscribe, and sends the token', async () => {
    const s = await scripted((ws, r) => {
      if (r.method === 'subscribe') {
        notify(ws, '7', blockEventJson(5)); // announced before the answer names id 7
        answer(ws, r.id, { subscription: '7' });
        notify(ws, '7', blockEventJson(6));
      }
      if (r.method === 'unsubscribe') answer(ws, r.id, { unsubscribed: true });
    });
    open.push(s);
    const client = new LedgerClient({ url: s.url, token: 'a-token-of-sixteen-chars' });
    const got: BlockEvent[] = [];
    const sub = await client.subscribeBlocks((b) => got.push(b));
    await expect.poll(() => got.length).toBe(2);
    expect(got.map((b) => b.height)).toEqual([5, 6]);
    expect(sub.id).toBe('7');
    expect(s.headers[0]?.authorization).toBe('Bearer a-token-of-sixteen-chars');
    await sub.unsubscribe();
    expect(await sub.ended).toBeUndefined();
    expect(s.seen).toContainEqual(expect.objectContaining({ method: 'unsubscribe', params: { subscription: '7' } }));
    client.close();
  });

  it('ends a subscription with the close code when the node drops the socket', async () => {
    const s = await scripted((ws, r) => {
      if (r.method === 'subscribe') {
        answer(ws, r.id, { subscription: '1' });
        setTimeout(() => ws.close(1008, 'slow consumer: 9 bytes unsent, limit 8'), 20);
      }
    });
    open.push(s);
    const client = new LedgerClient({ url: s.url });
    const sub = await client.subscribeTxs({ sender: 'ab'.repeat(20) }, () => {});
    const ended = await sub.ended;
    expect(ended?.info).toEqual({ code: 'socket', closeCode: 1008 });
    expect(ended?.message).toContain('slow consumer');
    client.close();
  });

  it('ends a subscription as bad-response when an event does not parse', async () => {
    const s = await scripted((ws, r) => {
      if (r.method === 'subscribe') {
        answer(ws, r.id, { subscription: '3' });
        notify(ws, '3', { ...blockEventJson(2), hash: 'not hex' });
      }
      if (r.method === 'unsubscribe') answer(ws, r.id, { unsubscribed: true });
    });
    open.push(s);
    const client = new LedgerClient({ url: s.url });
    const got: BlockEvent[] = [];
    const sub = await client.subscribeBlocks((b) => got.push(b));
    const ended = await sub.ended;
    expect(ended?.code).toBe('bad-response');
    expect(ended?.message).toContain('event.hash');
    expect(got).toEqual([]);
    client.close();
  });

  it('reports a node without a WebSocket endpoint as a socket error', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new LedgerClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      await expect(client.subscribeBlocks(() => {})).rejects.toMatchObject({ code: 'socket' });
      client.close();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
