/**
 * JSON-RPC 2.0 over WebSocket, at GET /websocket on the RPC port (the HTTP server hands
 * the upgrade here). A connection can call every method of the HTTP table (same
 * dispatcher, batches included) plus three of its own:
 *
 * - `subscribe {query}` -> `{"subscription": "<id>"}`; events then arrive as
 *   notifications (shapes and queries: events.ts). Ids are strings, unique per connection.
 * - `unsubscribe {subscription}` -> `{"unsubscribed": true}`, or false when the
 *   connection has no such subscription (so a late unsubscribe is harmless).
 * - `unsubscribe_all` -> `{"count": n}`, how many were removed.
 *
 * Bounds (WebSocketOptions): connections (the upgrade is refused with HTTP 503 beyond the
 * limit; this limit is apart from the HTTP one), subscriptions per connection (-32014),
 * incoming message size (close 1009), requests in flight per connection (past the limit
 * the socket is not read until one finishes: TCP pushes back on the client), and unsent
 * bytes per connection. Events are never queued in memory for a client: each is written
 * to the socket at once unless the connection already holds more than maxBufferedBytes
 * unsent, in which case the client is cut with close code 1008 and a reason starting
 * "slow consumer:". So a client that stops reading costs at most maxBufferedBytes plus one
 * message, whatever the event rate.
 *
 * Close codes the server sends: 1001 server stopping; 1008 slow consumer; 1009 message too
 * big; 1013 connection limit reached (a rare race past the upgrade check). A connection
 * that does not answer a ping within pingIntervalMs is dropped. When a connection closes,
 * its subscriptions go with it.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { NodeApi } from './api.js';
import { dispatch, errorResponse, type RpcResponse } from './dispatch.js';
import { RPC_ERROR, RpcError } from './errors.js';
import { notificationText, parseQuery, type CommitSource, type SubscriptionQuery } from './events.js';
import { method, type Logger, type MethodTable, type RpcMethod } from './methods.js';
import { INVALID_REQUEST, type RpcObserver } from './observe.js';
import { noParams, params, required, type ValueParser } from './params.js';
import { SubscriptionHub, type Subscriber } from './subscriptions.js';

export interface WebSocketOptions {
  /** Open WebSocket connections at most; beyond it the upgrade is refused (HTTP 503). Default 64. */
  readonly maxConnections?: number;
  /** Subscriptions per connection at most. Default 32. */
  readonly maxSubscriptions?: number;
  /** The largest incoming message, in bytes; a bigger one closes the connection (1009). Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Unsent bytes a connection may hold; past it the client is cut as a slow consumer (1008). Default 8 MiB. */
  readonly maxBufferedBytes?: number;
  /** Requests of one connection handled at once; past it the socket is not read until one finishes. Default 16. */
  readonly maxInFlight?: number;
  /** Ping period; a connection that has not answered the previous ping by the next is dropped. Default 30 s. */
  readonly pingIntervalMs?: number;
  /** How long a closing connection may take to finish the close handshake before it is cut. Default 5 s. */
  readonly closeTimeoutMs?: number;
}

export const WEBSOCKET_DEFAULTS: Required<WebSocketOptions> = {
  maxConnections: 64,
  maxSubscriptions: 32,
  maxMessageBytes: 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxInFlight: 16,
  pingIntervalMs: 30_000,
  closeTimeoutMs: 5_000,
};

export const WS_CLOSE = {
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
} as const;

export interface WebSocketStats {
  readonly connections: number;
  readonly subscriptions: number;
  /** The most unsent bytes any connection has held (for checking the slow-consumer bound). */
  readonly peakBufferedBytes: number;
  /** Connections cut for not reading. */
  readonly slowConsumers: number;
}

/** What the gateway shares with the HTTP server. */
export interface WebSocketDeps {
  readonly api: NodeApi;
  /** The HTTP method table; subscription methods are added per connection. */
  readonly table: MethodTable;
  /** Without a source there is nothing to subscribe to: the subscription methods are absent. */
  readonly events?: CommitSource;
  readonly maxBatch: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly observer: RpcObserver;
}

