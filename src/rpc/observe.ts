/**
 * What the RPC server reports to, and serves from, the node's metrics — as interfaces, so
 * this layer does not depend on the metrics library or the node (node/metrics.ts
 * implements both).
 */

export type RpcTransport = 'http' | 'ws';

/**
 * Method labels for calls that never reached a method: a call naming no known method is
 * counted as UNKNOWN_METHOD (never by the name the client sent, which would let anyone
 * grow the metrics without bound), and a request that is not valid JSON-RPC (or is
 * refused at the HTTP level) as INVALID_REQUEST.
 */
export const UNKNOWN_METHOD = '(unknown)';
export const INVALID_REQUEST = '(invalid)';

export interface RpcObserver {
  /**
   * One JSON-RPC call answered (or, for a notification, run). `code` is 0 on success,
   * else the JSON-RPC error code (errors.ts). `method` is a method table name, or one of
   * the labels above.
   */
  rpcCall(transport: RpcTransport, method: string, code: number): void;
  /** A WebSocket subscriber was cut for not reading its events. */
  slowConsumer(): void;
}

/** GET /metrics: the text a scraper reads, and its Content-Type. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

export const noopObserver: RpcObserver = { rpcCall: () => {}, slowConsumer: () => {} };
