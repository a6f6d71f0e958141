import type { NodeApi } from './api.js';
import { RPC_ERROR, RpcError, type RpcErrorObject } from './errors.js';
import type { Logger, MethodContext, MethodTable } from './methods.js';
import { INVALID_REQUEST, UNKNOWN_METHOD } from './observe.js';

/**
 * JSON-RPC 2.0 processing, apart from HTTP: a parsed body in, the response value out
 * (undefined when nothing is to be sent: a notification, or a batch of them).
 *
 * - A request is an object with jsonrpc "2.0", a string method, optional structured
 *   params, and an id that is a string, a number or null; without an id it is a
 *   notification, which is run but never answered (not even with an error, unless the
 *   request is invalid as a whole, which is answered with id null as the spec asks).
 * - A batch is a non-empty array of at most maxBatch requests; its entries run
 *   concurrently and the answers keep the requests' order.
 * - Every handler call is bounded by the deadline: past it the call is answered -32013
 *   (the handler's own result, if it ever comes, is dropped).
 */

export type RpcId = string | number | null;

export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly result: unknown }
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly error: RpcErrorObject };

export interface DispatchOptions {
  readonly table: MethodTable;
  readonly api: NodeApi;
  readonly maxBatch: number;
  /** Each call's time budget. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /**
   * Hears every call's outcome (metrics): the method's table name (or UNKNOWN_METHOD /
   * INVALID_REQUEST, see observe.ts) and 0 or the error code. Must not throw.
   */
  readonly observe?: (method: string, code: number) => void;
  /**
   * Whether the caller presented the server's bearer token (or the server has none).
   * false: methods marked `write` are refused -32001. Default true.
   */
  readonly authorized?: boolean;
}

export function errorResponse(id: RpcId, code: number, message: string, data?: unknown): RpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is RpcId {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

export async function dispatch(body: unknown, options: DispatchOptions): Promise<RpcResponse | RpcResponse[] | undefined> {
  if (!Array.isArray(body)) return callOne(body, options);
  if (body.length === 0 || body.length > options.maxBatch) {
    options.observe?.(INVALID_REQUEST, RPC_ERROR.invalidRequest);
    if (body.length === 0) return errorResponse(null, RPC_ERROR.invalidRequest, 'Invalid Request: empty batch');
    return errorResponse(null, RPC_ERROR.invalidRequest, `Invalid Request: batch of ${body.length} exceeds the limit of ${options.maxBatch}`);
  }
  const answers = await Promise.all(body.map((request) => callOne(request, options)));
  const sent = answers.filter((a): a is RpcResponse => a !== undefined);
  return sent.length === 0 ? undefined : sent;
}

async function callOne(request: unknown, options: DispatchOptions): Promise<RpcResponse | undefined> {
  const outcome = await checkAndRun(request, options);
  options.observe?.(outcome.method, outcome.code);
  return outcome.response;
}

interface Outcome {
  /** The label the call is counted under. */
  readonly method: string;
  /** 0 on success, else the JSON-RPC error code (also for a notification, which gets no response). */
  readonly code: number;
  readonly response: RpcResponse | undefined;
}

async function checkAndRun(request: unknown, options: DispatchOptions): Promise<Outcome> {
  const invalid = (response: RpcResponse): Outcome => ({ method: INVALID_REQUEST, code: RPC_ERROR.invalidRequest, response });
  if (!isPlainObject(request)) return invalid(errorResponse(null, RPC_ERROR.invalidRequest, 'Invalid Request: not an object'));
  const hasId = Object.hasOwn(request, 'id');
  if (hasId && !isId(request['id'])) {
    return invalid(errorResponse(null, RPC_ERROR.invalidRequest, 'Invalid Request: id must be a string, a number or null'));
  }
  const id = hasId ? (request['id'] as RpcId) : null;
  if (request['jsonrpc'] !== '2.0') return invalid(errorResponse(id, RPC_ERROR.invalidRequest, 'Invalid Request: jsonrpc must be "2.0"'));
  const name = request['method'];
  if (typeof name !== 'string') return invalid(errorResponse(id, RPC_ERROR.invalidRequest, 'Invalid Request: method must be a string'));
  const rawParams = request['params'];
  if (rawParams !== undefined && typeof rawParams !== 'object') {
    return invalid(errorResponse(id, RPC_ERROR.invalidRequest, 'Invalid Request: params must be an object or an array'));
  }

  const answer = await run(name, rawParams, options);
  const method = options.table.has(name) ? name : UNKNOWN_METHOD;
  const code = 'error' in answer ? answer.error.code : 0;
  if (!hasId) return { method, code, response: undefined };
  const response: RpcResponse =
    'error' in answer ? errorResponse(id, answer.error.code, answer.error.message, answer.error.data) : { jsonrpc: '2.0', id, result: answer.result };
  return { method, code, response };
}

type Answer = { readonly result: unknown } | { readonly error: RpcErrorObject };

async function run(name: string, rawParams: unknown, options: DispatchOptions): Promise<Answer> {
  // A Map, not an object: "constructor" or "__proto__" are simply not found.
  const method = options.table.get(name);
  if (method === undefined) return { error: { code: RPC_ERROR.methodNotFound, message: `Method not found: ${name.slice(0, 100)}` } };
  if (method.write === true && options.authorized === false) {
    return { error: { code: RPC_ERROR.unauthorized, message: `unauthorized: ${name} needs the header "Authorization: Bearer <token>"` } };
  }
  // `"params": null` is read as no params: some clients send it, and it is unambiguous.
  const parsed = method.params.parse(rawParams === null ? undefined : rawParams);
  if (!parsed.ok) {
    return { error: { code: RPC_ERROR.invalidParams, message: `Invalid params: ${parsed.error.message}`, data: { param: parsed.error.param } } };
  }

  const deadline = Date.now() + options.timeoutMs;
  const ctx: MethodContext = { timeLeftMs: () => deadline - Date.now(), logger: options.logger };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Answer>((resolve) => {
    timer = setTimeout(() => resolve({ error: { code: RPC_ERROR.requestTimeout, message: `${name} did not finish within ${options.timeoutMs} ms` } }), options.timeoutMs);
  });
  const handled = (async (): Promise<Answer> => ({ result: await method.handler(parsed.value, options.api, ctx) }))().catch((e: unknown): Answer => {
    if (e instanceof RpcError) return { error: e.toObject() };
    options.logger.warn({ method: name, err: e }, 'RPC handler failed');
    return { error: { code: RPC_ERROR.internalError, message: 'Internal error' } };
  });
  try {
    return await Promise.race([handled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