// ---------------------------------------------------------------------------------------
// The subscription methods

/** What the subscription methods act on: one connection. */
export interface SubscriptionTarget {
  subscribe(query: SubscriptionQuery): string;
  unsubscribe(id: string): boolean;
  unsubscribeAll(): number;
}

const MAX_SUBSCRIPTION_ID = 32;

const subscriptionId: ValueParser<string> = (value) =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_SUBSCRIPTION_ID
    ? { ok: true, value }
    : { ok: false, error: 'must be a subscription id (a string returned by subscribe)' };

/** The connection-bound methods; `describeMethods(subscriptionMethods(...))` documents them. */
export function subscriptionMethods(target: SubscriptionTarget): RpcMethod[] {
  return [
    method({
      name: 'subscribe',
      description:
        'WebSocket only. Subscribes this connection to committed blocks ({"type":"block"}), txs by sender ({"type":"tx","sender":ADDRESS}) ' +
        'or one tx by hash ({"type":"tx","hash":HEX}); returns the subscription id. Events arrive as "subscription" notifications.',
      params: params({ query: required('object', 'What to subscribe to (see the description).', parseQuery) }),
      handler: async ({ query }) => ({ subscription: target.subscribe(query) }),
    }),
    method({
      name: 'unsubscribe',
      description: 'WebSocket only. Ends one subscription of this connection; unsubscribed is false when there was none by that id.',
      params: params({ subscription: required('string', 'The id subscribe returned.', subscriptionId) }),
      handler: async ({ subscription }) => ({ unsubscribed: target.unsubscribe(subscription) }),
    }),
    method({
      name: 'unsubscribe_all',
      description: 'WebSocket only. Ends every subscription of this connection; returns how many there were.',
      params: noParams,
      handler: async () => ({ count: target.unsubscribeAll() }),
    }),
  ];
}

// ---------------------------------------------------------------------------------------
// One connection

