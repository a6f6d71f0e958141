import type { Result } from '../codec/result.js';

/**
 * A minimal JSON-RPC client over Node's fetch (undici keeps connections alive between
 * calls). Used by ledgerctl and the tests. It never throws for anything the network or
 * the server does: every failure is an RpcCallError with a discriminated `kind`.
 */

export type RpcCallError =
  /** The request never got an HTTP answer: refused, reset, DNS, ... */
  | { readonly kind: 'transport'; readonly message: string }
  /** No answer within timeoutMs. */
  | { readonly kind: 'timeout'; readonly message: string }
  /** An HTTP error status without a JSON-RPC error in the body. */
  | { readonly kind: 'http'; readonly status: number; readonly message: string }
  /** The body is not a JSON-RPC response (or is too large). */
  | { readonly kind: 'bad-response'; readonly message: string }
  /** The server answered with a JSON-RPC error (codes in errors.ts). */
  | { readonly kind: 'rpc'; readonly code: number; readonly message: string; readonly data?: unknown; readonly status: number };

export interface RpcCallOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** Default 16 MiB. */
  readonly maxResponseBytes?: number;
  /** Sent as "Authorization: Bearer <token>" (the node's rpcAuthToken, for broadcast_tx_*). */
  readonly token?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

let nextId = 1;

function fail(error: RpcCallError): Result<never, RpcCallError> {
  return { ok: false, error };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a response body up to `limit` bytes; undefined (and the body cancelled) past it. */
export async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | undefined> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** Calls `method` with `params` at `url` (such as http://127.0.0.1:26657) and returns its result. */
export async function rpcCall(url: string, method: string, params?: unknown, options: RpcCallOptions = {}): Promise<Result<unknown, RpcCallError>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const id = nextId++;
  const request = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
  let response: Response;
  let bytes: Uint8Array | undefined;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: options.token === undefined || options.token === '' ? { 'Content-Type': 'application/json' } : { 'Content-Type': 'application/json', Authorization: `Bearer ${options.token}` },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
    bytes = await readLimited(response.body, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  } catch (e) {
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return fail({ kind: 'timeout', message: `no answer from ${url} within ${timeoutMs} ms` });
    const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
    const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : String(e);
    return fail({ kind: 'transport', message: `${url}: ${detail}` });
  }
  if (bytes === undefined) return fail({ kind: 'bad-response', message: 'response exceeds the size limit' });

  let body: unknown;
  try {
    body = bytes.length === 0 ? undefined : JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    body = undefined;
  }
  if (isPlainObject(body) && isPlainObject(body['error'])) {
    const error = body['error'];
    const code = error['code'];
    const message = error['message'];
    if (typeof code === 'number' && typeof message === 'string') {
      return fail(
        'data' in error
          ? { kind: 'rpc', code, message, data: error['data'], status: response.status }
          : { kind: 'rpc', code, message, status: response.status },
      );
    }
  }
  if (!response.ok) return fail({ kind: 'http', status: response.status, message: `HTTP ${response.status} ${response.statusText}` });
  if (!isPlainObject(body) || body['jsonrpc'] !== '2.0' || !('result' in body)) {
    return fail({ kind: 'bad-response', message: 'the answer is not a JSON-RPC 2.0 response' });
  }
  if (body['id'] !== id) return fail({ kind: 'bad-response', message: `the answer is for id ${JSON.stringify(body['id'])}, not ${id}` });
  return { ok: true, value: body['result'] };
}

/** A client's view of an RpcCallError, for CLI output. */
export function describeCallError(error: RpcCallError): string {
  switch (error.kind) {
    case 'rpc':
      return error.data === undefined ? `RPC error ${error.code}: ${error.message}` : `RPC error ${error.code}: ${error.message} ${JSON.stringify(error.data)}`;
    case 'http':
      return error.message;
    default:
      return `${error.kind}: ${error.message}`;
  }
}
