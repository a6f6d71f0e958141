import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tryDecodeUtf8 } from '../crypto/bytes.js';
import type { Duplex } from 'node:stream';
import type { NodeApi } from './api.js';
import { BearerAuth } from './auth.js';
import { dispatch, errorResponse } from './dispatch.js';
import { RPC_ERROR } from './errors.js';
import type { CommitSource } from './events.js';
import { methodTable, silentLogger, METHODS, type Logger, type MethodTable, type RpcMethod } from './methods.js';
import { INVALID_REQUEST, noopObserver, type MetricsEndpoint, type RpcObserver } from './observe.js';
import { refuseUpgrade, WebSocketGateway, type WebSocketOptions, type WebSocketStats } from './websocket.js';

/**
 * JSON-RPC 2.0 over HTTP/1.1 (node:http). POST / with Content-Type application/json
 * carries requests; GET /health is a plain HTTP route, and so is GET /metrics (Prometheus
 * text) when a metrics endpoint is given. With `websocket` options, GET /websocket upgrades
 * to JSON-RPC over WebSocket with subscriptions (websocket.ts). Status codes and error
 * codes are documented in errors.ts.
 *
 * Everything from outside is bounded: the body (maxBodyBytes; 413 and the connection is
 * closed), the time to receive a request and the time to answer it (requestTimeoutMs),
 * connections (maxConnections; beyond it Node drops new ones at once), and batches
 * (maxBatch entries). No input can crash the server: a handler's exception becomes
 * -32603, a broken connection is dropped, and the body is parsed inside a try.
 *
 * It listens on 127.0.0.1 unless told otherwise: the endpoint accepts txs and exposes node
 * state, so reaching it from another machine should be a deliberate choice.
 */

export interface RpcServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 26657; 0 picks a free port (see `address`). */
  readonly port?: number;
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Bounds receiving a request and, separately, answering it. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Default 256. */
  readonly maxConnections?: number;
  /** Most requests in one batch. Default 100. */
  readonly maxBatch?: number;
  readonly logger?: Logger;
  /** The method table (default METHODS); tests and extensions pass their own. */
  readonly methods?: readonly RpcMethod[];
  /**
   * Serve JSON-RPC over WebSocket at /websocket with these limits. Absent: no WebSocket
   * endpoint. WebSocket connections have their own limit: the HTTP limit (maxConnections)
   * counts only connections that are not WebSockets.
   */
  readonly websocket?: WebSocketOptions;
  /** What WebSocket subscriptions hear; without it there is nothing to subscribe to. */
  readonly events?: CommitSource;
  /** Hears every call's method and outcome (metrics). */
  readonly observer?: RpcObserver;
  /** Served as GET /metrics when given. */
  readonly metrics?: MetricsEndpoint;
  /**
   * A bearer token for the methods that change the node (broadcast_tx_*, over HTTP and
   * WebSocket): without "Authorization: Bearer <token>" they are answered -32001. Absent
   * or empty: no token is asked for. Reads are never guarded.
   */
  readonly authToken?: string;
}

export const RPC_DEFAULTS = {
  host: '127.0.0.1',
  port: 26657,
  maxBodyBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
  maxConnections: 256,
  maxBatch: 100,
} as const;

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

/** How long an oversized body may keep streaming in after the 413, before the socket is cut. */
const OVERSIZE_LINGER_MS = 1_000;

type Body = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly reason: 'too-large' | 'aborted' };

/** Reads the body, keeping at most `limit` bytes; past it, stops keeping (the rest drains unread). */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (body: Body): void => {
      if (done) return;
      done = true;
      resolve(body);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish({ ok: false, reason: 'too-large' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish({ ok: true, bytes: Buffer.concat(chunks, size) }));
    req.on('error', () => finish({ ok: false, reason: 'aborted' }));
    req.on('close', () => finish({ ok: false, reason: 'aborted' }));
  });
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  return (value.split(';')[0] ?? '').trim().toLowerCase() === 'application/json';
}

export class RpcServer {
  private readonly host: string;
  private readonly port: number;
  private readonly maxBodyBytes: number;
  private readonly requestTimeoutMs: number;
  private readonly maxConnections: number;
  private readonly maxBatch: number;
  private readonly logger: Logger;
  private readonly table: MethodTable;
  private readonly observer: RpcObserver;
  private readonly metrics: MetricsEndpoint | undefined;
  private readonly ws: WebSocketGateway | undefined;
  private readonly auth: BearerAuth | undefined;
  private server: Server | undefined;
  private bound: BoundAddress | undefined;
  private stopping = false;
  /** Open connections, with how many requests each has in flight (so stop can close the idle ones). */
  private readonly sockets = new Map<Socket, number>();