interface ConnectionContext {
  readonly limits: Required<WebSocketOptions>;
  readonly deps: WebSocketDeps;
  readonly hub: SubscriptionHub;
  notePeak(bytes: number): void;
  noteSlowConsumer(): void;
  closed(connection: Connection): void;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

class Connection implements Subscriber, SubscriptionTarget {
  private readonly table: MethodTable;
  private nextId = 0;
  private inFlight = 0;
  private paused = false;
  private closing = false;
  private closeTimer: NodeJS.Timeout | undefined;
  /** Whether the client showed life (a pong or a message) since the last ping. */
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: ConnectionContext,
    /** Whether the upgrade request carried the server's bearer token (see auth.ts). */
    private readonly authorized: boolean,
  ) {
    const table = new Map(ctx.deps.table);
    if (ctx.deps.events !== undefined) for (const m of subscriptionMethods(this)) table.set(m.name, m);
    this.table = table;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    // ws closes the socket itself after an 'error' (bad frame 1002, bad UTF-8 1007, too big 1009).
    ws.on('error', (e) => ctx.deps.logger.debug({ err: e.message }, 'WebSocket error'));
    ws.on('close', () => this.onClose());
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  // SubscriptionTarget

  subscribe(query: SubscriptionQuery): string {
    const limit = this.ctx.limits.maxSubscriptions;
    if (this.ctx.hub.count(this) >= limit) {
      throw new RpcError(RPC_ERROR.subscriptionLimit, `too many subscriptions: this connection has ${limit}, the limit`, { limit });
    }
    const id = String(++this.nextId);
    this.ctx.hub.add(this, id, query);
    return id;
  }

  unsubscribe(id: string): boolean {
    return this.ctx.hub.remove(this, id);
  }

  unsubscribeAll(): number {
    return this.ctx.hub.removeAll(this);
  }

  // Subscriber

  deliver(subscription: string, eventJson: string): void {
    this.send(notificationText(subscription, eventJson));
  }

  // ------------------------------------------------------------------------------------

  ping(): void {
    if (this.closing) return;
    // A connection with a request in flight may have paused reading, so a pong can wait.
    if (!this.alive && !this.busy) {
      this.ctx.deps.logger.debug({}, 'WebSocket peer did not answer a ping: dropping it');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.ctx.hub.removeAll(this);
    this.ws.close(code, reason);
    // The close frame waits behind whatever is unsent; a client that never reads would
    // hold the socket for ws's own 30 s: cut it sooner.
    this.closeTimer = setTimeout(() => this.ws.terminate(), this.ctx.limits.closeTimeoutMs);
  }

  private onClose(): void {
    this.closing = true;
    clearTimeout(this.closeTimer);
    this.ctx.hub.removeAll(this);
    this.ctx.closed(this);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closing) return;
    this.alive = true;
    const { deps } = this.ctx;
    if (isBinary) {
      deps.observer.rpcCall('ws', INVALID_REQUEST, RPC_ERROR.parseError);
      this.sendResponse(errorResponse(null, RPC_ERROR.parseError, 'Parse error: send JSON-RPC in text frames'));
      return;
    }
    let parsed: unknown;
    try {
      // ws has checked that a text frame is UTF-8 (else it closed with 1007).
      parsed = JSON.parse(toBuffer(data).toString('utf8'));
    } catch {
      deps.observer.rpcCall('ws', INVALID_REQUEST, RPC_ERROR.parseError);
      this.sendResponse(errorResponse(null, RPC_ERROR.parseError, 'Parse error: the message is not JSON'));
      return;
    }
    this.inFlight++;
    if (this.inFlight >= this.ctx.limits.maxInFlight && !this.paused) {
      this.paused = true;
      this.ws.pause();
    }
    dispatch(parsed, {
      table: this.table,
      api: deps.api,
      maxBatch: deps.maxBatch,
      timeoutMs: deps.timeoutMs,
      logger: deps.logger,
      observe: (name, code) => deps.observer.rpcCall('ws', name, code),
      authorized: this.authorized,
    })
      .then((response) => {
        if (response !== undefined) this.sendResponse(response);
      })
      .catch((e: unknown) => {
        deps.logger.warn({ err: e }, 'WebSocket request failed');
        this.sendResponse(errorResponse(null, RPC_ERROR.internalError, 'Internal error'));
      })
      .finally(() => {
        this.inFlight--;
        if (this.paused && this.inFlight < this.ctx.limits.maxInFlight) {
          this.paused = false;
          this.ws.resume();
        }
      });
  }

  private sendResponse(response: RpcResponse | RpcResponse[]): void {
    let text: string;
    try {
      text = JSON.stringify(response);
    } catch (e) {
      // A handler returned something JSON cannot hold: a bug, not input.
      this.ctx.deps.logger.warn({ err: e }, 'RPC response does not serialize');
      text = JSON.stringify(errorResponse(null, RPC_ERROR.internalError, 'Internal error'));
    }
    this.send(text);
  }

  /** Writes at once, or cuts the client if it already holds too much unsent. */
  private send(text: string): void {
    if (this.closing) return;
    const unsent = this.ws.bufferedAmount;
    const limit = this.ctx.limits.maxBufferedBytes;
    if (unsent > limit) {
      this.ctx.noteSlowConsumer();
      this.ctx.deps.logger.debug({ unsent, limit }, 'WebSocket slow consumer: dropping it');
      this.close(WS_CLOSE.policyViolation, `slow consumer: ${unsent} bytes unsent, limit ${limit}`);
      return;
    }
    this.ws.send(text);
    this.ctx.notePeak(this.ws.bufferedAmount);
  }
}

// ---------------------------------------------------------------------------------------
// The gateway

export class WebSocketGateway {
  private readonly limits: Required<WebSocketOptions>;
  private readonly wss: WebSocketServer;
  private readonly hub = new SubscriptionHub();
  private readonly live = new Set<Connection>();
  private readonly ctx: ConnectionContext;
  private stopSource: (() => void) | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private stopping = false;
  private peakBufferedBytes = 0;
  private slowConsumers = 0;
  private drained: (() => void) | undefined;

