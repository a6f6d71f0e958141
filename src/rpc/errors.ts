/**
 * Every error a client of the JSON-RPC endpoint can see, in one place.
 *
 * JSON-RPC error codes (the `error.code` of a response):
 *
 * | code   | name             | meaning                                                                                 | `error.data`                         |
 * |--------|------------------|-----------------------------------------------------------------------------------------|--------------------------------------|
 * | -32700 | parse error      | the body is not UTF-8 JSON                                                              | —                                    |
 * | -32600 | invalid request  | not a JSON-RPC 2.0 request object, an empty or oversized batch, or (with an HTTP error status, below) a request refused at the HTTP level | —             |
 * | -32601 | method not found | no such method                                                                          | —                                    |
 * | -32602 | invalid params   | the message names the bad param: "Invalid params: tx: must be base64"                  | `{ param }`                          |
 * | -32603 | internal error   | the node failed; details are logged, not sent                                           | —                                    |
 * | -32001 | unauthorized     | a method that changes the node (broadcast_tx_*) was called without the node's bearer token (`Authorization: Bearer <token>`; see auth.ts) | — |
 * | -32010 | tx rejected      | the tx was refused by admission; `data.code` is a MempoolErrorCode (see src/mempool/errors.ts): bad-signature, bad-nonce, ... | `{ code, message }` |
 * | -32011 | mempool full     | backpressure: the tx may be valid, retry later                                          | `{ code: 'mempool-full', message }`  |
 * | -32012 | commit timeout   | broadcast_tx_commit admitted the tx but it did not commit in time. The tx may still commit: do NOT resubmit a different tx; ask by hash, or resubmit the same bytes (harmless) | `{ hash, timeout_ms }` |
 * | -32013 | request timeout  | the method did not finish within the server's requestTimeoutMs                          | —                                    |
 * | -32014 | too many subscriptions | WebSocket `subscribe` beyond the per-connection limit; unsubscribe first        | `{ limit }`                          |
 * | -32015 | not found        | a read asked for what this node does not have (yet): a height above its latest block, an unknown block or tx hash. `data.param` names the param; for heights, `data.latest_height` says how far the node is | `{ param, latest_height? }` |
 *
 * HTTP level (the body is still a JSON-RPC error response with id null, so a client needs
 * one code path): 200 for every JSON-RPC response including errors; 204 with no body when
 * every request was a notification; 404 for a path other than `/` (and `/health`); 405 for
 * a method other than POST (GET is allowed on /health only; an Allow header says which);
 * 413 when the body exceeds maxBodyBytes (the connection is then closed); 415 when the
 * Content-Type is not application/json; 408 (Node's) when the request is not received
 * within requestTimeoutMs. GET /health answers 200 when healthy and 503 when not.
 */

export const RPC_ERROR = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  unauthorized: -32001,
  txRejected: -32010,
  mempoolFull: -32011,
  commitTimeout: -32012,
  requestTimeout: -32013,
  subscriptionLimit: -32014,
  notFound: -32015,
} as const;

export type RpcErrorCode = (typeof RPC_ERROR)[keyof typeof RPC_ERROR];

/** The `error` member of a JSON-RPC response. */
export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/**
 * Thrown by a method handler to answer with a specific JSON-RPC error. Any other exception
 * from a handler becomes -32603 with a generic message (the details go to the log).
 */
export class RpcError extends Error {
  constructor(
    readonly code: RpcErrorCode,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  toObject(): RpcErrorObject {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}
