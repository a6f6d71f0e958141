/**
 * Every way the store refuses. Callers switch on `code`; the message is for people and
 * says what and where (heights, hashes, paths).
 */
export type StoreErrorCode =
  /** Another process (or another handle in this one) holds the LevelDB lock. */
  | 'in-use'
  /** The store was initialised for a different genesis. */
  | 'foreign-chain'
  /** Stored data fails a check: undecodable, mismatched index, bad certificate, wrong root. */
  | 'corrupt'
  /** The store does not exist and the caller asked not to create it. */
  | 'missing'
  /** LevelDB or the filesystem failed. */
  | 'io'
  /** append: the block's height is not tip + 1. */
  | 'not-next'
  /** append: the block's parent hash is not the tip's hash. */
  | 'bad-parent'
  /** append: the certificate is not for this block's (height, hash). */
  | 'cert-mismatch'
  /** The store has been closed. */
  | 'closed';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