  constructor(
    options: WebSocketOptions,
    private readonly deps: WebSocketDeps,
  ) {
    const limits = { ...WEBSOCKET_DEFAULTS };
    for (const key of Object.keys(WEBSOCKET_DEFAULTS) as (keyof WebSocketOptions)[]) {
      const value = options[key];
      if (value === undefined) continue;
      if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`WebSocket ${key} must be a positive integer, got ${value}`);
      limits[key] = value;
    }
    this.limits = limits;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
    this.ctx = {
      limits,
      deps,
      hub: this.hub,
      notePeak: (bytes) => {
        if (bytes > this.peakBufferedBytes) this.peakBufferedBytes = bytes;
      },
      noteSlowConsumer: () => {
        this.slowConsumers++;
        deps.observer.slowConsumer();
      },
      closed: (connection) => {
        this.live.delete(connection);
        if (this.live.size === 0) this.drained?.();
      },
    };
  }

  get maxConnections(): number {
    return this.limits.maxConnections;
  }

  get connections(): number {
    return this.live.size;
  }

  stats(): WebSocketStats {
    return {
      connections: this.live.size,
      subscriptions: this.hub.count(),
      peakBufferedBytes: this.peakBufferedBytes,
      slowConsumers: this.slowConsumers,
    };
  }

  /** Starts listening to commits and pinging. */
  open(): void {
    this.stopping = false;
    const source = this.deps.events;
    if (source !== undefined && this.stopSource === undefined) {
      this.stopSource = source.subscribeCommits((event) => {
        try {
          this.hub.publish(event);
        } catch (e) {
          // A bug here must not reach the node's commit path.
          this.deps.logger.warn({ err: e }, 'publishing a commit to subscribers failed');
        }
      });
    }
    this.pinger ??= setInterval(() => {
      for (const connection of this.live) connection.ping();
    }, this.limits.pingIntervalMs);
    this.pinger.unref();
  }

  /**
   * Takes over an HTTP upgrade request for /websocket (the server has checked the path).
   * `authorized`: the request carried the server's bearer token, so the connection may
   * call the methods that change the node.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, authorized = true): void {
    if (this.stopping) return refuseUpgrade(socket, 503, 'the server is stopping');
    if (this.live.size >= this.limits.maxConnections) {
      this.deps.logger.debug({ maxConnections: this.limits.maxConnections }, 'WebSocket upgrade refused: limit reached');
      return refuseUpgrade(socket, 503, `WebSocket connection limit (${this.limits.maxConnections}) reached`);
    }
    socket.on('error', (e) => this.deps.logger.debug({ err: e.message }, 'WebSocket socket error'));
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new Connection(ws, this.ctx, authorized);
      this.live.add(connection);
      if (this.stopping || this.live.size > this.limits.maxConnections) {
        connection.close(this.stopping ? WS_CLOSE.goingAway : WS_CLOSE.tryAgainLater, 'connection limit reached');
      }
    });
  }

  /** Closes every connection (1001) and stops listening to commits; resolves when all are gone. */
  async close(): Promise<void> {
    this.stopping = true;
    this.stopSource?.();
    this.stopSource = undefined;
    clearInterval(this.pinger);
    this.pinger = undefined;
    if (this.live.size === 0) return;
    const drained = new Promise<void>((resolve) => (this.drained = resolve));
    for (const connection of this.live) connection.close(WS_CLOSE.goingAway, 'server stopping');
    await drained;
    this.drained = undefined;
  }
}

/** Answers an upgrade with a plain HTTP error (a JSON-RPC error body, like the HTTP refusals) and closes. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify(errorResponse(null, RPC_ERROR.invalidRequest, message));
  socket.once('finish', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