  constructor(
    options: RpcServerOptions,
    private readonly api: NodeApi,
  ) {
    this.host = options.host ?? RPC_DEFAULTS.host;
    this.port = options.port ?? RPC_DEFAULTS.port;
    this.maxBodyBytes = options.maxBodyBytes ?? RPC_DEFAULTS.maxBodyBytes;
    this.requestTimeoutMs = options.requestTimeoutMs ?? RPC_DEFAULTS.requestTimeoutMs;
    this.maxConnections = options.maxConnections ?? RPC_DEFAULTS.maxConnections;
    this.maxBatch = options.maxBatch ?? RPC_DEFAULTS.maxBatch;
    this.logger = options.logger ?? silentLogger;
    this.table = methodTable(options.methods ?? METHODS);
    this.observer = options.observer ?? noopObserver;
    this.metrics = options.metrics;
    this.auth = options.authToken === undefined || options.authToken === '' ? undefined : new BearerAuth(options.authToken);
    for (const key of ['maxBodyBytes', 'requestTimeoutMs', 'maxConnections', 'maxBatch'] as const) {
      if (!Number.isSafeInteger(this[key]) || this[key] <= 0) throw new RangeError(`RpcServer: ${key} must be a positive integer, got ${this[key]}`);
    }
    if (!Number.isSafeInteger(this.port) || this.port < 0 || this.port > 65_535) throw new RangeError(`RpcServer: bad port ${this.port}`);
    if (options.websocket !== undefined) {
      const deps = { api, table: this.table, maxBatch: this.maxBatch, timeoutMs: this.requestTimeoutMs, logger: this.logger, observer: this.observer };
      this.ws = new WebSocketGateway(options.websocket, options.events === undefined ? deps : { ...deps, events: options.events });
    }
  }

  /** WebSocket connections and subscriptions (undefined without a WebSocket endpoint). */
  websocketStats(): WebSocketStats | undefined {
    return this.ws?.stats();
  }

  /** The address the server listens on, once started (the real port when started with port 0). */
  get address(): BoundAddress | undefined {
    return this.bound;
  }

  /** http://host:port of the endpoint, once started. */
  get url(): string | undefined {
    if (this.bound === undefined) return undefined;
    const host = this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host;
    return `http://${host}:${this.bound.port}`;
  }

