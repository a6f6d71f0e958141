/**
 * JSON-RPC over HTTP for the client: one POST per call, a timeout, a bound on the answer's
 * size, an optional bearer token (for a node behind an authenticating proxy), and every
 * failure turned into a ClientError whose code says what happened, JSON-RPC error codes
 * included (src/rpc/errors.ts).
 */
import { RPC_ERROR } from '../rpc/errors.js';
import { readLimited } from '../rpc/client.js';
import { badResponse, ClientError } from './errors.js';

export interface TransportOptions {
  /** The node's JSON-RPC URL, such as http://127.0.0.1:26657. */
  readonly url: string;
  /** Per call; default 30 s. */
  readonly timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** The largest answer accepted; default 64 MiB (a full block of txs fits). */
  readonly maxResponseBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * A JSON-RPC error object as the client reports it: the specific codes get their own
 * ClientError code; the message reads "<method>: RPC error <code>: <message>".
 */
export function rpcFailure(method: string, code: number, message: string, data: unknown): ClientError {
  const d = isObject(data) ? data : {};
  const text = `${method}: RPC error ${code}: ${message}`;
  switch (code) {
    case RPC_ERROR.txRejected: {
      const detail = typeof d['message'] === 'string' ? `${text} (${d['message']})` : text;
      return new ClientError({ code: 'tx-rejected', reason: typeof d['code'] === 'string' ? d['code'] : 'unknown' }, detail);
    }
    case RPC_ERROR.unauthorized:
      return new ClientError({ code: 'unauthorized' }, `${text} (give the client the node's token)`);
    case RPC_ERROR.mempoolFull:
      return new ClientError({ code: 'mempool-full' }, text);
    case RPC_ERROR.commitTimeout:
      return new ClientError(
        { code: 'commit-timeout', hash: typeof d['hash'] === 'string' ? d['hash'] : '', timeoutMs: typeof d['timeout_ms'] === 'number' ? d['timeout_ms'] : 0 },
        text,
      );
    case RPC_ERROR.notFound: {
      const info: { code: 'not-found'; param?: string; latestHeight?: number } = { code: 'not-found' };
      if (typeof d['param'] === 'string') info.param = d['param'];
      if (typeof d['latest_height'] === 'number') info.latestHeight = d['latest_height'];
      return new ClientError(info, text);
    }
    default:
      return new ClientError(data === undefined ? { code: 'rpc', rpcCode: code } : { code: 'rpc', rpcCode: code, data }, data === undefined ? text : `${text} ${JSON.stringify(data).slice(0, 300)}`);
  }
}

export class HttpTransport {
  private nextId = 1;
  readonly url: string;
  readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly maxResponseBytes: number;

  constructor(options: TransportOptions) {
    this.url = options.url;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.headers = { 'Content-Type': 'application/json' };
    if (options.token !== undefined) this.headers['Authorization'] = `Bearer ${options.token}`;
  }

  /** The headers a WebSocket to the same node sends (the token). */
  authHeaders(): Record<string, string> {
    const auth = this.headers['Authorization'];
    return auth === undefined ? {} : { Authorization: auth };
  }

  /** Calls `method` and resolves with its `result`, or rejects with a ClientError. */
  async call(method: string, params: Record<string, unknown> = {}, timeoutMs = this.timeoutMs): Promise<unknown> {
    const id = this.nextId++;
    let response: Response;
    let bytes: Uint8Array | undefined;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      bytes = await readLimited(response.body, this.maxResponseBytes);
    } catch (e) {
      const name = (e as { name?: unknown }).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ClientError({ code: 'timeout', timeoutMs }, `${method}: no answer from ${this.url} within ${timeoutMs} ms`);
      }
      const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
      const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : String(e);
      throw new ClientError({ code: 'transport', url: this.url }, `${method}: cannot reach ${this.url}: ${detail}`);
    }
    if (bytes === undefined) throw badResponse(method, `the answer exceeds ${this.maxResponseBytes} bytes`);
    let body: unknown;
    try {
      body = bytes.length === 0 ? undefined : JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch {
      body = undefined;
    }
    if (isObject(body) && isObject(body['error'])) {
      const error = body['error'];
      if (typeof error['code'] === 'number' && typeof error['message'] === 'string') throw rpcFailure(method, error['code'], error['message'], error['data']);
    }
    if (!response.ok) throw new ClientError({ code: 'http', status: response.status }, `${method}: HTTP ${response.status} ${response.statusText} from ${this.url}`);
    if (!isObject(body) || body['jsonrpc'] !== '2.0' || !('result' in body)) throw badResponse(method, 'not a JSON-RPC 2.0 response');
    if (body['id'] !== id) throw badResponse(method, `the answer is for id ${JSON.stringify(body['id'])}, not ${id}`);
    return body['result'];
  }
}
