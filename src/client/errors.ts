/**
 * Every failure a LedgerClient reports is a ClientError: one class, with a discriminated
 * `code` and the data that goes with it in `info`, so a caller switches on codes and never
 * parses messages:
 *
 *   try { await client.verifiedAccount(addr, genesis) }
 *   catch (e) {
 *     if (e instanceof ClientError && e.info.code === 'verification-failed') console.error(e.info.check);
 *   }
 */

/** What a verification step checks; `verification-failed` names the first that failed. */
export type VerificationCheck =
  /** The node's header names another chain than the genesis. */
  | 'chain-id'
  /** The certificate, header or proof is for another height than asked. */
  | 'height'
  /** The header does not hash to the block hash the node gave (and the certificate signs). */
  | 'header-hash'
  /** The certificate is not 2f+1 valid COMMIT signatures of genesis validators over this block. */
  | 'certificate'
  /** The proof is against another state root than the certified header's. */
  | 'state-root'
  /** The state proof does not lead from the value to the certified state root. */
  | 'state-proof'
  /** The value the node reported is not the value its proof proves. */
  | 'value'
  /** The proof is for another state key than the one asked. */
  | 'state-key'
  /** The tx bytes do not hash to the asked hash. */
  | 'tx-hash'
  /** The tx proof is against another tx root than the certified header's. */
  | 'tx-root'
  /** The Merkle inclusion proof does not lead from the tx hash to the certified tx root. */
  | 'tx-proof'
  /** The block's txs are not the ones its certified header commits to. */
  | 'block-txs'
  /** The node sent no proof although one was asked for. */
  | 'missing-proof';

export type ClientErrorInfo =
  /** The request never got an HTTP answer (refused, reset, DNS...). */
  | { readonly code: 'transport'; readonly url: string }
  /** No answer within the timeout. */
  | { readonly code: 'timeout'; readonly timeoutMs: number }
  /** An HTTP error status without a JSON-RPC error in the body. */
  | { readonly code: 'http'; readonly status: number }
  /** The answer is not what the method returns (not JSON-RPC, a field missing or malformed). */
  | { readonly code: 'bad-response'; readonly method: string }
  /** A JSON-RPC error not covered by a more specific code below (src/rpc/errors.ts lists them). */
  | { readonly code: 'rpc'; readonly rpcCode: number; readonly data?: unknown }
  /** The node has no such block, tx or height (yet); `latestHeight` when the node said. */
  | { readonly code: 'not-found'; readonly param?: string; readonly latestHeight?: number }
  /** Admission refused the tx; `reason` is the mempool's code (bad-nonce, bad-signature, ...). */
  | { readonly code: 'tx-rejected'; readonly reason: string }
  /** The node wants its bearer token for this method (broadcast_tx_*): pass `token`. */
  | { readonly code: 'unauthorized' }
  /** Backpressure: the tx may be valid, retry later. */
  | { readonly code: 'mempool-full' }
  /** The tx was admitted but not seen committed in time; it may still commit: ask by hash, or resubmit the same tx (harmless). */
  | { readonly code: 'commit-timeout'; readonly hash: string; readonly timeoutMs: number }
  /** What the node sent does not verify against the genesis: `check` says which step failed. */
  | { readonly code: 'verification-failed'; readonly check: VerificationCheck }
  /** The WebSocket could not be opened, or closed under a live subscription. */
  | { readonly code: 'socket'; readonly closeCode?: number }
  /** The caller passed something unusable (a bad address, a key that is not the sender...). */
  | { readonly code: 'invalid-argument'; readonly argument: string }
  /** The client was closed. */
  | { readonly code: 'closed' };

export type ClientErrorCode = ClientErrorInfo['code'];

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;

  constructor(
    readonly info: ClientErrorInfo,
    message: string,
  ) {
    super(message);
    this.code = info.code;
  }
}

export function verificationFailed(check: VerificationCheck, message: string): ClientError {
  return new ClientError({ code: 'verification-failed', check }, `verification failed (${check}): ${message}`);
}

export function badResponse(method: string, why: string): ClientError {
  return new ClientError({ code: 'bad-response', method }, `${method}: unexpected answer: ${why}`);
}

export function invalidArgument(argument: string, why: string): ClientError {
  return new ClientError({ code: 'invalid-argument', argument }, `${argument}: ${why}`);
}
