/**
 * One WebSocket to a node's /websocket endpoint (docs/websocket.md): JSON-RPC requests
 * matched to answers by id, and subscription notifications routed to their handler by
 * subscription id.
 *
 * The server may announce an event for a new subscription before its answer to
 * `subscribe` (the subscription is live from the moment the server registers it), so
 * notifications for an id not known yet are held while a subscribe is in flight and
 * handed over once its answer names the id: an event is never lost to that race.
 */
import WebSocket from 'ws';
import { ClientError } from './errors.js';
import { rpcFailure } from './transport.js';

export interface SubscriptionHandler {
  onEvent(result: unknown): void;
  /** Called once when the subscription ends: undefined when ended on purpose, else why the socket failed. */
  onEnd(error: ClientError | undefined): void;
}

interface PendingRequest {
  readonly method: string;
  resolve(value: unknown): void;
  reject(error: ClientError): void;
  readonly timer: NodeJS.Timeout;
}

/** Notifications held for ids not known yet, at most this many. */
const MAX_EARLY_NOTIFICATIONS = 10_000;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** http://host:port/path -> ws://host:port/path/websocket (https -> wss). */
export function websocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/websocket`;
  return url.toString();
}

export class EventSocket {
  private nextId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly handlers = new Map<string, SubscriptionHandler>();
  private readonly early: { id: string; result: unknown }[] = [];
  private subscribesInFlight = 0;
  private ended = false;

  private constructor(
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
  ) {
    ws.on('message', (data) => this.onMessage(data));
    ws.on('close', (code, reason) => {
      const why = reason.toString('utf8');
      this.end(new ClientError({ code: 'socket', closeCode: code }, `the WebSocket closed (${code}${why === '' ? '' : `: ${why}`})`));
    });
    ws.on('error', (e) => this.end(new ClientError({ code: 'socket' }, `WebSocket error: ${e.message}`)));
  }

  /** Opens the socket; rejects with a 'socket' ClientError when the node refuses or cannot be reached. */
  static open(httpUrl: string, headers: Record<string, string>, timeoutMs: number): Promise<EventSocket> {
    const url = websocketUrl(httpUrl);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
      const refuse = (message: string, closeCode?: number) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new ClientError(closeCode === undefined ? { code: 'socket' } : { code: 'socket', closeCode }, message));
      };
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve(new EventSocket(ws, timeoutMs));
      });
      ws.once('unexpected-response', (_req, res) => refuse(`${url}: the node refused the WebSocket (HTTP ${res.statusCode ?? '?'})`));
      ws.once('error', (e) => refuse(`${url}: ${e.message}`));
      ws.once('close', (code) => refuse(`${url}: closed during the handshake`, code));
    });
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** No subscription, no subscribe and no request in flight. */
  get idle(): boolean {
    return this.handlers.size === 0 && this.subscribesInFlight === 0 && this.pending.size === 0;
  }

  request(method: string, params: Record<string, unknown>): Promise<unknown> {
    if (this.ended) return Promise.reject(new ClientError({ code: 'socket' }, `${method}: the WebSocket is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError({ code: 'timeout', timeoutMs: this.timeoutMs }, `${method}: no answer over the WebSocket within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Subscribes; `handler` may be called before this resolves. Resolves with the subscription id. */
  async subscribe(query: Record<string, unknown>, handler: SubscriptionHandler): Promise<string> {
    this.subscribesInFlight++;
    let id: string;
    try {
      const result = await this.request('subscribe', { query });
      const sub = isObject(result) ? result['subscription'] : undefined;
      if (typeof sub !== 'string') throw new ClientError({ code: 'bad-response', method: 'subscribe' }, 'subscribe: the answer has no subscription id');
      id = sub;
    } finally {
      this.subscribesInFlight--;
    }
    this.handlers.set(id, handler);
    // Hand over what arrived for this id before the answer, in order.
    for (let i = 0; i < this.early.length; ) {
      const held = this.early[i] as { id: string; result: unknown };
      if (held.id === id) {
        this.early.splice(i, 1);
        handler.onEvent(held.result);
      } else i++;
    }
    if (this.subscribesInFlight === 0) this.early.length = 0;
    return id;
  }

  /** Ends a subscription (its handler's onEnd gets undefined). Harmless when already ended. */
  async unsubscribe(id: string): Promise<void> {
    const handler = this.handlers.get(id);
    if (handler === undefined) return;
    this.handlers.delete(id);
    handler.onEnd(undefined);
    if (!this.ended) await this.request('unsubscribe', { subscription: id }).catch(() => {});
  }

  /** Closes the socket; live subscriptions end without an error. */
  close(): void {
    if (this.ended) return;
    this.end(undefined);
    this.ws.close(1000, 'client closing');
  }

  private onMessage(data: WebSocket.RawData): void {
    let message: unknown;
    try {
      message = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
    } catch {
      return;
    }
    if (!isObject(message)) return;
    if (message['method'] === 'subscription') {
      const params = message['params'];
      if (!isObject(params) || typeof params['subscription'] !== 'string') return;
      const id = params['subscription'];
      const handler = this.handlers.get(id);
      if (handler !== undefined) handler.onEvent(params['result']);
      else if (this.subscribesInFlight > 0 && this.early.length < MAX_EARLY_NOTIFICATIONS) this.early.push({ id, result: params['result'] });
      return;
    }
    const id = message['id'];
    const pending = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (pending === undefined) return;
    this.pending.delete(id as number);
    clearTimeout(pending.timer);
    const error = message['error'];
    if (isObject(error) && typeof error['code'] === 'number' && typeof error['message'] === 'string') {
      pending.reject(rpcFailure(pending.method, error['code'], error['message'], error['data']));
    } else if ('result' in message) {
      pending.resolve(message['result']);
    } else {
      pending.reject(new ClientError({ code: 'bad-response', method: pending.method }, `${pending.method}: not a JSON-RPC response`));
    }
  }

  private end(error: ClientError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const failure = error ?? new ClientError({ code: 'closed' }, 'the client closed the WebSocket');
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(failure);
    }
    this.pending.clear();
    const handlers = [...this.handlers.values()];
    this.handlers.clear();
    this.early.length = 0;
    for (const h of handlers) h.onEnd(error);
    if (error !== undefined) this.ws.terminate();
  }
}