  /** Resolves once listening; rejects if the address cannot be bound. */
  async start(): Promise<BoundAddress> {
    if (this.server !== undefined) throw new Error('RpcServer: already started');
    const server = createServer(
      {
        requestTimeout: this.requestTimeoutMs,
        headersTimeout: this.requestTimeoutMs,
        // Node checks the two timeouts above on this period (default 30 s, too coarse).
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(this.requestTimeoutMs / 4))),
        keepAliveTimeout: 5_000,
      },
      (req, res) => this.onRequest(req, res),
    );
    const ws = this.ws;
    server.maxConnections = this.maxConnections + (ws?.maxConnections ?? 0);
    server.on('connection', (socket: Socket) => {
      // Past Node's own cap (set above), non-WebSocket connections keep to maxConnections.
      if (ws !== undefined && this.sockets.size - ws.connections >= this.maxConnections) {
        this.logger.debug({ maxConnections: this.maxConnections }, 'RPC connection dropped: limit reached');
        socket.destroy();
        return;
      }
      this.sockets.set(socket, 0);
      socket.once('close', () => this.sockets.delete(socket));
    });
    if (ws !== undefined) server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on('drop', () => this.logger.debug({ maxConnections: this.maxConnections }, 'RPC connection dropped: limit reached'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.logger.warn({ err: e }, 'RPC server error'));
    const info = server.address() as AddressInfo;
    this.server = server;
    this.stopping = false;
    this.bound = { host: info.address, port: info.port };
    ws?.open();
    return this.bound;
  }

  /**
   * Stops accepting connections, closes every connection with no request being handled,
   * lets the requests being handled finish (each is bounded by requestTimeoutMs; a second
   * past that, whatever is left is cut) and answers them with Connection: close, then
   * resolves.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await this.ws?.close();
    // Node's closeIdleConnections misses a connection that never sent a request (clients
    // pre-connect), which would hold stop() until the client's keep-alive ends: close
    // every connection with nothing in flight; the rest close after their answer.
    for (const [socket, inFlight] of this.sockets) if (inFlight === 0) socket.destroy();
    const force = setTimeout(() => {
      for (const socket of this.sockets.keys()) socket.destroy();
      server.closeAllConnections();
    }, this.requestTimeoutMs + 1_000);
    await closed;
    clearTimeout(force);
    this.server = undefined;
    this.bound = undefined;
  }

  // -------------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', (e) => this.logger.debug({ err: e }, 'RPC response failed'));
    const socket = req.socket;
    this.sockets.set(socket, (this.sockets.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const inFlight = (this.sockets.get(socket) ?? 1) - 1;
      if (!this.sockets.has(socket)) return;
      this.sockets.set(socket, inFlight);
      if (this.stopping && inFlight === 0) socket.destroySoon();
    });
    this.handle(req, res).catch((e: unknown) => {
      this.logger.warn({ err: e }, 'RPC request failed');
      if (!res.headersSent) this.sendRpc(res, 500, errorResponse(null, RPC_ERROR.internalError, 'Internal error'));
      else res.destroy();
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/websocket') return refuseUpgrade(socket, 404, 'Not found: WebSocket is served at /websocket');
    this.ws?.handleUpgrade(req, socket, head, this.authorized(req));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/metrics' && this.metrics !== undefined) {
      if (req.method !== 'GET') return this.refuse(res, 405, 'Method not allowed: GET /metrics', { Allow: 'GET' });
      const text = await this.metrics.render();
      return this.send(res, 200, text, { 'Content-Type': this.metrics.contentType });
    }
    if (path === '/websocket' && this.ws !== undefined) {
      return this.refuse(res, 426, 'Upgrade required: /websocket speaks JSON-RPC over WebSocket', { Upgrade: 'websocket' });
    }
    if (path === '/health') {
      if (req.method !== 'GET') return this.refuse(res, 405, 'Method not allowed: GET /health', { Allow: 'GET' });
      const health = this.api.health();
      return this.sendJson(res, health.ok ? 200 : 503, JSON.stringify({ ok: health.ok, reasons: health.reasons }));
    }
    if (path !== '/') return this.refuse(res, 404, 'Not found: the JSON-RPC endpoint is POST /');
    if (req.method !== 'POST') return this.refuse(res, 405, 'Method not allowed: use POST', { Allow: 'POST' });
    if (!isJsonContentType(req.headers['content-type'])) return this.refuse(res, 415, 'Unsupported media type: use application/json');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) return this.refuseOversized(req, res);

    const body = await readBody(req, this.maxBodyBytes);
    if (!body.ok) {
      if (body.reason === 'too-large') return this.refuseOversized(req, res);
      return; // the client went away: nobody to answer
    }
    const text = tryDecodeUtf8(body.bytes);
    let parsed: unknown;
    try {
      if (text === undefined) throw new SyntaxError('not UTF-8');
      parsed = JSON.parse(text);
    } catch {
      this.observer.rpcCall('http', INVALID_REQUEST, RPC_ERROR.parseError);
      return this.sendRpc(res, 200, errorResponse(null, RPC_ERROR.parseError, 'Parse error: the body is not UTF-8 JSON'));
    }
    const response = await dispatch(parsed, {
      table: this.table,
      api: this.api,
      maxBatch: this.maxBatch,
      timeoutMs: this.requestTimeoutMs,
      logger: this.logger,
      observe: (name, code) => this.observer.rpcCall('http', name, code),
      authorized: this.authorized(req),
    });
    if (response === undefined) return this.send(res, 204, undefined);
    this.sendRpc(res, 200, response);
  }

  /** Whether the request may call the methods that change the node. */
  private authorized(req: IncomingMessage): boolean {
    return this.auth === undefined || this.auth.authorizes(req.headers.authorization);
  }

  private refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    this.observer.rpcCall('http', INVALID_REQUEST, RPC_ERROR.invalidRequest);
    this.sendRpc(res, status, errorResponse(null, RPC_ERROR.invalidRequest, message), headers);
  }

  /**
   * Answers 413 at once and closes the connection. The rest of the body is left to drain
   * for a moment rather than cut, so the client can read the answer instead of a reset.
   */
  private refuseOversized(req: IncomingMessage, res: ServerResponse): void {
    this.refuse(res, 413, `Request body exceeds ${this.maxBodyBytes} bytes`, { Connection: 'close' });
    req.resume();
    const cut = setTimeout(() => req.socket.destroy(), OVERSIZE_LINGER_MS);
    req.socket.once('close', () => clearTimeout(cut));
  }

  private sendRpc(res: ServerResponse, status: number, response: unknown, headers: Record<string, string> = {}): void {
    let text: string;
    try {
      text = JSON.stringify(response);
    } catch (e) {
      // A handler returned something JSON cannot hold (a bigint, a cycle): a bug, not input.
      this.logger.warn({ err: e }, 'RPC response does not serialize');
      text = JSON.stringify(errorResponse(null, RPC_ERROR.internalError, 'Internal error'));
    }
    this.sendJson(res, status, text, headers);
  }

  private sendJson(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    this.send(res, status, text, { 'Content-Type': 'application/json', ...headers });
  }

  private send(res: ServerResponse, status: number, text: string | undefined, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const all: Record<string, string | number> = { ...headers };
    if (text !== undefined) all['Content-Length'] = Buffer.byteLength(text);
    if (this.stopping) all['Connection'] = 'close';
    res.writeHead(status, all);
    res.end(text);
  }
}
